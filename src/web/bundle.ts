/**
 * The page's JavaScript, bundled with esbuild from the compiled app (dist/src/web/app/*.js, made by
 * `tsc` in `npm ci`), and onnxruntime-web's runtime files copied beside it. The
 * `onnxruntime-web-use-extern-wasm` condition selects ORT builds that load their `.mjs` glue and `.wasm`
 * at run time from `env.wasm.wasmPaths` (set by the worker) instead of inlining them: nothing comes
 * from a CDN and the 14–27 MB binaries are fetched only for the backend in use.
 */
import { promises as fs, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from './app/manifest.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** WebAssembly CPU build and native WebGPU EP build (JSEP is avoided: it returns zeros silently on fp16). */
export const RUNTIME_FILES: Record<Backend, { mjs: string; wasm: string }> = {
  wasm: { mjs: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
  webgpu: { mjs: 'ort-wasm-simd-threaded.asyncify.mjs', wasm: 'ort-wasm-simd-threaded.asyncify.wasm' },
};

function entry(name: string): string {
  for (const ext of ['.js', '.ts']) {
    const p = path.join(here, 'app', name + ext);
    if (existsSync(p)) return p;
  }
  throw new Error(`internal: the web app source ${path.join(here, 'app', name)}.js is missing (run 'npm run build')`);
}

export async function bundleApp(outDir: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: { main: entry('main'), worker: entry('worker') },
    outdir: path.join(outDir, 'app'),
    bundle: true,
    splitting: true, // the two onnxruntime-web builds become chunks loaded on demand
    format: 'esm',
    platform: 'browser',
    target: ['chrome113', 'edge113', 'firefox120', 'safari17'],
    conditions: ['onnxruntime-web-use-extern-wasm'],
    minify: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(r.metafile.outputs);
}

export async function copyRuntime(outDir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  const dir = path.join(outDir, 'ort');
  await fs.mkdir(dir, { recursive: true });
  for (const f of Object.values(RUNTIME_FILES).flatMap((x) => [x.mjs, x.wasm])) {
    await fs.copyFile(path.join(dist, f), path.join(dir, f));
  }
  await fs.copyFile(path.join(dist, '..', 'LICENSE'), path.join(dir, 'LICENSE')).catch(() => undefined);
}
