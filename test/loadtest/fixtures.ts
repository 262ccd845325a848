/**
 * Helpers for the load generator tests: a real `vitopt serve fashion-vit` (startServer on a free port),
 * and labelled IDX datasets made from the shipped Fashion-MNIST subset whose labels are the model's own
 * predictions computed in this process (an independent reference: onnxruntime-node directly, no HTTP),
 * or deliberately wrong ones.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import type { ServeOptions } from '../../src/serve/state.js';
import { openDataSpec } from '../../src/data/data-spec.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import { loadRunnable } from '../../src/models/resolve.js';
import type { RawImage } from '../../src/data/dataset.js';

export function startFashion(o: Partial<ServeOptions> = {}): Promise<RunningServer> {
  // Small max batch: fewer batch sizes to warm at start (the machine is shared).
  return startServer({ models: ['fashion-vit'], port: 0, threads: 1, maxBatchSize: 4, ...o });
}

export interface Predicted {
  images: RawImage[];
  /** In-process top-1 of each image. */
  top1: number[];
}

/**
 * The first `n` subset images whose top-1 is clear (margin over the runner-up ≥ 0.05 logit, so a batched
 * run's rounding cannot flip it), with the model's in-process top-1.
 */
export async function clearImages(n: number): Promise<Predicted> {
  const ds = await openDataSpec('fashion-mnist-subset');
  const r = await loadRunnable('fashion-vit', { threads: 1 });
  const images: RawImage[] = [];
  const top1: number[] = [];
  try {
    for await (const b of ds.batches(64, { limit: n * 3 })) {
      const x = preprocessBatch(b.images, r.resolution, r.resolution);
      const y = await r.model.run(x);
      const k = y.dims[1]!;
      b.images.forEach((img, i) => {
        const row = Array.from(y.data.subarray(i * k, (i + 1) * k));
        const order = row.map((v, j) => [v, j] as const).sort((a, c) => c[0] - a[0]);
        if (images.length < n && order[0]![0] - order[1]![0] >= 0.05) {
          images.push(img);
          top1.push(order[0]![1]);
        }
      });
      if (images.length >= n) break;
    }
  } finally {
    await r.model.release();
  }
  if (images.length < n) throw new Error(`only ${images.length} clear images`);
  return { images, top1 };
}

/** An uncompressed IDX pair (images idx3 + labels idx1) in a temporary folder: the `--images a:b` spec. */
export function writeIdx(images: RawImage[], labels: number[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'vitopt-loadtest-'));
  const h = images[0]!.height, w = images[0]!.width;
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x00000803, 0);
  head.writeUInt32BE(images.length, 4);
  head.writeUInt32BE(h, 8);
  head.writeUInt32BE(w, 12);
  const px = Buffer.concat(images.map((i) => Buffer.from(i.data as Uint8Array)));
  const lh = Buffer.alloc(8);
  lh.writeUInt32BE(0x00000801, 0);
  lh.writeUInt32BE(labels.length, 4);
  const imagesFile = path.join(dir, 'images-idx3-ubyte');
  const labelsFile = path.join(dir, 'labels-idx1-ubyte');
  writeFileSync(imagesFile, Buffer.concat([head, px]));
  writeFileSync(labelsFile, Buffer.concat([lh, Buffer.from(labels)]));
  return `${imagesFile}:${labelsFile}`;
}
