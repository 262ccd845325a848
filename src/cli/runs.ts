/**
 * `vitopt runs`: read the tuner's run store (.vitopt/runs.db). `list` the experiments (tune jobs),
 * `show` an experiment with its runs or one run in full, `compare` two runs side by side. Read
 * only: a missing store is an error, never created.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { emit } from './common.js';
import { jsonOption } from './options.js';
import type { RunStore, StoredExperiment, StoredRun } from '../tune/store.js';

/** = DEFAULT_STORE of tune/store.ts, not imported: the store (a native module) loads only when a runs command runs. */
const DEFAULT_STORE = '.vitopt/runs.db';

interface Opts { store: string; json?: boolean | string }

async function openStore(file: string): Promise<RunStore> {
  const { RunStore } = await import('../tune/store.js');
  return RunStore.open(file, { create: false });
}

/** Read the chosen candidate / verdict of whatever summary the tuner stored. */
export function summaryChoice(summary: unknown): { chosen: string | null; label: string | null; verdict: string | null } {
  const out = { chosen: null as string | null, label: null as string | null, verdict: null as string | null };
  if (!summary || typeof summary !== 'object') return out;
  const s = summary as Record<string, unknown>;
  const take = (c: unknown) => {
    if (typeof c === 'string' && c) out.chosen = c;
    else if (c && typeof c === 'object') {
      const o = c as Record<string, unknown>;
      if (typeof o.id === 'string') out.chosen = o.id;
      if (typeof o.label === 'string') out.label = o.label;
    }
  };
  take(s.chosen);
  if (out.chosen === null && s.decision && typeof s.decision === 'object') take((s.decision as Record<string, unknown>).chosen);
  if (typeof s.verdict === 'string') out.verdict = s.verdict;
  else if (s.verdict && typeof s.verdict === 'object' && typeof (s.verdict as Record<string, unknown>).text === 'string') {
    out.verdict = (s.verdict as Record<string, unknown>).text as string;
  }
  return out;
}

/** A number in a table: integers as they are, others with 4 significant digits. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

function fmtParam(v: string | number | boolean | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? fmt(v) : String(v);
}

function date(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '—';
}

/** Left-aligned text columns, numbers right-aligned where `right` says. */
function table(head: string[], rows: string[][], right: boolean[] = []): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

/** The metrics worth a column: well-known names first, then the most common ones; at most `n`. */
const KEY_METRICS = ['imagesPerSecond', 'ratio', 'speedup', 'p50Ms', 'p95Ms', 'top1', 'drop', 'agreement', 'sqnrDb', 'sizeBytes', 'peakRssBytes'];
export function keyMetrics(runs: StoredRun[], n = 5): string[] {
  const count = new Map<string, number>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) count.set(k, (count.get(k) ?? 0) + 1);
  const known = KEY_METRICS.filter((k) => count.has(k));
  const rest = [...count.keys()].filter((k) => !known.includes(k)).sort((a, b) => count.get(b)! - count.get(a)!);
  return [...known, ...rest].slice(0, n);
}

function experimentRows(store: RunStore) {
  return store.experiments().map((e) => {
    const runs = store.runsOf(e.id);
    const c = summaryChoice(e.summary);
    const chosenRun = c.chosen ? runs.find((r) => r.id === c.chosen) ?? store.getRun(c.chosen) : null;
    return { id: e.id, name: e.name, createdAt: e.createdAt, endedAt: e.endedAt ?? null, status: e.status, runs: runs.length,
      chosen: c.chosen ? { id: c.chosen, label: c.label ?? chosenRun?.label ?? null } : null, verdict: c.verdict };
  });
}

function renderList(file: string, rows: ReturnType<typeof experimentRows>): string {
  if (!rows.length) return `${file}: no experiments yet`;
  return table(['id', 'date', 'name', 'status', 'runs', 'chosen'], rows.map((r) => [
    r.id.slice(0, 12), date(r.createdAt), r.name, r.status, String(r.runs),
    r.chosen ? `${r.chosen.id.slice(0, 12)}${r.chosen.label ? ` ${r.chosen.label}` : ''}` : (r.verdict ?? '—'),
  ]), [false, false, false, false, true, false]);
}

