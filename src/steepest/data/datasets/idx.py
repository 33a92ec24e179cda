"""Read and write IDX files, the format MNIST and Fashion-MNIST are distributed in.

Layout (all integers big-endian): two zero bytes, a type code (0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then one
4-byte size per dimension, then the values in C order. Files may be gzipped (detected by
their content, not their name).

Everything is validated: the magic number, the type code, and that the payload holds exactly
``prod(dims)`` values, so a truncated download or a file with trailing garbage is reported
by name with the expected and actual byte counts instead of becoming a wrongly shaped array.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_write_bytes

__all__ = ["read_idx", "write_idx", "parse_idx", "encode_idx", "read_idx_pair", "IDX_DTYPES"]

PathLike = str | os.PathLike[str]

#: IDX type code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES: dict[tuple[str, int], int] = {
    (dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()
}
_GZIP_MAGIC = b"\x1f\x8b"


def _codes_text() -> str:
    return ", ".join(f"0x{c:02X} ({dt.newbyteorder('=').name})" for c, dt in IDX_DTYPES.items())


def parse_idx(buf: bytes | bytearray | memoryview, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes (gzipped or not) into an array in native byte order.

    ``name`` is used in error messages (the file the bytes came from).
    """
    data = memoryview(buf).cast("B")
    if bytes(data[:2]) == _GZIP_MAGIC:
        try:
            data = memoryview(gzip.decompress(data)).cast("B")
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"read_idx: {name}: corrupt gzip data ({exc})") from None
    if len(data) < 4:
        raise ValueError(
            f"read_idx: {name}: file is {len(data)} bytes, too short for an IDX header (4+ bytes)"
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(bytes(data[:4]), "big")
    if zero0 != 0 or zero1 != 0:
        raise ValueError(
            f"read_idx: {name}: bad magic number 0x{magic:08X}; an IDX file starts with two "
            f"zero bytes, a type code and the number of dimensions (e.g. 0x00000803 for MNIST "
            f"images); this is not an IDX file"
        )
    if code not in IDX_DTYPES:
        raise ValueError(
            f"read_idx: {name}: unknown IDX type code 0x{code:02X} (magic 0x{magic:08X}); "
            f"valid codes are {_codes_text()}"
        )
    if ndim == 0:
        raise ValueError(f"read_idx: {name}: header declares 0 dimensions (magic 0x{magic:08X})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"read_idx: {name}: header declares {ndim} dimensions and needs {header} bytes, "
            f"but the file has only {len(data)} bytes (truncated)"
        )
    dims = tuple(int.from_bytes(bytes(data[4 + 4 * k : 8 + 4 * k]), "big") for k in range(ndim))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize
    actual = len(data) - header
    if actual != expected:
        what = "truncated" if actual < expected else "trailing bytes after the data"
        raise ValueError(
            f"read_idx: {name}: payload is {actual} bytes but the header (shape {dims}, "
            f"{dtype.newbyteorder('=').name}) needs exactly {expected} bytes ({what}); "
            f"the file is corrupt or incomplete, delete it and download it again"
        )
    arr = np.frombuffer(data, dtype=dtype, count=math.prod(dims), offset=header).reshape(dims)
    if dtype.itemsize > 1:
        arr = arr.astype(dtype.newbyteorder("="))  # native order (a copy)
    else:
        arr = arr.view(dtype.newbyteorder("="))
    return arr


def read_idx(
    path: PathLike,
    ndim: int | None = None,
    dtype: Any = None,
) -> np.ndarray:
    """Read an IDX file (``.gz`` or not) into a writable native-order array.

    Parameters
    ----------
    path
        The file. Gzip is detected from the content.
    ndim, dtype
        Optional expectations (e.g. ``ndim=3, dtype=np.uint8`` for MNIST images); a file
        that does not match raises ValueError naming it.
    """
    p = Path(path)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            buf = bytearray(size)
            n = f.readinto(buf)
    except FileNotFoundError:
        raise FileNotFoundError(f"read_idx: no such file: {p}") from None
    if n != size:  # pragma: no cover - file changed while reading
        raise ValueError(f"read_idx: {p}: read {n} bytes, expected {size}")
    arr = parse_idx(buf, str(p))
    if not arr.flags.writeable:
        arr = arr.copy()
    _check_expected(arr, str(p), ndim, dtype)
    return arr


def _check_expected(arr: np.ndarray, name: str, ndim: int | None, dtype: Any) -> None:
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"read_idx: {name}: expected a {ndim}-D array, got shape {arr.shape}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise ValueError(f"read_idx: {name}: expected dtype {np.dtype(dtype)}, got {arr.dtype}")


def encode_idx(array: Any) -> bytes:
    """Encode an array as IDX bytes (uncompressed)."""
    a = np.asarray(array)
    key = (a.dtype.kind, a.dtype.itemsize)
    if a.dtype.kind not in "uif" or key not in _CODES or (a.dtype.kind == "u" and a.itemsize != 1):
        raise ValueError(
            f"write_idx: dtype {a.dtype} cannot be stored in IDX; use one of uint8, int8, "
            f"int16, int32, float32, float64"
        )
    if a.ndim == 0 or a.ndim > 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got shape {a.shape}")
    if any(d >= 2**31 for d in a.shape):
        raise ValueError(f"write_idx: dimension too large for IDX (max 2**31-1): {a.shape}")
    code = _CODES[key]
    header = bytes([0, 0, code, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return header + np.ascontiguousarray(a, dtype=IDX_DTYPES[code]).tobytes()


def write_idx(path: PathLike, array: Any, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file, atomically; gzipped if the name ends in ``.gz``.

    ``compress`` overrides the choice by extension. The gzip stream carries no name or
    time stamp, so the same array always gives the same bytes.
    """
    p = Path(path)
    payload = encode_idx(array)
    if compress is None:
        compress = p.suffix == ".gz"
    if compress:
        bio = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=bio, mtime=0, compresslevel=9) as gz:
            gz.write(payload)
        payload = bio.getvalue()
    atomic_write_bytes(p, payload)
    return p


def read_idx_pair(
    images: PathLike | np.ndarray,
    labels: PathLike | np.ndarray,
    image_shape: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Read (or check) an image file and its label file and validate them together.

    Images must be 3-D ``(N, H, W)`` (``image_shape`` fixes ``(H, W)``) and labels 1-D with
    the same ``N``. Arrays may be passed instead of paths to check already-read data.
    """
    x = images if isinstance(images, np.ndarray) else read_idx(images)
    y = labels if isinstance(labels, np.ndarray) else read_idx(labels)
    xname = "images" if isinstance(images, np.ndarray) else str(images)
    yname = "labels" if isinstance(labels, np.ndarray) else str(labels)
    if x.ndim != 3:
        raise ValueError(f"read_idx_pair: {xname}: images must be 3-D (N, H, W), got {x.shape}")
    if image_shape is not None and x.shape[1:] != tuple(image_shape):
        raise ValueError(
            f"read_idx_pair: {xname}: images must be {tuple(image_shape)}, got {x.shape[1:]}"
        )
    if y.ndim != 1:
        raise ValueError(f"read_idx_pair: {yname}: labels must be 1-D (N,), got {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"read_idx_pair: {x.shape[0]} images in {xname} but {y.shape[0]} labels in "
            f"{yname}; the counts must match"
        )
    return x, y
