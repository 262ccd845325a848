import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { renderMarkdown, verdict } from '../../src/tune/report.js';
import { renderHtml } from '../../src/tune/html.js';
import { accuracySpeedSvg, memoryLatencySvg, COLOURS } from '../../src/tune/charts.js';
import type { Candidate, CandidateSpec, TuneReport } from '../../src/tune/types.js';

const MiB = 2 ** 20;

function spec(o: Partial<CandidateSpec> = {}): CandidateSpec {
  return { prune: 1, quant: 'none', style: 'ort', threads: 2, batch: 8, ...o };
}

/** A measured candidate: img/s, p95 ms, peak MiB, size MB, top-1 drop (points). */
function cand(id: string, label: string, ips: number, p95: number, memMiB: number, sizeMB: number, drop: number, o: Partial<Candidate> = {}): Candidate {
  const baseTop1 = 0.815;
  return {
    id, label, spec: spec(), artifactId: `a-${id}`, sizeBytes: sizeMB * 1e6, status: 'ok',
    accuracy: { images: 10000, top1: baseTop1 - drop / 100, baselineTop1: baseTop1, drop, agreement: 0.97, discordant: [40, 12], pValue: 0.0123, fidelity: 'full' },
    quality: null,
    speed: { imagesPerSecond: ips, relSpread: 0.04, ratio: ips / 12.4, ratioRange: [ips / 12.4 - 0.05, ips / 12.4 + 0.04], p50Ms: p95 * 0.92, p95Ms: p95, peakRssBytes: memMiB * MiB, rounds: 5 },
    commands: [`vitopt quantize model.onnx --mode dynamic -o ${id}.onnx`],
    ...o,
  };
}

function sample(): TuneReport {
  const baseline = cand('base', 'baseline fp32 · ort · b8 t2', 12.4, 700, 700, 346, 0, { commands: [] });
  // As src/tune/tune.ts builds it: the baseline is a candidate too (here feasible, and on the front by accuracy).
  const candidates: Candidate[] = [
    baseline,
    cand('c1', 'prune 0.70 + dynamic INT8 · ort · b8 t2', 38.44, 220, 287, 93.4, 0.3,
      { spec: spec({ prune: 0.7, quant: 'dynamic' }), commands: ['vitopt prune model.onnx --keep 0.7 -o p70.onnx', 'vitopt quantize p70.onnx --mode dynamic -o p70-int8.onnx'] }),
    cand('c2', 'dynamic INT8 · ort · b8 t2', 25.1, 340, 330, 88, 0.1),
    cand('c3', 'static INT8 (percentile) · ort · b8 t2', 24.0, 360, 350, 88, 0.35, { spec: spec({ quant: 'static', calibration: 'percentile' }) }),
    cand('c4', 'prune 0.50 + dynamic INT8 · ort · b8 t2', 52.0, 160, 240, 66, 1.8),
    cand('c5', 'fp16 · ort · b8 t2', 6.1, 1400, 520, 173, 0.01),
    cand('c6', 'int4 · ort · b8 t2', 0, 0, 0, 55, 0, { status: 'failed', reason: 'out of memory (RSS 3.1 GiB)', speed: null, accuracy: null }),
    cand('c7', 'prune 0.60 + static INT8 · portable · b8 t2', 0, 0, 0, 80, 1.2,
      { status: 'stopped', reason: 'screen: drop 1.20 pt on 1000 images', speed: null, accuracy: { images: 1000, top1: 0.803, baselineTop1: 0.815, drop: 1.2, agreement: 0.95, discordant: [20, 8], pValue: 0.03, fidelity: 'screen' } }),
    cand('c8', 'prune 0.85 + dynamic INT8 · ort · b16 t2', 31.0, 540, 410, 78, 0.15, { spec: spec({ prune: 0.85, quant: 'dynamic', batch: 16 }) }),
    cand('c9', 'weird <b>& label | pipe', 20.0, 420, 380, 90, 0.2),
  ];
  return {
    tool: 'vitopt tune', version: '0.1.0', date: '2026-12-01T10:00:00.000Z',
    machine: { cpu: 'AMD EPYC 7B13', cores: 2, totalMemBytes: 8 * 2 ** 30, platform: 'linux-x64', node: 'v20.19.0' },
    cpuFlags: ['avx2', 'fma', 'avx512f', 'avx512_vnni'], runtime: 'onnxruntime-node 1.30.0', command: 'vitopt tune vit-b16.onnx --data imagenette --max-drop 0.5 --latency-slo 1000ms',
    model: 'models/vit-b16.onnx', data: 'imagenette (val)', engine: 'cpu', objective: 'throughput',
    constraints: { maxDrop: 0.5, latencySloMs: 1000, memoryBudgetBytes: 2 ** 30 },
    minTop1: 81.0, hasAccuracy: true, baseline,
    naive: { imagesPerSecond: 7.69, ratioToBaseline: 0.62 },
    candidates,
    dropped: [{ what: 'wasm engine', why: 'slower than cpu on this machine by the capability table' }, { what: 'int4 on b16', why: 'MatMulNBits needs avx512 for speed' }],
    decision: {
      rule: 'highest throughput among the feasible; ties (overlapping per-round ratios) go to the smaller drop',
      feasible: ['base', 'c1', 'c2', 'c3', 'c8', 'c9'], front: ['base', 'c1', 'c2', 'c8'], chosen: 'c1',
      ties: [{ ids: ['c1', 'c8'], note: 'c1 chosen: its per-round ratios do not overlap c8\'s' }], nearest: [], binding: null,
    },
    speedup: { sameSettings: 2.71, chosenSettings: 3.1, vsNaive: 5.0 },
    timeline: [{ stage: 'export', seconds: 40 }, { stage: 'compress', seconds: 310 }, { stage: 'screen accuracy', seconds: 220 }, { stage: 'measure speed', seconds: 630 }],
    stoppedEarly: null, notes: ['The machine had 2 cores; speed figures are per 2 threads.'], outputs: ['report.md', 'report.html', 'report.json'],
  };
}