function renderExperiment(e: StoredExperiment, runs: StoredRun[]): string {
  const c = summaryChoice(e.summary);
  const out = [`experiment ${e.id}  ${e.name}`,
    `  created ${date(e.createdAt)}${e.endedAt ? `, ended ${date(e.endedAt)}` : ''}, ${e.status}, ${runs.length} run${runs.length === 1 ? '' : 's'}`];
  const params = Object.entries(e.params);
  if (params.length) out.push(`  params: ${params.map(([k, v]) => `${k}=${fmtParam(v)}`).join(', ')}`);
  const tags = Object.entries(e.tags);
  if (tags.length) out.push(`  tags: ${tags.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (c.chosen) out.push(`  chosen: ${c.chosen}${c.label ?? runs.find((r) => r.id === c.chosen)?.label ? ` ${c.label ?? runs.find((r) => r.id === c.chosen)!.label}` : ''}`);
  if (c.verdict) out.push(`  verdict: ${c.verdict}`);
  if (runs.length) {
    const keys = keyMetrics(runs);
    out.push('', table(['id', 'label', 'stage', 'status', ...keys, 'note'], runs.map((r) => [
      r.id, r.label, r.stage, r.status, ...keys.map((k) => (k in r.metrics ? fmt(r.metrics[k]) : '—')),
      [r.id === c.chosen ? 'chosen' : '', r.reason ?? '', r.experimentId !== e.id ? `from ${r.experimentId.slice(0, 12)}` : ''].filter(Boolean).join('; '),
    ]), [false, false, false, false, ...keys.map(() => true), false]));
  }
  return out.join('\n');
}

function renderRun(r: StoredRun, artifactPath: string | null, experiments: string[]): string {
  const out = [`run ${r.id}  ${r.label}`,
    `  experiment ${r.experimentId}${experiments.length > 1 ? ` (also in ${experiments.filter((x) => x !== r.experimentId).join(', ')})` : ''}`,
    `  stage ${r.stage}, ${r.status}${r.reason ? `: ${r.reason}` : ''}`,
    `  started ${date(r.startedAt)}${r.endedAt ? `, ended ${date(r.endedAt)}` : ''}`];
  if (r.artifact) out.push(`  artifact ${r.artifact.sha256} (${r.artifact.bytes.toLocaleString('en-US')} bytes) ${artifactPath ?? '(file missing)'}`);
  const section = (title: string, entries: [string, string][]) => {
    if (!entries.length) return;
    out.push('', title, ...entries.map(([k, v]) => `  ${k.padEnd(Math.max(...entries.map((e) => e[0].length)))}  ${v}`));
  };
  section('params', Object.entries(r.params).map(([k, v]) => [k, fmtParam(v)]));
  section('metrics', Object.entries(r.metrics).map(([k, v]) => [k, fmt(v)]));
  section('tags', Object.entries(r.tags));
  return out.join('\n');
}

export function compareRuns(a: StoredRun, b: StoredRun) {
  const union = (x: Record<string, unknown>, y: Record<string, unknown>) => [...new Set([...Object.keys(x), ...Object.keys(y)])];
  const params = union(a.params, b.params).map((key) => {
    const va = a.params[key] ?? null, vb = b.params[key] ?? null;
    return { key, a: va, b: vb, same: va === vb || (Number.isNaN(va) && Number.isNaN(vb)) };
  });
  const metrics = union(a.metrics, b.metrics).map((key) => {
    const va = a.metrics[key] ?? null, vb = b.metrics[key] ?? null;
    const both = va !== null && vb !== null && Number.isFinite(va) && Number.isFinite(vb);
    return { key, a: va, b: vb, diff: both ? vb! - va! : null, ratio: both && va !== 0 ? vb! / va! : null };
  });
  return { a, b, params, metrics };
}

function renderCompare(c: ReturnType<typeof compareRuns>): string {
  const { a, b } = c;
  const out = [`a: ${a.id}  ${a.label} (${a.stage}, ${a.status})`, `b: ${b.id}  ${b.label} (${b.stage}, ${b.status})`];
  if (c.params.length) {
    out.push('', table(['param', 'a', 'b', ''], c.params.map((p) => [p.key, fmtParam(p.a ?? undefined), fmtParam(p.b ?? undefined), p.same ? '' : '*'])));
  }
  if (c.metrics.length) {
    const signed = (d: number | null) => (d === null ? '—' : `${d > 0 ? '+' : ''}${fmt(d)}`);
    out.push('', table(['metric', 'a', 'b', 'b - a', 'b / a'], c.metrics.map((m) => [
      m.key, fmt(m.a), fmt(m.b), signed(m.diff), m.ratio === null ? '—' : `${m.ratio.toFixed(3)}x`,
    ]), [false, true, true, true, true]));
  }
  const art = (r: StoredRun) => r.artifact ? r.artifact.sha256.slice(0, 12) : '—';
  if (a.artifact || b.artifact) out.push('', `artifact  a ${art(a)}  b ${art(b)}${a.artifact?.sha256 === b.artifact?.sha256 ? '  (same file)' : ''}`);
  return out.join('\n');
}

export function register(program: Command): void {
  const runs = program.command('runs')
    .description('the tuner\'s run store: list tune jobs, show one with its candidates, compare two candidates');
  const storeOption = (c: Command) => c.option('--store <file>', 'the run store', DEFAULT_STORE).addOption(jsonOption('the result', { wasFlag: true }));

  storeOption(runs.command('list')
    .description('the experiments (tune jobs) in the store, newest first'))
    .action(async (o: Opts) => {
      const store = await openStore(o.store);
      try {
        const rows = experimentRows(store);
        await emit(rows, renderList(o.store, rows), o.json);
      } finally {
        store.close();
      }
    });

  storeOption(runs.command('show')
    .argument('<id>', 'an experiment or run id (or a unique prefix of 4+ characters)')
    .description('an experiment with all its runs, or one run in full'))
    .action(async (id: string, o: Opts) => {
      const store = await openStore(o.store);
      try {
        let e = store.getExperiment(id);
        const r = e?.id === id ? null : store.getRun(id);
        if (e && r) {
          if (r.id !== id) throw new UserError(`${o.store}: ${id} is ambiguous: a prefix of experiment ${e.id} and of run ${r.id}`);
          e = null; // an exact run id wins over an experiment prefix
        }
        if (e) {
          const list = store.runsOf(e.id);
          await emit({ kind: 'experiment', experiment: e, runs: list }, renderExperiment(e, list), o.json);
        } else if (r) {
          const art = r.artifact ? store.artifactPath(r.artifact.sha256) : null;
          const exps = store.experimentsOf(r.id);
          await emit({ kind: 'run', run: r, artifactPath: art, experiments: exps }, renderRun(r, art, exps), o.json);
        } else {
          throw new UserError(`${o.store}: no experiment or run ${id}`);
        }
      } finally {
        store.close();
      }
    });

  storeOption(runs.command('compare')
    .argument('<a>', 'a run id (or a unique prefix)')
    .argument('<b>', 'another run id')
    .description('two runs side by side: every param and metric, with the difference and ratio of metrics'))
    .action(async (ida: string, idb: string, o: Opts) => {
      const store = await openStore(o.store);
      try {
        const get = (id: string) => {
          const r = store.getRun(id);
          if (!r) throw new UserError(`${o.store}: no run ${id}${store.getExperiment(id) ? ' (that is an experiment: runs show it)' : ''}`);
          return r;
        };
        const c = compareRuns(get(ida), get(idb));
        await emit(c, renderCompare(c), o.json);
      } finally {
        store.close();
      }
    });
}
