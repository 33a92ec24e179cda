"""Pooling and resizing as functions: max/avg pooling (1-D and 2-D), adaptive average and
max pooling, ``interpolate`` (nearest, bilinear).

Output sizes, ``ceil_mode``, border divisors and tie-breaking are PyTorch's. Adaptive
average pooling and interpolation are separable linear maps, computed as two small
matrix products (``P_h @ x @ P_wᵀ``) whose backward is the transposed products.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import as_array
from ..ops import matmul, mean, reshape
from ..ops.conv import Geom
from ..ops.pool import AvgPool2d, IndexGather, MaxPool2d
from ..tensor import Tensor
from ._common import dtype_of, on_device_of, shape_of
from .conv import _batched, _check_float, _unbatch, pair


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size (a window may not start in the right padding)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geom(xs: tuple[int, ...], kernel_size: Any, stride: Any, padding: Any,
               dilation: Any, ceil_mode: bool, where: str) -> Geom:
    k = pair(kernel_size, "kernel_size", where)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else pair(
        stride, "stride", where)
    p = pair(padding, "padding", where, minimum=0)
    d = pair(dilation, "dilation", where)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{where}: padding {p} should be at most half of the kernel size {k}")
    n, c, h, w = xs
    oh = _out_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(f"{where}: input of shape {xs} is too small for kernel {k} with "
                         f"padding {p} and dilation {d} (output would be {oh} x {ow})")
    # the bottom/right padding is extended so that the floor formula gives (oh, ow)
    pb = max(p[0], (oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0])
    pr = max(p[1], (ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1])
    gm = Geom(c, h, w, c, k[0], k[1], s, d, (p[0], pb, p[1], pr), 1)
    gm.oh, gm.ow = oh, ow
    return gm


def _prep(x: Any, nd: int, where: str, layout: str) -> tuple[Any, bool]:
    _check_float(x, where)
    return _batched(x, nd, where, layout)


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """2-D max pooling of (N, C, H, W); the gradient goes to the first maximum of each
    window (row-major), like PyTorch. ``return_indices`` adds the flat h·W + w positions."""
    x, unb = _prep(input, 4, "max_pool2d", "(N, C, H, W)")
    gm = _pool_geom(shape_of(x), kernel_size, stride, padding, dilation, ceil_mode,
                    "max_pool2d")
    fn = MaxPool2d(gm)
    y = fn(x)
    out = _unbatch(y) if unb else y
    if not return_indices:
        return out
    idx = fn.indices(y.data if isinstance(y, Tensor) else y)
    idx = idx[0] if unb else idx
    return out, Tensor(idx)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """1-D max pooling of (N, C, L): a max_pool2d over a unit height."""
    x, unb = _prep(input, 3, "max_pool1d", "(N, C, L)")
    n, c, length = shape_of(x)
    k = pair(kernel_size, "kernel_size", "max_pool1d", 1)[0]
    s = k if stride is None else pair(stride, "stride", "max_pool1d", 1)[0]
    p = pair(padding, "padding", "max_pool1d", 1, 0)[0]
    d = pair(dilation, "dilation", "max_pool1d", 1)[0]
    res = max_pool2d(reshape(x, (n, c, 1, length)), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                     return_indices)
    y, idx = res if return_indices else (res, None)
    ys = shape_of(y)
    y = reshape(y, (n, c, ys[3]))
    y = _unbatch(y) if unb else y
    if not return_indices:
        return y
    idx = Tensor(idx.data.reshape(n, c, ys[3]))
    return y, (Tensor(idx.data[0]) if unb else idx)


def _avg_inv(size: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    starts = np.arange(out) * s - p
    ends = np.minimum(starts + k, size + p)
    full = ends - starts
    valid = np.minimum(ends, size) - np.maximum(starts, 0)
    return (full if include_pad else valid).astype(np.float64)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Any:
    """2-D average pooling with PyTorch's border divisors (``count_include_pad``,
    ``ceil_mode``, ``divisor_override``)."""
    x, unb = _prep(input, 4, "avg_pool2d", "(N, C, H, W)")
    xs = shape_of(x)
    gm = _pool_geom(xs, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    dt = dtype_of(x)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or int(divisor_override) <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive integer, got "
                             f"{divisor_override!r}")
        inv: Any = 1.0 / int(divisor_override)
    else:
        ph = gm.pt
        pw = gm.pl
        dh = _avg_inv(xs[2], gm.oh, gm.kh, gm.sh, ph, count_include_pad)
        dw = _avg_inv(xs[3], gm.ow, gm.kw, gm.sw, pw, count_include_pad)
        div = dh[:, None] * dw[None, :]
        if np.all(div == div.flat[0]):
            inv = 1.0 / float(div.flat[0])
        else:
            inv = on_device_of((1.0 / div).astype(dt)[:, :, None], x)
    y = AvgPool2d(gm, inv)(x)
    return _unbatch(y) if unb else y


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Any:
    """1-D average pooling of (N, C, L)."""
    x, unb = _prep(input, 3, "avg_pool1d", "(N, C, L)")
    n, c, length = shape_of(x)
    k = pair(kernel_size, "kernel_size", "avg_pool1d", 1)[0]
    s = k if stride is None else pair(stride, "stride", "avg_pool1d", 1)[0]
    p = pair(padding, "padding", "avg_pool1d", 1, 0)[0]
    y = avg_pool2d(reshape(x, (n, c, 1, length)), (1, k), (1, s), (0, p), ceil_mode,
                   count_include_pad)
    y = reshape(y, (n, c, shape_of(y)[3]))
    return _unbatch(y) if unb else y


def _adaptive_size(output_size: Any, h: int, w: int, where: str) -> tuple[int, int]:
    if output_size is None or isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    if not isinstance(output_size, (tuple, list)) or len(output_size) != 2:
        raise ValueError(f"{where}: output_size must be an int or a pair, got {output_size!r}")
    out = (h if output_size[0] is None else output_size[0],
           w if output_size[1] is None else output_size[1])
    return pair(out, "output_size", where)


def _adaptive_bounds(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)  # floor, ceil


def _avg_matrix(size: int, out: int, dt: np.dtype) -> np.ndarray:
    starts, ends = _adaptive_bounds(size, out)
    m = np.zeros((out, size))
    for r, (a, b) in enumerate(zip(starts, ends)):
        m[r, a:b] = 1.0 / (b - a)
    return m.astype(dt)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:  # noqa: A002
    """Average pooling to a fixed output size (PyTorch's windows: floor(i·H/OH) to
    ceil((i+1)·H/OH)); global average pooling when the output is 1 x 1."""
    x, unb = _prep(input, 4, "adaptive_avg_pool2d", "(N, C, H, W)")
    xs = shape_of(x)
    oh, ow = _adaptive_size(output_size, xs[2], xs[3], "adaptive_avg_pool2d")
    if (oh, ow) == (1, 1):
        y = mean(x, axis=(2, 3), keepdims=True)
    elif xs[2] % oh == 0 and xs[3] % ow == 0:
        y = avg_pool2d(x, (xs[2] // oh, xs[3] // ow))
    else:
        dt = dtype_of(x)
        y = matmul(matmul(on_device_of(_avg_matrix(xs[2], oh, dt), x), x),
                   on_device_of(_avg_matrix(xs[3], ow, dt).T, x))
    return _unbatch(y) if unb else y


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False  # noqa: A002
                        ) -> Any:
    """Max pooling to a fixed output size; ``return_indices`` gives flat h·W + w positions."""
    x, unb = _prep(input, 4, "adaptive_max_pool2d", "(N, C, H, W)")
    n, c, h, w = shape_of(x)
    oh, ow = _adaptive_size(output_size, h, w, "adaptive_max_pool2d")
    hs, he = _adaptive_bounds(h, oh)
    ws, we = _adaptive_bounds(w, ow)
    kh, kw = int((he - hs).max()), int((we - ws).max())
    # candidate table (OH, OW, kh·kw) of flat positions, short windows padded by repeating
    # their first element (which changes neither the max nor the first argmax)
    rows = np.minimum(hs[:, None] + np.arange(kh), (he - 1)[:, None])
    rows = np.where(hs[:, None] + np.arange(kh) < he[:, None], rows, hs[:, None])
    cols = np.minimum(ws[:, None] + np.arange(kw), (we - 1)[:, None])
    cols = np.where(ws[:, None] + np.arange(kw) < we[:, None], cols, ws[:, None])
    table = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(oh, ow, kh * kw)
    # a repeated first element must come after the real ones: push pads to the end
    valid = ((hs[:, None] + np.arange(kh) < he[:, None])[:, None, :, None]
             & (ws[:, None] + np.arange(kw) < we[:, None])[None, :, None, :]
             ).reshape(oh, ow, kh * kw)
    order = np.argsort(~valid, axis=2, kind="stable")
    table = np.take_along_axis(table, order, axis=2)
    xd = x.data if isinstance(x, Tensor) else as_array(x)
    table = on_device_of(table, xd)
    cand = xd.reshape(n, c, h * w)[:, :, table]  # (N, C, OH, OW, K)
    win = cand.argmax(axis=4)
    idx = np.take_along_axis(np.broadcast_to(table, (n, c, oh, ow, kh * kw)),
                             win[..., None], axis=4)[..., 0]
    y = IndexGather(idx, (n, c, h, w))(x)
    out = _unbatch(y) if unb else y
    if not return_indices:
        return out
    return out, Tensor(idx[0] if unb else idx)


def _interp_matrix(size: int, out: int, mode: str, align_corners: bool,
                   scale: float | None, dt: np.dtype) -> np.ndarray:
    """The (out, size) matrix of 1-D nearest or linear interpolation, PyTorch's indices."""
    m = np.zeros((out, size), dtype=dt)
    dst = np.arange(out)
    if mode == "nearest":
        if out == size:
            src = dst
        else:
            sc = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
            src = np.minimum(np.floor(dst.astype(np.float32) * sc).astype(np.int64), size - 1)
        m[dst, src] = 1
        return m
    ft = np.float64 if dt == np.float64 else np.float32
    if align_corners:
        sc = ft((size - 1) / (out - 1)) if out > 1 else ft(0.0)
        src = dst.astype(ft) * sc
    else:
        sc = ft(1.0 / scale) if scale else ft(size) / ft(out)
        src = np.maximum(sc * (dst.astype(ft) + ft(0.5)) - ft(0.5), ft(0.0))
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = (src - i0).astype(dt)
    np.add.at(m, (dst, i0), 1 - lam)  # tiny (out, size) matrix: clarity over speed
    np.add.at(m, (dst, i1), lam)
    return m


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None) -> Any:
    """Resize (N, C, L) or (N, C, H, W) by ``size`` or ``scale_factor``; modes 'nearest'
    (1-D, 2-D), 'linear' (1-D) and 'bilinear' (2-D), with PyTorch's source indices."""
    shape = shape_of(input)
    _check_float(input, "interpolate")
    nsp = len(shape) - 2
    if nsp not in (1, 2):
        raise ValueError(f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, "
                         f"got shape {shape}")
    modes = {1: ("nearest", "linear"), 2: ("nearest", "bilinear")}[nsp]
    if mode not in modes:
        raise ValueError(f"interpolate: mode {mode!r} is not supported for a {len(shape)}-D "
                         f"input; use one of {modes}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to linear/bilinear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    spatial = shape[2:]
    if size is not None:
        out = pair(size, "size", "interpolate", nsp)
        scales: tuple[float | None, ...] = (None,) * nsp
    else:
        sf = (scale_factor,) * nsp if isinstance(scale_factor, (int, float)) else tuple(
            scale_factor)
        if len(sf) != nsp or any(not isinstance(v, (int, float)) or v <= 0 for v in sf):
            raise ValueError(f"interpolate: scale_factor must be a positive number or "
                             f"{nsp} of them, got {scale_factor!r}")
        out = tuple(int(math.floor(s * f)) for s, f in zip(spatial, sf))
        if any(o < 1 for o in out):
            raise ValueError(f"interpolate: scale_factor {scale_factor!r} gives an empty "
                             f"output for input shape {shape}")
        scales = (None,) * nsp if recompute_scale_factor else tuple(float(v) for v in sf)
    dt = dtype_of(input)
    ac = bool(align_corners)
    mats = [on_device_of(_interp_matrix(s, o, mode, ac, sc, dt), input)
            for s, o, sc in zip(spatial, out, scales)]
    if nsp == 1:
        return matmul(input, mats[0].T)
    return matmul(matmul(mats[0], input), mats[1].T)
