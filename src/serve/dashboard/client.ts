/// <reference lib="dom" />
/**
 * The dashboard's script (runs in the browser; no imports, no framework). It keeps the last
 * HISTORY snapshots of /v2/monitor/stream and redraws four inline-SVG line charts and the stat tiles
 * at each one. A dropped or chosen image is POSTed to /v2/models/{m}/classify and its top classes shown.
 *
 * `window.vitoptDashboard` exposes what was received (snapshot count and the last snapshot) for tests
 * and scripts, so they need not scrape the charts.
 */

interface Win {
  requests: number;
  errors: number;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; p99: number | null };
  throughput: { requestsPerSecond: number | null; imagesPerSecond: number | null };
  avgBatchSize: number | null;
}
interface Snapshot {
  time: string;
  lastN: Win;
  lastSeconds: Win;
  queueDepth: number;
  inFlight: number;
  memory: { rssBytes: number; heapUsedBytes: number };
  ready: boolean;
}

const HISTORY = 120;
const history: Snapshot[] = [];
const state = { snapshots: 0, last: null as Snapshot | null, classified: 0 };
(window as unknown as { vitoptDashboard: typeof state }).vitoptDashboard = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const MiB = 2 ** 20;

/** Numbers as a person reads them: 3 significant digits, no trailing noise. */
function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function setText(id: string, v: number | null | undefined): void {
  $(`v-${id}`).textContent = fmt(v);
}

interface Series { colour: string; value: (s: Snapshot) => number | null }

/** Redraw one chart: a line per series over the snapshots kept, the y axis from 0 to a rounded maximum. */
function draw(id: string, series: Series[]): void {
  const svg = $(`c-${id}`) as unknown as SVGSVGElement;
  const W = 480, H = 160, left = 34, bottom = 14, top = 6;
  const values = history.flatMap((s) => series.map((x) => x.value(s) ?? 0));
  const raw = Math.max(1e-9, ...values);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const max = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? raw;
  const x = (i: number) => left + (i / Math.max(1, HISTORY - 1)) * (W - left - 4);
  const y = (v: number) => top + (H - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  for (const f of [0, 0.5, 1]) {
    parts.push(`<line x1="${left}" x2="${W - 4}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 4}" y="${y(max * f) + 4}" font-size="10" text-anchor="end" fill="#777">${fmt(max * f)}</text>`);
  }
  const offset = HISTORY - history.length;
  for (const s of series) {
    const pts = history.map((h, i) => [x(offset + i), s.value(h)] as const).filter(([, v]) => v !== null) as [number, number][];
    if (pts.length) parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${pts.map(([px, v]) => `${px.toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
  }
  parts.push(`<text x="${W - 4}" y="${H - 2}" font-size="10" text-anchor="end" fill="#999">last ${history.length} s</text>`);
  svg.innerHTML = parts.join('');
}

function render(s: Snapshot): void {
  const n = s.lastN, t = s.lastSeconds;
  setText('p50', n.latencyMs.p50);
  setText('p95', n.latencyMs.p95);
  setText('p99', n.latencyMs.p99);
  setText('rps', n.throughput.requestsPerSecond);
  setText('ips', n.throughput.imagesPerSecond);
  setText('batch', n.avgBatchSize);
  $('v-queue').textContent = String(s.queueDepth);
  $('v-inflight').textContent = String(s.inFlight);
  setText('rss', s.memory.rssBytes / MiB);
  $('v-requests').textContent = String(t.requests);
  $('v-errors').textContent = String(t.errors);
  const status = $('status');
  status.textContent = s.ready ? 'ready' : 'not ready';
  status.className = s.ready ? 'ready' : 'down';
  $('window').textContent = `updated ${new Date(s.time).toLocaleTimeString()}`;
  draw('latency', [
    { colour: '#1f77b4', value: (h) => h.lastN.latencyMs.p50 },
    { colour: '#ff7f0e', value: (h) => h.lastN.latencyMs.p95 },
    { colour: '#d62728', value: (h) => h.lastN.latencyMs.p99 },
  ]);
  draw('throughput', [
    { colour: '#2ca02c', value: (h) => h.lastN.throughput.requestsPerSecond },
    { colour: '#98df8a', value: (h) => h.lastN.throughput.imagesPerSecond },
  ]);
  draw('batch', [
    { colour: '#9467bd', value: (h) => h.lastN.avgBatchSize },
    { colour: '#8c564b', value: (h) => h.queueDepth },
  ]);
  draw('memory', [
    { colour: '#17becf', value: (h) => h.memory.rssBytes / MiB },
    { colour: '#7f7f7f', value: (h) => h.memory.heapUsedBytes / MiB },
  ]);
}

function connect(): void {
  const es = new EventSource('/v2/monitor/stream');
  es.addEventListener('monitor', (e) => {
    const s = JSON.parse((e as MessageEvent<string>).data) as Snapshot;
    history.push(s);
    if (history.length > HISTORY) history.shift();
    state.snapshots++;
    state.last = s;
    render(s);
  });
  es.onerror = () => {
    const status = $('status');
    status.textContent = 'disconnected (retrying)';
    status.className = 'down';
  };
}

async function loadModels(): Promise<void> {
  const r = await fetch('/v2/models');
  const j = (await r.json()) as { models?: { name: string; state?: string }[] };
  const select = $<HTMLSelectElement>('model');
  select.innerHTML = '';
  for (const m of j.models ?? []) {
    const o = document.createElement('option');
    o.value = o.textContent = m.name;
    select.append(o);
  }
}

async function classify(file: Blob): Promise<void> {
  const result = $('result');
  const model = $<HTMLSelectElement>('model').value;
  const preview = $<HTMLImageElement>('preview');
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  result.textContent = 'classifying…';
  try {
    const r = await fetch(`/v2/models/${encodeURIComponent(model)}/classify?top_k=5`, {
      method: 'POST', body: file, headers: { 'content-type': file.type || 'application/octet-stream' },
    });
    const j = (await r.json()) as { error?: string; predictions?: { label: string; probability: number }[] };
    if (!r.ok || !j.predictions) throw new Error(j.error ?? `HTTP ${r.status}`);
    const list = document.createElement('ol');
    for (const p of j.predictions) {
      const li = document.createElement('li');
      li.className = 'prediction';
      li.textContent = `${p.label} — ${(100 * p.probability).toFixed(1)}%`;
      list.append(li);
    }
    result.replaceChildren(list);
    result.dataset.top1 = j.predictions[0]?.label ?? '';
  } catch (e) {
    const div = document.createElement('div');
    div.className = 'error';
    div.textContent = `could not classify: ${(e as Error).message}`;
    result.replaceChildren(div);
    result.dataset.top1 = '';
  }
  state.classified++;
}

function wireDrop(): void {
  const drop = $('drop');
  const input = $<HTMLInputElement>('file');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void classify(f);
  });
  input.addEventListener('change', () => {
    const f = input.files?.[0];
    if (f) void classify(f);
  });
}

wireDrop();
connect();
void loadModels();

export {};
