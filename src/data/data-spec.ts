/**
 * `--data <spec>`: one string that names a dataset.
 *
 *   fashion-mnist                 Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), test split
 *   fashion-mnist:train|test      that, with the split named
 *   fashion-mnist:<dir>[:split]   Fashion-MNIST IDX files (t10k-* / train-*, gzipped or not) in <dir>
 *   fashion-mnist-subset          the 2,000-image class-balanced test subset shipped in <repo>/data/
 *   mnist:<dir>[:split]           MNIST IDX files in <dir> (classes '0'…'9')
 *   <dir>                         image folder <dir>/<class>/*.{jpg,jpeg,png,webp}
 *   <images.npy>:<labels>         .npy images with a labels .npy or text file (one integer per line)
 *   <images-idx3>:<labels-idx1>   an IDX pair, gzipped or not
 *
 * Relative paths of shipped data are resolved from the package root, never from the cwd.
 */
import { existsSync, statSync } from 'node:fs';
import { PACKAGE_ROOT } from '../util/paths.js';
import * as path from 'node:path';
import { FileError, UserError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { IdxDataset } from './idx.js';
import { ImageFolderDataset } from './image-folder.js';
import { FASHION_MNIST_CLASSES } from './labels.js';
import { NpyDataset, type ImageLayout } from './npy-dataset.js';

export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_SUBSET_DIR = 'data/fashion-mnist-subset';
const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

export const DATA_SPEC_HELP = "fashion-mnist[:train|:test|:<dir>], fashion-mnist-subset, mnist:<dir>, an image folder <dir>/<class>/*.jpg, or <images.npy>:<labels.npy|labels.txt>";

export interface DataSpecOptions {
  /** Layout of float .npy images (default 'nhwc'). */
  layout?: ImageLayout;
}

/** The directory of vitopt's package.json (works from src/ and dist/). */
export function packageRoot(): string {
  return PACKAGE_ROOT;
}

type Split = 'train' | 'test';
const IDX_PREFIX: Record<Split, string> = { test: 't10k', train: 'train' };

/** `<dir>/t10k-images-idx3-ubyte[.gz]` and its labels, whichever of plain or gzipped exists. */
export function idxSplitFiles(dir: string, split: Split): { images: string; labels: string } {
  const find = (base: string): string => {
    for (const name of [base + '.gz', base]) if (existsSync(path.join(dir, name))) return path.join(dir, name);
    throw new FileError(dir, `has no ${base}[.gz] (the ${split} split)`);
  };
  return {
    images: find(`${IDX_PREFIX[split]}-images-idx3-ubyte`),
    labels: find(`${IDX_PREFIX[split]}-labels-idx1-ubyte`),
  };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `<dir>[:split]` or `split` after a dataset prefix. */
function dirAndSplit(rest: string, defaultDir: string | null, prefix: string): { dir: string; split: Split } {
  if (rest === '' || rest === 'test' || rest === 'train') {
    if (defaultDir === null) throw new UserError(`--data ${prefix}: needs a directory, e.g. ${prefix}:/path/to/dir`);
    return { dir: defaultDir, split: (rest || 'test') as Split };
  }
  const m = /^(.*):(train|test)$/.exec(rest);
  return m ? { dir: m[1]!, split: m[2] as Split } : { dir: rest, split: 'test' };
}

async function openIdxDir(dir: string, split: Split, name: string, classes: string[], missingHint: string): Promise<Dataset> {
  if (!isDir(dir)) throw new FileError(dir, `does not exist or is not a directory${missingHint}`);
  const f = idxSplitFiles(dir, split);
  return IdxDataset.open(f.images, f.labels, { name, classes });
}

/** Resolve a `--data` spec to an opened, validated dataset. */
export async function openDataSpec(spec: string, opts: DataSpecOptions = {}): Promise<Dataset> {
  if (spec === '') throw new UserError(`--data: empty; expected ${DATA_SPEC_HELP}`);

  if (spec === 'fashion-mnist-subset') {
    const dir = path.join(packageRoot(), FASHION_SUBSET_DIR);
    return openIdxDir(dir, 'test', 'fashion-mnist-subset', [...FASHION_MNIST_CLASSES], ' (the shipped subset is missing from this installation)');
  }
  if (spec === 'fashion-mnist' || spec.startsWith('fashion-mnist:')) {
    const { dir, split } = dirAndSplit(spec.slice('fashion-mnist:'.length), DEBIAN_FASHION_MNIST_DIR, 'fashion-mnist');
    const hint = dir === DEBIAN_FASHION_MNIST_DIR ? ' (install Debian\'s dataset-fashion-mnist, or pass fashion-mnist:<dir>)' : '';
    return openIdxDir(dir, split, `fashion-mnist:${split}`, [...FASHION_MNIST_CLASSES], hint);
  }
  if (spec.startsWith('mnist:')) {
    const { dir, split } = dirAndSplit(spec.slice('mnist:'.length), null, 'mnist');
    return openIdxDir(dir, split, `mnist:${split}`, MNIST_CLASSES, '');
  }

  if (isDir(spec)) {
    if (existsSync(path.join(spec, 't10k-images-idx3-ubyte.gz')) || existsSync(path.join(spec, 't10k-images-idx3-ubyte'))) {
      throw new UserError(`--data ${spec}: holds IDX files, not class folders; use fashion-mnist:${spec} or mnist:${spec}`);
    }
    return ImageFolderDataset.open(spec);
  }

  const pair = splitPair(spec);
  if (pair) {
    const [images, labels] = pair;
    if (images.toLowerCase().endsWith('.npy')) return NpyDataset.open(images, labels, { layout: opts.layout });
    return IdxDataset.open(images, labels, { name: `idx:${path.basename(images)}` });
  }

  if (isFile(spec)) {
    throw new UserError(`--data ${spec}: a single file is not a dataset; pass <images>:<labels>, e.g. x.npy:labels.npy`);
  }
  throw new UserError(`--data '${spec}': not a known dataset, directory or <images>:<labels> pair; expected ${DATA_SPEC_HELP}`);
}

/** `a:b` where a is an existing file (paths themselves may contain ':' in rare cases: try each split). */
function splitPair(spec: string): [string, string] | null {
  for (let i = spec.indexOf(':'); i > 0; i = spec.indexOf(':', i + 1)) {
    const a = spec.slice(0, i);
    const b = spec.slice(i + 1);
    if (isFile(a) && b !== '') return [a, b];
  }
  // Neither half exists: still a pair if it looks like one, so the error names the missing file.
  const m = /^([^:]+\.(?:npy|gz|[a-z0-9]*ubyte)):(.+)$/i.exec(spec);
  return m ? [m[1]!, m[2]!] : null;
}