function infeasible(): TuneReport {
  const r = sample();
  r.constraints = { maxDrop: 0.5, latencySloMs: 50 };
  r.decision = {
    rule: r.decision.rule, feasible: [], front: [], chosen: null, ties: [],
    nearest: [
      { id: 'c4', violations: [{ constraint: 'latencySloMs', value: 61.5, limit: 50, relative: 0.23 }, { constraint: 'maxDrop', value: 1.8, limit: 0.5, relative: 2.6 }], total: 2.83 },
      { id: 'c1', violations: [{ constraint: 'latencySloMs', value: 220, limit: 50, relative: 3.4 }], total: 3.4 },
    ],
    binding: 'latencySloMs',
  };
  r.speedup = { sameSettings: null, chosenSettings: null, vsNaive: null };
  return r;
}

function noAccuracy(): TuneReport {
  const r = sample();
  r.hasAccuracy = false; r.minTop1 = null; r.data = null;
  r.constraints = { latencySloMs: 1000 };
  for (const c of [r.baseline, ...r.candidates]) {
    c.accuracy = null;
    c.quality = { images: 64, agreement: c.id === 'c1' ? 0.98 : 0.99, sqnrDb: c.id === 'c1' ? 31.04 : 35 };
  }
  r.baseline.quality = null;
  return r;
}

function allOutputs(r: TuneReport): string[] {
  return [verdict(r), renderMarkdown(r), renderHtml(r), accuracySpeedSvg(r), memoryLatencySvg(r)];
}

function assertClean(r: TuneReport, what: string): void {
  for (const s of allOutputs(r)) {
    for (const bad of ['NaN', 'undefined', 'Infinity', 'null']) assert.ok(!s.includes(bad), `${what}: '${bad}' in output:\n${s.slice(Math.max(0, s.indexOf(bad) - 200), s.indexOf(bad) + 100)}`);
    assert.equal((s.match(/<svg/g) ?? []).length, (s.match(/<\/svg>/g) ?? []).length, `${what}: unbalanced <svg>`);
  }
}

/** The circles of one chart, as attribute maps. */
function circles(svg: string): Record<string, string>[] {
  return [...svg.matchAll(/<circle ([^>]*)>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));
}

test('verdict: feasible — throughput, top-1 change, memory and size against the baseline, the constraints', () => {
  const v = verdict(sample());
  assert.equal(v, 'prune 0.70 + dynamic INT8 · ort · b8 t2: 3.10× the baseline\'s throughput at −0.30 points top-1, 41% of its memory, 27% of its size, ' +
    'under: top-1 drop ≤ 0.5 pt, p95 latency ≤ 1000 ms, peak memory ≤ 1 GiB.');
});

