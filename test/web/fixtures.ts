/**
 * The site the browser tests drive (fashion-vit, built with the real `vitopt web` code path) and the
 * independent reference: onnxruntime-node on the very same variant file, fed by vitopt's Node
 * pipeline (sharp decode + src/data/preprocess.ts).
 */
import * as path from 'node:path';
import { buildSite, type BuildReport } from '../../src/web/build.js';
import { decodeImageFile } from '../../src/data/image-folder.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import { openModel } from '../../src/engines/create.js';
import { tmp } from '../core/helpers.js';

export async function buildFashionSite(variants: ('int8' | 'fp32' | 'fp16' | 'int4')[] = ['int8', 'fp32', 'fp16']):
  Promise<{ dir: string; report: BuildReport }> {
  const dir = path.join(tmp(), 'site');
  const report = await buildSite('fashion-vit', dir, { variants });
  return { dir, report };
}

/** Top-1 of onnxruntime-node (CPU) on `modelFile` for each image file, through vitopt's Node pipeline. */
export async function nodeTop1(modelFile: string, images: string[], resolution: number): Promise<number[]> {
  const m = await openModel(modelFile, { threads: 1 });
  try {
    const out: number[] = [];
    for (const f of images) {
      const x = preprocessBatch([await decodeImageFile(f)], resolution);
      const logits = (await m.run(x)).data;
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      out.push(best);
    }
    return out;
  } finally {
    await m.release();
  }
}
