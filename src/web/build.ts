/**
 * `vitopt web <model> -o site/`: a static site that classifies images in the browser with
 * onnxruntime-web. The site is assembled in a temporary folder beside the target and renamed into
 * place at the end, so an interrupted build never leaves half a site behind.
 *
 *   site/index.html          the page            site/app/*.js      esbuild bundle (page + worker + ORT chunks)
 *   site/manifest.json       variants, labels,   site/ort/*         onnxruntime-web .mjs/.wasm (no CDN)
 *                            normalization, check pairs              site/models/*.onnx variants
 *   site/samples/*.png       sample images       site/_headers      COOP/COEP for Netlify / Cloudflare Pages
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FileError } from '../errors.js';
import { saveModel } from '../formats/onnx.js';
import { FASHION_MNIST_CLASSES } from '../data/labels.js';
import type { Manifest, Variant } from './app/manifest.js';
import { bundleApp, copyRuntime, RUNTIME_FILES } from './bundle.js';
import { openModelSource, type ModelSource } from './model-source.js';
import { HEADERS_FILE, indexHtml } from './page.js';
import { fashionSamples, writeSamples } from './samples.js';
import { buildVariants, DEFAULT_VARIANTS, type VariantId } from './variants.js';
import { PACKAGE_ROOT } from '../util/paths.js';

export interface BuildOptions {
  variants?: readonly VariantId[];
  /** Progress lines (stderr in the CLI). */
  onStep?: (s: string) => void;
}

export interface BuildReport {
  output: string;
  model: string;
  resolution: number;
  variants: Variant[];
  samples: number;
  bytes: number;
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

/** The output folder may be new, empty, or an earlier site (it has manifest.json); anything else is refused. */
async function checkOutput(out: string): Promise<void> {
  const parent = path.dirname(path.resolve(out));
  try {
    if (!(await fs.stat(parent)).isDirectory()) throw new FileError(out, `cannot write: ${parent} is not a directory`);
  } catch (e) {
    if (e instanceof FileError) throw e;
    throw new FileError(out, `cannot write: directory ${parent} does not exist`);
  }
  let entries: string[];
  try {
    if (!(await fs.stat(out)).isDirectory()) throw new FileError(out, 'exists and is not a directory');
    entries = await fs.readdir(out);
  } catch (e) {
    if (e instanceof FileError) throw e;
    return; // does not exist yet
  }
  if (entries.length > 0 && !entries.includes('manifest.json')) {
    throw new FileError(out, 'is a non-empty folder that is not a vitopt site (no manifest.json); give a new or empty folder');
  }
}

export async function buildSite(modelSpec: string, out: string, o: BuildOptions = {}): Promise<BuildReport> {
  await checkOutput(out);
  return buildSiteFrom(await openModelSource(modelSpec), out, o);
}

/** The same from a model already in memory (e.g. a zoo configuration with random weights, for benchmarks). */
export async function buildSiteFrom(src: ModelSource, out: string, o: BuildOptions = {}): Promise<BuildReport> {
  const step = o.onStep ?? (() => undefined);
  await checkOutput(out);
  const tmp = path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.${process.pid}.${Date.now()}.tmp`);
  await fs.mkdir(tmp);
  try {
    const built = await buildVariants(src, o.variants ?? DEFAULT_VARIANTS, step);
    step('writing the model files');
    await fs.mkdir(path.join(tmp, 'models'));
    const variants: Variant[] = [];
    for (const v of built) {
      await saveModel(path.join(tmp, v.meta.file), v.model);
      variants.push({ ...v.meta, bytes: (await fs.stat(path.join(tmp, v.meta.file))).size });
    }
    const isFashion = src.labels.length === 10 && src.labels.every((l, i) => l === FASHION_MNIST_CLASSES[i]);
    const samples = isFashion ? await fashionSamples() : [];
    await writeSamples(path.join(tmp, 'samples'), samples);
    const input = built[0]!.model.graph!.input![0]!.name!;
    const output = built[0]!.model.graph!.output![0]!.name!;
    const pkg = JSON.parse(await fs.readFile(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    const manifest: Manifest = {
      format: 'vitopt-web/1', model: src.name, description: src.description, resolution: src.resolution, labels: src.labels,
      normalize: src.config?.normalize ? { mean: [...src.config.normalize.mean], std: [...src.config.normalize.std] } : null,
      inputName: input, outputName: output, variants,
      samples: samples.map((s) => ({ url: `samples/${s.name}`, label: s.labelName })),
      runtime: { dir: 'ort', files: {
        wasm: { mjs: `ort/${RUNTIME_FILES.wasm.mjs}`, wasm: `ort/${RUNTIME_FILES.wasm.wasm}` },
        webgpu: { mjs: `ort/${RUNTIME_FILES.webgpu.mjs}`, wasm: `ort/${RUNTIME_FILES.webgpu.wasm}` },
      } },
      builtBy: `vitopt ${pkg.version}`,
    };
    step('bundling the app with esbuild');
    await bundleApp(tmp);
    await copyRuntime(tmp);
    await fs.writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    await fs.writeFile(path.join(tmp, 'index.html'), indexHtml(src.name));
    await fs.writeFile(path.join(tmp, '_headers'), HEADERS_FILE);
    const bytes = await dirSize(tmp);
    // Swap the new site in: the old one (if any) is moved aside first and removed after.
    const old = `${tmp}.old`;
    const hadOld = await fs.rename(out, old).then(() => true, () => false);
    await fs.rename(tmp, out);
    if (hadOld) await fs.rm(old, { recursive: true, force: true });
    return { output: out, model: src.name, resolution: src.resolution, variants, samples: samples.length, bytes };
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
