"""IDX (MNIST / Fashion-MNIST) reading for the Python tools: NumPy only, so that
make_fashion_subset.py needs no PyTorch."""
import gzip
import struct

import numpy as np


def read_idx(path):
    """Read a (gzipped) uint8 IDX file into a NumPy array of its declared shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: unsupported IDX header"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), f"{path}: size mismatch"
    return arr.reshape(dims).copy()
