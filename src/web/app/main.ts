/// <reference lib="dom" />
/**
 * The page: image drop/pick, top-5 with scores, latency and backend, and what the engine chose and
 * why. Everything heavy runs in the worker (worker.ts). `window.vitopt` is the automation API that
 * tests and users' scripts drive instead of scraping the DOM:
 *
 *   await vitopt.ready                   -> EngineInfo {backend, variant, threads, notes, …}
 *   await vitopt.classify(urlOrBlob)     -> {label, index, scores, ms, backend, variant}
 *   await vitopt.pixels(urlOrBlob)       -> the model input (NCHW float32 as a plain array)
 *   await vitopt.bench(iterations, warmup)
 *
 * The page's query string forces choices: ?backend=wasm|webgpu&variant=<id>&threads=N&ortDefaults=1.
 */
import type { Classification, EngineInfo, Manifest, Preferences, Reply, Request, RequestBody } from './manifest.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function preferences(q: URLSearchParams): Preferences {
  const p: Preferences = {};
  const backend = q.get('backend');
  if (backend === 'wasm' || backend === 'webgpu') p.backend = backend;
  const variant = q.get('variant');
  if (variant) p.variant = variant;
  const threads = Number(q.get('threads'));
  if (Number.isInteger(threads) && threads > 0) p.threads = threads;
  if (q.get('ortDefaults') === '1') p.ortDefaults = true;
  return p;
}

function showError(text: string): void {
  const el = $('error');
  el.textContent = text;
  el.hidden = false;
}

function showStatus(text: string): void {
  $('status').textContent = text;
}

function startWorker(): { call: <T>(r: RequestBody) => Promise<T>; failed: Promise<never> } {
  const pending = new Map<number, Pending>();
  let next = 1;
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { fail = reject; });
  failed.catch(() => undefined);
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<Reply>) => {
    const r = ev.data;
    if ('progress' in r) return showStatus(r.progress);
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (!p) return;
    if (r.ok) p.resolve(r.value);
    else p.reject(new Error(r.error));
  };
  worker.onerror = (ev) => {
    const err = new Error(`the engine worker failed to start: ${ev.message || 'app/worker.js could not be loaded'}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    fail(err);
  };
  const call = <T>(r: RequestBody): Promise<T> => new Promise<T>((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ ...r, id } as Request);
  });
  return { call, failed };
}

function renderInfo(info: EngineInfo): void {
  const threads = info.backend === 'wasm' ? `, ${info.threads} thread${info.threads === 1 ? '' : 's'}` : '';
  $('engine').textContent = `${info.backend} · ${info.variant} (${info.dtype})${threads} · ` +
    `cross-origin isolated: ${info.crossOriginIsolated ? 'yes' : 'no'} · check deviation ${info.checkError.toExponential(1)} · ` +
    `ready in ${(info.loadMs / 1000).toFixed(1)} s`;
  const notes = $('notes');
  notes.replaceChildren(...info.notes.map((n) => Object.assign(document.createElement('li'), { textContent: n })));
}

function renderResult(r: Classification, name: string, preview: string): void {
  $<HTMLImageElement>('preview').src = preview;
  $('result-title').textContent = `${name}: ${r.label}`;
  const rows = r.scores.map((s) => {
    const tr = document.createElement('tr');
    const bar = `<div class="bar" style="width:${(s.score * 100).toFixed(1)}%"></div>`;
    tr.innerHTML = `<td></td><td class="num">${(s.score * 100).toFixed(2)}%</td><td class="barcell">${bar}</td>`;
    tr.firstElementChild!.textContent = s.label;
    return tr;
  });
  $('scores').replaceChildren(...rows);
  $('timing').textContent = `inference ${r.ms.toFixed(1)} ms · preprocessing ${r.preprocessMs.toFixed(1)} ms · ${r.backend}/${r.variant}`;
}

async function main(): Promise<void> {
  const prefs = preferences(new URLSearchParams(location.search));
  const { call, failed } = startWorker();
  let info: EngineInfo | null = null;
  const ready = Promise.race([call<EngineInfo>({ kind: 'init', manifestUrl: new URL('manifest.json', location.href).href, prefs }), failed]);
  const classifyAny = async (source: string | Blob, name?: string): Promise<Classification> => {
    await ready;
    const label = name ?? (typeof source === 'string' ? source : (source as File).name ?? 'image');
    return Promise.race([call<Classification>({ kind: 'classify', source, name: label }), failed]);
  };
  const api = {
    ready,
    get info() { return info; },
    classify: classifyAny,
    pixels: async (source: string | Blob, name?: string): Promise<number[]> => {
      await ready;
      return call<number[]>({ kind: 'pixels', source, name: name ?? String(source) });
    },
    bench: async (iterations = 10, warmup = 2) => {
      await ready;
      return call<{ latenciesMs: number[]; firstRunMs: number }>({ kind: 'bench', iterations, warmup });
    },
  };
  (window as unknown as { vitopt: typeof api }).vitopt = api;

  fetch('manifest.json').then((r) => r.json() as Promise<Manifest>).then((m) => {
    $('model').textContent = `${m.model}: ${m.description}`;
    const samples = $('samples');
    for (const s of m.samples) {
      const img = Object.assign(document.createElement('img'), { src: s.url, alt: s.label ?? s.url, title: s.label ?? s.url });
      img.addEventListener('click', () => void run(s.url, s.url.split('/').pop()!, s.url));
      samples.append(img);
    }
  }).catch(() => undefined);

  async function run(source: string | Blob, name: string, preview: string): Promise<void> {
    $('error').hidden = true;
    showStatus(`classifying ${name}…`);
    try {
      const r = await classifyAny(source, name);
      renderResult(r, name, preview);
      showStatus('ready');
    } catch (e) {
      showError((e as Error).message);
      showStatus(info ? 'ready' : 'not ready');
    }
  }

  const onFile = (f: File | undefined) => { if (f) void run(f, f.name, URL.createObjectURL(f)); };
  $<HTMLInputElement>('file').addEventListener('change', (ev) => onFile((ev.target as HTMLInputElement).files?.[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    onFile(ev.dataTransfer?.files?.[0]);
  });

  try {
    info = await ready;
    renderInfo(info);
    showStatus('ready: drop an image, pick one, or click a sample');
  } catch (e) {
    showError((e as Error).message);
    showStatus('not ready');
  }
}

void main();