test('verdict: latency and size objectives lead with their own figure', () => {
  const r = sample();
  r.objective = 'latency';
  assert.match(verdict(r), /^prune 0\.70 \+ dynamic INT8 · ort · b8 t2: p95 latency 220 ms \(0\.31× the baseline's 700 ms\) at −0\.30 points top-1, 3\.10× its throughput, 41% of its memory, 27% of its size, under: /);
  r.objective = 'size';
  assert.match(verdict(r), /: 27% of the baseline's size at −0\.30 points top-1, 3\.10× its throughput, 41% of its memory, under: /);
  r.constraints = {};
  assert.match(verdict(r), /, with no constraints set\.$/);
});

test('verdict: infeasible — the binding constraint and how far the nearest candidate misses it', () => {
  assert.equal(verdict(infeasible()), 'No candidate meets the constraints; the binding constraint is p95 latency ≤ 50 ms: ' +
    'the nearest, prune 0.50 + dynamic INT8 · ort · b8 t2, misses it by 23% (and top-1 drop ≤ 0.5 pt by 260%).');
  const r = sample();
  for (const c of r.candidates) if (c.id !== 'base') { c.status = 'failed'; c.speed = null; c.reason = 'crashed'; }
  r.decision = { ...infeasible().decision, nearest: [], binding: null };
  assert.equal(verdict(r), 'No candidate meets the constraints: none of the 9 candidates was fully measured (9 failed).');
});

test('the baseline itself chosen: the verdict says keep it, the charts ring the diamond, the table marks it', () => {
  const r = sample();
  r.decision = { ...r.decision, chosen: 'base', ties: [] };
  r.speedup = { sameSettings: null, chosenSettings: null, vsNaive: null };
  assert.equal(verdict(r), 'Keep the baseline: no candidate beats it on throughput, under: top-1 drop ≤ 0.5 pt, p95 latency ≤ 1000 ms, peak memory ≤ 1 GiB.');
  for (const svg of [accuracySpeedSvg(r), memoryLatencySvg(r)]) {
    const rings = circles(svg).filter((c) => c.class === 'ring');
    assert.equal(rings.length, 1);
    assert.equal(rings[0]!['data-id'], 'base');
    assert.ok(svg.includes('baseline (chosen)'));
  }
  assert.match(renderMarkdown(r), /\| baseline fp32 · ort · b8 t2 \| baseline, chosen \|/);
  assert.ok(renderHtml(r).includes('<span class="pill baseline">baseline</span> <span class="pill chosen">chosen</span>'));
  assertClean(r, 'baseline chosen');
});

test('verdict: without labels — SQNR and agreement instead of accuracy', () => {
  assert.equal(verdict(noAccuracy()), 'prune 0.70 + dynamic INT8 · ort · b8 t2: 3.10× the baseline\'s throughput, 41% of its memory, 27% of its size, ' +
    'under: p95 latency ≤ 1000 ms (random weights: no accuracy; output SQNR 31.0 dB, agreement 98.0%).');
});

test('markdown: verdict first, the before/after table, every candidate, dropped points, time and machine', () => {
  const r = sample();
  const md = renderMarkdown(r);
  assert.ok(md.indexOf('3.10×') < md.indexOf('## Before and after'));
  assert.ok(md.includes('|  | model | batch · threads | img/s | p50 ms | p95 ms | peak MiB | size MB | top-1 % |'));
  assert.match(md, /\| baseline \| fp32, exported as given \| b8 t2 \| 12\.4 \| 644 \| 700 \| 700 \| 346 \| 81\.50 \|/);
  assert.match(md, /\| naive path \| .* \| 7\.69 \(0\.62×\) \|/);
  assert.match(md, /\| change \| chosen vs baseline \|  \| 3\.10× \| 0\.31× \| 0\.31× \| 41% \| 27% \| −0\.30 pt \|/);
  assert.ok(md.includes('2.71× the baseline\'s throughput at the same batch and threads (b8 t2)'));
  assert.ok(md.includes('5.00× the naive path'));
  for (const c of r.candidates) assert.ok(md.includes(c.label.replace(/\|/g, '\\|')), c.label);
  assert.ok(md.includes('38.4 ±2.0%'), 'img/s with its spread');
  assert.ok(md.includes('−0.30 (p 0.012)'));
  assert.ok(md.includes('`vitopt prune model.onnx --keep 0.7 -o p70.onnx`'));
  assert.ok(md.includes('failed: out of memory (RSS 3.1 GiB)'));
  assert.ok(md.includes('wasm engine: slower than cpu'));
  assert.match(md, /\| measure speed \| 10 min 30 s \| 53% \|/);
  assert.ok(md.includes('avx512_vnni') && md.includes('onnxruntime-node 1.30.0') && md.includes('v20.19.0'));
  assert.ok(md.includes('Decision rule: highest throughput') && md.includes('Tie: prune 0.70'));
  assert.ok(md.includes('top-1 ≥ 81.00%'));
  // order of sections
  const order = ['## Before and after', '## Constraints and decision', '## Pareto front', '## All candidates', '## Dropped', '## Where the time went', '## Machine'];
  const at = order.map((h) => md.indexOf(h));
  assert.deepEqual([...at].sort((a, b) => a - b), at);
  assert.ok(at.every((i) => i > 0));

  const inf = renderMarkdown(infeasible());
  assert.ok(inf.includes('Binding constraint: p95 latency ≤ 50 ms'));
  assert.ok(inf.includes('p95 latency 61.5 ms vs limit 50 ms, 23% off'));
});

test('html: self-contained, escaped, two charts, sections in order', () => {
  const html = renderHtml(sample());
  const urls = [...html.matchAll(/https?:\/\/[^"'\s<>]*/g)].map((m) => ({ url: m[0], before: html.slice(Math.max(0, m.index! - 7), m.index!) }));
  assert.ok(urls.length > 0);
  for (const u of urls) assert.equal(u.before, 'xmlns="', `a link outside an xmlns attribute: ${u.url}`);
  assert.ok(!/<script[^>]*src/i.test(html) && !/<link/i.test(html) && !/<img/i.test(html) && !/@import|url\(/i.test(html));
  assert.equal((html.match(/<svg/g) ?? []).length, 2);
  assert.equal((html.match(/<\/svg>/g) ?? []).length, 2);
  assert.ok(!html.includes('<b>&'));
  assert.ok(html.includes('weird &lt;b&gt;&amp; label'));
  assert.ok(html.indexOf('class="verdict"') < html.indexOf('Before and after'));
  assert.ok(html.includes('<details><summary>2 commands</summary>'));
  assert.ok(html.indexOf('<svg') > html.indexOf('Constraints and decision') && html.lastIndexOf('</svg>') < html.indexOf('All candidates'));
  // every <details>, <table> closed
  for (const tag of ['table', 'details', 'tr', 'td', 'ul', 'li']) {
    assert.equal((html.match(new RegExp(`<${tag}[ >]`, 'g')) ?? []).length, (html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, tag);
  }
});

test('charts: feasible points are circles, the chosen one ringed, infeasible ones grey, failed ones absent', () => {
  const r = sample();
  for (const svg of [accuracySpeedSvg(r), memoryLatencySvg(r)]) {
    const cs = circles(svg).filter((c) => c['data-id']);
    const pts = cs.filter((c) => c.class?.startsWith('pt '));
    for (const id of r.decision.feasible.filter((id) => id !== 'base')) assert.equal(pts.filter((c) => c['data-id'] === esc(id)).length, 1, `feasible ${id}`);
    assert.ok(!pts.some((c) => c['data-id'] === 'base'), 'the baseline is a diamond, not a circle');
    assert.equal((svg.match(/<polygon class="baseline"/g) ?? []).length, 1);
    assert.equal(pts.find((c) => c['data-id'] === 'c1')!['data-role'], 'chosen');
    assert.equal(pts.find((c) => c['data-id'] === 'c2')!['data-role'], 'front');
    assert.equal(pts.find((c) => c['data-id'] === 'c2')!.fill, COLOURS.front);
    assert.equal(pts.find((c) => c['data-id'] === 'c3')!.fill, 'white');
    for (const id of ['c4', 'c5']) {
      const p = pts.find((c) => c['data-id'] === id)!;
      assert.equal(p['data-role'], 'infeasible');
      assert.equal(p.fill, COLOURS.infeasibleFill);
    }
    assert.ok(!pts.some((c) => c['data-id'] === 'c6' || c['data-id'] === 'c7'), 'failed / stopped not plotted');
    const rings = cs.filter((c) => c.class === 'ring');
    assert.equal(rings.length, 1);
    assert.equal(rings[0]!['data-id'], 'c1');
    assert.ok(svg.includes('class="baseline"'));
    assert.ok(svg.includes('Not plotted: 1 failed, 1 stopped early'));
    assert.ok(svg.includes('weird &lt;b&gt;&amp; label'));
  }
  assert.ok(accuracySpeedSvg(r).includes('class="front-step"'));
});

test('charts: a constraint line is drawn when the constraint is set, and only then', () => {
  const r = sample();
  const acc = accuracySpeedSvg(r), mem = memoryLatencySvg(r);
  assert.ok(acc.includes('data-limit="y"'), 'accuracy floor');
  assert.ok(!acc.includes('data-limit="x"'), 'no min throughput set');
  assert.ok(mem.includes('data-limit="y"') && mem.includes('data-limit="x"'), 'memory budget and SLO');
  r.constraints = { minThroughput: 20 };
  r.minTop1 = null;
  const acc2 = accuracySpeedSvg(r), mem2 = memoryLatencySvg(r);
  assert.ok(!acc2.includes('data-limit="y"') && acc2.includes('data-limit="x"'));
  assert.ok(!mem2.includes('class="limit"'));
  r.objective = 'latency';
  r.constraints = { latencySloMs: 500 };
  const acc3 = accuracySpeedSvg(r);
  assert.ok(acc3.includes('data-limit="x"') && acc3.includes('SLO 500 ms'));
  assert.ok(acc3.includes('p95 latency of one call'));
});

test('no NaN / undefined / Infinity anywhere: usual, infeasible, no accuracy, all failed, one candidate, no speed figures, nothing at all', () => {
  assertClean(sample(), 'sample');
  assertClean(infeasible(), 'infeasible');
  assertClean(noAccuracy(), 'no accuracy');

  const failed = infeasible();
  for (const c of failed.candidates) if (c.id !== 'base') { c.status = 'failed'; c.speed = null; c.accuracy = null; c.reason = 'crashed'; }
  failed.decision.nearest = []; failed.decision.binding = null;
  assertClean(failed, 'all failed');

  const one = sample();
  one.candidates = [one.candidates[1]!];
  one.decision = { ...one.decision, feasible: ['c1'], front: ['c1'], ties: [] };
  one.naive = null; one.timeline = []; one.dropped = []; one.notes = []; one.cpuFlags = [];
  assertClean(one, 'one candidate');
  assert.ok(accuracySpeedSvg(one).includes('data-role="chosen"'));

  const noSpeed = sample();
  noSpeed.baseline.speed = null;
  for (const c of noSpeed.candidates) c.speed = null;
  noSpeed.speedup = { sameSettings: null, chosenSettings: null, vsNaive: null };
  assertClean(noSpeed, 'no speed');
  assert.ok(accuracySpeedSvg(noSpeed).includes('no measured candidate to plot'));

  const nothing = sample();
  nothing.candidates = []; nothing.baseline.speed = null; nothing.baseline.accuracy = null;
  nothing.decision = { rule: '', feasible: [], front: [], chosen: null, ties: [], nearest: [], binding: null };
  nothing.speedup = { sameSettings: null, chosenSettings: null, vsNaive: null };
  assertClean(nothing, 'nothing');
  assert.equal(verdict(nothing), 'No candidate meets the constraints: no candidate was built.');

  const weird = sample();
  weird.candidates[2]!.speed!.imagesPerSecond = NaN;
  weird.candidates[3]!.accuracy!.pValue = NaN;
  weird.candidates[4]!.speed!.relSpread = Infinity;
  weird.candidates[1]!.quality = { images: 1, agreement: 1, sqnrDb: Infinity };
  assertClean(weird, 'non-finite inputs');
});

// TUNE_SAMPLE_DIR=/tmp node --test dist/test/tune/report.test.js writes sample pages to look at.
test('sample reports written for a look', { skip: !process.env.TUNE_SAMPLE_DIR }, async () => {
  const dir = process.env.TUNE_SAMPLE_DIR!;
  await fs.writeFile(`${dir}/tune-sample.html`, renderHtml(sample()));
  await fs.writeFile(`${dir}/tune-sample-none.html`, renderHtml(infeasible()));
  await fs.writeFile(`${dir}/tune-sample-noacc.html`, renderHtml(noAccuracy()));
  await fs.writeFile(`${dir}/tune-sample.md`, renderMarkdown(sample()));
  const one = sample();
  one.candidates = [one.candidates[1]!];
  one.decision = { ...one.decision, feasible: ['c1'], front: ['c1'], ties: [] };
  one.objective = 'latency';
  await fs.writeFile(`${dir}/tune-sample-one.html`, renderHtml(one));
  const failed = infeasible();
  for (const c of failed.candidates) if (c.id !== 'base') { c.status = 'failed'; c.speed = null; c.accuracy = null; c.reason = 'crashed'; }
  failed.decision.nearest = []; failed.decision.binding = null;
  await fs.writeFile(`${dir}/tune-sample-failed.html`, renderHtml(failed));
});

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
