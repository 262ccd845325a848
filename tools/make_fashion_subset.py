#!/usr/bin/env python3
"""Build the shipped deterministic Fashion-MNIST test subset.

Selection rule: for each class c = 0..9, take the first PER_CLASS (200) images of
the official Fashion-MNIST *test* split (t10k) whose label is c, in file order.
The union (2,000 images) is written in the ORIGINAL file order (sorted by test
index), as gzipped IDX files with the same layout as the originals:

  t10k-images-idx3-ubyte.gz : magic 0x00000803, dims (N, 28, 28) big-endian u32, u8 pixels
  t10k-labels-idx1-ubyte.gz : magic 0x00000801, dims (N,)         big-endian u32, u8 labels

The gzip header carries mtime=0 and no file name, so the output is byte-for-byte
reproducible. Also writes indices.txt (the chosen test-split indices, one per line),
LICENSE and README.md.

Usage:
  /usr/bin/python3 tools/make_fashion_subset.py \
      [--src /usr/share/datasets/fashion-mnist] [--out data/fashion-mnist-subset]
"""
import argparse
import gzip
import hashlib
import io
import os
import struct

import numpy as np

from idx import read_idx

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PER_CLASS = 200

LICENSE_TEXT = """The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def idx_bytes(arr):
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.tobytes()


def write_gz(path, payload):
    buf = io.BytesIO()
    # mtime=0, no filename -> deterministic bytes
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as g:
        g.write(payload)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


def select_indices(labels, per_class=PER_CLASS):
    chosen = []
    for c in range(10):
        idx = np.nonzero(labels == c)[0][:per_class]
        assert idx.size == per_class, f"class {c}: only {idx.size} images"
        chosen.append(idx)
    return np.sort(np.concatenate(chosen))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="data/fashion-mnist-subset")
    args = ap.parse_args()

    images = read_idx(os.path.join(args.src, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.src, "t10k-labels-idx1-ubyte.gz"))
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)

    sel = select_indices(labels)
    sub_x, sub_y = images[sel], labels[sel]
    os.makedirs(args.out, exist_ok=True)
    gz_img = write_gz(os.path.join(args.out, "t10k-images-idx3-ubyte.gz"), idx_bytes(sub_x))
    gz_lab = write_gz(os.path.join(args.out, "t10k-labels-idx1-ubyte.gz"), idx_bytes(sub_y))
    with open(os.path.join(args.out, "indices.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i in sel))
    with open(os.path.join(args.out, "LICENSE"), "w") as f:
        f.write(LICENSE_TEXT)

    # round-trip check
    rx = read_idx(os.path.join(args.out, "t10k-images-idx3-ubyte.gz"))
    ry = read_idx(os.path.join(args.out, "t10k-labels-idx1-ubyte.gz"))
    assert np.array_equal(rx, sub_x) and np.array_equal(ry, sub_y)

    counts = np.bincount(sub_y, minlength=10)
    ranges = []
    for c in range(10):
        ic = sel[sub_y == c]
        ranges.append((c, int(ic[0]), int(ic[-1])))
    sha_img = hashlib.sha256(gz_img).hexdigest()
    sha_lab = hashlib.sha256(gz_lab).hexdigest()
    sha_raw_img = hashlib.sha256(idx_bytes(sub_x)).hexdigest()
    sha_raw_lab = hashlib.sha256(idx_bytes(sub_y)).hexdigest()
    last = int(sel[-1])

    rows = "\n".join(
        f"| {c} | {CLASS_NAMES[c]} | {counts[c]} | {lo} | {hi} |" for c, lo, hi in ranges)
    readme = f"""# Fashion-MNIST test subset (2,000 images, class-balanced)

A deterministic, class-balanced subset of the official Fashion-MNIST **test** split
(`t10k-*`, 10,000 images), shipped with vitopt for accuracy tests of the reference
models in `models/fashion-vit.npz` and `models/fashion-mixer.npz`.

## How it was made

Generated by `tools/make_fashion_subset.py` (no randomness):

```
/usr/bin/python3 tools/make_fashion_subset.py --src <dir with t10k-*-ubyte.gz> --out data/fashion-mnist-subset
```

Rule: for each class c = 0..9, take the **first {PER_CLASS} test images with label c in file
order**; the union ({len(sel)} images) is kept in the **original test-file order** (sorted by
test index). The chosen 0-based test-split indices are listed in `indices.txt`, one per
line (all chosen indices are < {last + 1}, i.e. only the first {last + 1} test images are
ever looked at).

| class | name | count | first test index | last test index |
|---|---|---|---|---|
{rows}

## Files

| file | format | sha256 |
|---|---|---|
| `t10k-images-idx3-ubyte.gz` | gzipped IDX: magic `0x00000803`, dims `{len(sel)}, 28, 28` (big-endian u32), then u8 pixels row-major, 0 = background | `{sha_img}` |
| `t10k-labels-idx1-ubyte.gz` | gzipped IDX: magic `0x00000801`, dim `{len(sel)}` (big-endian u32), then u8 labels 0..9 | `{sha_lab}` |
| `indices.txt` | 0-based indices into the original 10,000-image test split | |
| `LICENSE` | Fashion-MNIST MIT licence | |

sha256 of the uncompressed IDX payloads: images `{sha_raw_img}`, labels `{sha_raw_lab}`.
The gzip streams are written with mtime 0 and no embedded file name, so re-running the
script reproduces the files byte for byte.

Class names (label order): {", ".join(f"{i} {n}" for i, n in enumerate(CLASS_NAMES))}.

## Licence

Fashion-MNIST is released under the MIT licence, Copyright (c) 2017 Zalando SE
(https://github.com/zalandoresearch/fashion-mnist). See `LICENSE`. This subset is a
verbatim selection of its images and labels.
"""
    with open(os.path.join(args.out, "README.md"), "w") as f:
        f.write(readme)
    print(f"wrote {len(sel)} images to {args.out}; per-class counts {counts.tolist()}; "
          f"last index {last}")
    print(f"sha256 images.gz {sha_img}\nsha256 labels.gz {sha_lab}")


if __name__ == "__main__":
    main()
