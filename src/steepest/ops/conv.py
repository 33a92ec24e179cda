"""Convolution primitives: conv2d, its two adjoints (gradient w.r.t. input and weight), and
im2col/col2im as public ops (unfold/fold).

The API is NCHW like PyTorch; inside, activations live in NHWC memory. The forward is
im2col (one copy out of a strided view of the padded input, ordered (N, OH, OW, kh, kw, C)
so the innermost axis reads contiguous channels) followed by a GEMM whose (N·OH·OW, O)
result *is* the NHWC output: it is returned as an NCHW-shaped transposed view, so no
layout transpose is ever copied on the hot path and the next layer's im2col reads it as it
lies. The backward is two GEMMs (dW = gᵀ·cols, dcols = g·W) and col2im as kh·kw strided
slice-adds (never ``np.add.at``). All of it runs a chunk of the batch at a time through one
reused workspace (:data:`WORKSPACE_BYTES`): no full-batch patch matrix is ever built, and
none is kept from forward to backward.

Second derivatives: the three functions are the three faces of one bilinear map
B(x, w) = conv(x, w). Each one's backward is written with the other two, so a backward
recorded under ``create_graph=True`` is again made of convolutions:

    conv(x, w)            -> dx = conv_input_grad(g, w),  dw = conv_weight_grad(x, g)
    conv_input_grad(g, w) -> dg = conv(gg, w),            dw = conv_weight_grad(gg, g)
    conv_weight_grad(x, g)-> dx = conv_input_grad(g, gg), dg = conv(x, gg)

Called on raw arrays (a plain backward) each just runs its forward: the lean path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor


class Geom:
    """Geometry of one 2-D convolution: input (C, H, W), kernel, stride, dilation,
    padding (top, bottom, left, right), groups, and the output size."""

    __slots__ = ("c", "h", "w", "o", "kh", "kw", "sh", "sw", "dh", "dw", "pt", "pb", "pl",
                 "pr", "g", "oh", "ow")

    def __init__(self, c: int, h: int, w: int, o: int, kh: int, kw: int, stride: tuple,
                 dilation: tuple, pad: tuple, groups: int) -> None:
        self.c, self.h, self.w, self.o, self.kh, self.kw = c, h, w, o, kh, kw
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        self.pt, self.pb, self.pl, self.pr = pad
        self.g = groups
        self.oh = (h + self.pt + self.pb - self.dh * (kh - 1) - 1) // self.sh + 1
        self.ow = (w + self.pl + self.pr - self.dw * (kw - 1) - 1) // self.sw + 1

    @property
    def padded(self) -> bool:
        return bool(self.pt or self.pb or self.pl or self.pr)

    def slices(self, i: int, j: int) -> tuple[slice, slice]:
        """Rows and columns of the padded input that kernel tap (i, j) reads."""
        h0, w0 = i * self.dh, j * self.dw
        return (slice(h0, h0 + self.sh * (self.oh - 1) + 1, self.sh),
                slice(w0, w0 + self.sw * (self.ow - 1) + 1, self.sw))

    @property
    def disjoint(self) -> bool:
        """Windows do not overlap (stride = kernel, no dilation or padding); rows and
        columns past the last window are never read."""
        return (self.sh == self.kh and self.sw == self.kw and self.dh == 1 and self.dw == 1
                and not self.padded)

    @property
    def tiles(self) -> bool:
        """Windows neither overlap nor leave gaps: col2im is a reshape, not slice-adds."""
        return (self.sh == self.kh and self.sw == self.kw and self.dh == 1 and self.dw == 1
                and not self.padded and self.oh * self.kh == self.h
                and self.ow * self.kw == self.w)


def _contig(a: Any) -> Any:
    """np.ascontiguousarray by ``a``'s own module (the NumPy one does not dispatch)."""
    if type(a) is np.ndarray:
        return np.ascontiguousarray(a)
    return array_module(a).ascontiguousarray(a)


def _strided(x: Any, shape: tuple[int, ...], strides: tuple[int, ...]) -> Any:
    """A read-only strided view of ``x``, by its own module (CuPy has no writeable=)."""
    if type(x) is np.ndarray:
        return as_strided(x, shape=shape, strides=strides, writeable=False)
    return array_module(x).lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def _nhwc_padded(x: np.ndarray, gm: Geom, fill: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) as an (N, Hp, Wp, C) array: a transposed view when there is no
    padding, else one copy into a zero (or ``fill``) buffer."""
    xt = x.transpose(0, 2, 3, 1)
    if not gm.padded:
        return xt
    n = x.shape[0]
    xp = np.full_like(x, fill, shape=(n, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr,
                                      x.shape[1]))
    xp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w] = xt
    return xp


#: Bytes of the one im2col workspace a convolution fills and reuses, chunk by chunk of the
#: batch, instead of materialising the patches of the whole batch (config C's second layer:
#: 17.8 MB of patches at batch 128). 4 MiB keeps each chunk's GEMM large and in cache.
WORKSPACE_BYTES = 4 << 20


def _is_pointwise(gm: Geom) -> bool:
    return (gm.kh == 1 and gm.kw == 1 and gm.sh == 1 and gm.sw == 1 and not gm.padded
            and gm.g == 1)


def _patch_view(x: np.ndarray, gm: Geom) -> np.ndarray:
    """The patches of x as a read-only strided view (g, N, OH, OW, kh, kw, C/g)."""
    n, cg = x.shape[0], gm.c // gm.g
    xp = _nhwc_padded(x, gm)
    s_n, s_h, s_w, s_c = xp.strides
    return _strided(xp, (gm.g, n, gm.oh, gm.ow, gm.kh, gm.kw, cg),
                    (s_c * cg, s_n, s_h * gm.sh, s_w * gm.sw, s_h * gm.dh, s_w * gm.dw, s_c))


def _chunk(gm: Geom, n: int, itemsize: int) -> int:
    """Samples per workspace chunk: their patches and their output-gradient rows."""
    per = gm.oh * gm.ow * (gm.kh * gm.kw * gm.c + gm.o) * itemsize
    return max(1, min(n, WORKSPACE_BYTES // max(per, 1)))


class _Workspace:
    """One (g, rows, kh·kw·C/g) buffer for a chunk of samples, filled in turn by im2col of
    each chunk or by the patch gradients of each chunk (the two never overlap in time)."""

    __slots__ = ("gm", "step", "buf")

    def __init__(self, gm: Geom, n: int, dtype: Any, like: Any) -> None:
        self.gm = gm
        self.step = _chunk(gm, n, np.dtype(dtype).itemsize)
        # on like's device; allocated on first use (a 1x1 needs none)
        self.buf = np.empty_like(like, dtype=dtype, shape=(0,))

    def chunks(self, n: int) -> Any:
        return ((s, min(s + self.step, n)) for s in range(0, n, self.step))

    def cols(self, m: int) -> np.ndarray:
        """The workspace as the (g, m·OH·OW, K) patch matrix of m samples."""
        gm = self.gm
        k = gm.kh * gm.kw * (gm.c // gm.g)
        if not self.buf.size:
            self.buf = np.empty_like(self.buf, shape=(gm.g * self.step * gm.oh * gm.ow * k,))
        return self.buf[:gm.g * m * gm.oh * gm.ow * k].reshape(gm.g, m * gm.oh * gm.ow, k)

    def im2col(self, x: np.ndarray) -> np.ndarray:
        """Patches of the samples x into the workspace (no copy for a 1x1 convolution of
        NHWC memory)."""
        gm, m = self.gm, x.shape[0]
        if _is_pointwise(gm):
            return _contig(x.transpose(0, 2, 3, 1)).reshape(1, -1, gm.c)
        cols = self.cols(m)
        np.copyto(cols.reshape(gm.g, m, gm.oh, gm.ow, gm.kh, gm.kw, -1), _patch_view(x, gm))
        return cols


def _col2im_into(cols: np.ndarray, gm: Geom, xp: np.ndarray) -> None:
    """Add patches (g, n·OH·OW, K) into the padded NHWC buffer xp (n, Hp, Wp, C); when the
    windows tile, assign (xp may then be uninitialised)."""
    n = xp.shape[0]
    g, cg = gm.g, gm.c // gm.g
    c6 = cols.reshape(g, n, gm.oh, gm.ow, gm.kh, gm.kw, cg)
    if gm.tiles:
        # (g, N, OH, OW, kh, kw, Cg) -> (N, OH, kh, OW, kw, g, Cg): every pixel once
        xp.reshape(n, gm.oh, gm.kh, gm.ow, gm.kw, g, cg)[...] = c6.transpose(1, 2, 4, 3, 5,
                                                                             0, 6)
        return
    if g == 1:
        c5 = c6[0]
        for i in range(gm.kh):
            for j in range(gm.kw):
                rs, cs = gm.slices(i, j)
                xp[:, rs, cs] += c5[:, :, :, i, j]
    else:
        xg = xp.reshape(n, xp.shape[1], xp.shape[2], g, cg)
        for i in range(gm.kh):
            for j in range(gm.kw):
                rs, cs = gm.slices(i, j)
                xg[:, rs, cs] += c6[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)


def _padded_grad(gm: Geom, n: int, dtype: Any, like: Any) -> np.ndarray:
    shape = (n, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr, gm.c)
    make = np.empty_like if gm.tiles else np.zeros_like  # on like's device
    return make(like, dtype=dtype, order="C", shape=shape)


def _unpad(xp: np.ndarray, gm: Geom) -> np.ndarray:
    """The padded NHWC buffer as the (N, C, H, W) view of its interior."""
    return xp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w].transpose(0, 3, 1, 2)


def _wmat(w: np.ndarray, gm: Geom) -> np.ndarray:
    """Weight (O, C/g, kh, kw) as (g, kh·kw·C/g, O/g), the row order of im2col."""
    g = gm.g
    og, cg = gm.o // g, gm.c // g
    w5 = w.reshape(g, og, cg, gm.kh, gm.kw).transpose(0, 3, 4, 2, 1)
    return _contig(w5).reshape(g, gm.kh * gm.kw * cg, og)


def _gmat(gy: np.ndarray, gm: Geom) -> np.ndarray:
    """Output gradient (N, O, OH, OW) as (N·OH·OW, O), C-contiguous (free when gy lies in
    NHWC memory, as the gradients of our own ops do)."""
    return _contig(gy.transpose(0, 2, 3, 1)).reshape(-1, gm.o)


def _forward(x: np.ndarray, wm: np.ndarray, gm: Geom, b: Any, relu: bool) -> np.ndarray:
    """conv(x) (+ b) (ReLU), one workspace chunk of samples at a time: each chunk's GEMM
    writes its rows of the (N·OH·OW, O) = NHWC output, and bias and ReLU run on them while
    they are still in cache."""
    n, ohw = x.shape[0], gm.oh * gm.ow
    dtype = np.result_type(x.dtype, wm.dtype)
    y = np.empty_like(x, dtype=dtype, order="C", shape=(n * ohw, gm.o))
    ws = _Workspace(gm, n, dtype, x)
    for s, e in ws.chunks(n):
        cols, yc = ws.im2col(x[s:e]), y[s * ohw:e * ohw]
        if gm.g == 1:
            np.matmul(cols[0], wm[0], out=yc)
        else:
            yc[...] = np.matmul(cols, wm).transpose(1, 0, 2).reshape(-1, gm.o)
        if b is not None:
            yc += b
        if relu:
            np.maximum(yc, 0, out=yc)
    return y.reshape(n, gm.oh, gm.ow, gm.o).transpose(0, 3, 1, 2)


def _dcols(g2c: np.ndarray, wm: np.ndarray, gm: Geom, out: np.ndarray) -> None:
    """Patch gradients of one chunk, g·Wᵀ, into ``out`` (g, rows, K)."""
    if gm.g == 1:
        np.matmul(g2c, wm[0].T, out=out[0])
    else:
        og = gm.o // gm.g
        np.matmul(g2c.reshape(-1, gm.g, og).transpose(1, 0, 2), wm.transpose(0, 2, 1),
                  out=out)


def _dw_chunk(g2c: np.ndarray, cols: np.ndarray, gm: Geom) -> np.ndarray:
    """One chunk's share of dW as (g, O/g, K)."""
    if gm.g == 1:
        return _at_b(g2c, cols[0])[None]
    return np.matmul(g2c.reshape(-1, gm.g, gm.o // gm.g).transpose(1, 2, 0), cols)


def _wshape(gw: np.ndarray, gm: Geom) -> np.ndarray:
    """(g, O/g, kh·kw·C/g) in im2col order as the (O, C/g, kh, kw) weight gradient."""
    g, cg, og = gm.g, gm.c // gm.g, gm.o // gm.g
    gw = gw.reshape(g, og, gm.kh, gm.kw, cg).transpose(0, 1, 4, 2, 3)
    return _contig(gw).reshape(gm.o, cg, gm.kh, gm.kw)


def _grads(g2: np.ndarray, x: Any, wm: Any, gm: Geom, n: int, dtype: Any, need_w: bool,
           need_x: bool, need_b: bool = False, relu_y: Any = None) -> tuple[Any, Any, Any]:
    """dW (from x and g), dx (from g and W) and db, sharing one workspace chunk by chunk:
    a chunk's patches give its share of dW, then the same buffer takes its patch
    gradients, which col2im adds into dx. No full-batch patch matrix is ever held, and
    the ReLU mask (``relu_y``: the (N·OH·OW, O) output) is applied a chunk at a time too,
    into a chunk-sized buffer rather than a copy of the whole gradient."""
    ohw = gm.oh * gm.ow
    ws = _Workspace(gm, n, dtype, g2)
    gw = gb = None
    xp = _padded_grad(gm, n, dtype, g2) if need_x else None
    gbuf = None if relu_y is None else np.empty_like(g2, order="C", shape=(ws.step * ohw, gm.o))
    for s, e in ws.chunks(n):
        g2c = g2[s * ohw:e * ohw]
        if relu_y is not None:
            g2c = np.multiply(g2c, relu_y[s * ohw:e * ohw] > 0, out=gbuf[:len(g2c)])
        if need_b:
            part = g2c.sum(axis=0)
            gb = part if gb is None else np.add(gb, part, out=gb)
        if need_w:
            part = _dw_chunk(g2c, ws.im2col(x[s:e]), gm)
            gw = part if gw is None else np.add(gw, part, out=gw)
        if need_x:
            cols = ws.cols(e - s)
            _dcols(g2c, wm, gm, cols)
            _col2im_into(cols, gm, xp[s:e])
    if n == 0:  # an empty batch: no chunks, zero gradients
        gw = np.zeros_like(g2, dtype=dtype, shape=(gm.g, gm.o // gm.g,
                                                   gm.kh * gm.kw * (gm.c // gm.g)))
        gb = np.zeros_like(g2, shape=(gm.o,)) if need_b else None
    return (_wshape(gw, gm) if need_w else None), (_unpad(xp, gm) if need_x else None), gb


def _input_grad(g2: np.ndarray, wm: np.ndarray, gm: Geom, n: int) -> np.ndarray:
    dtype = np.result_type(g2.dtype, wm.dtype)
    return _grads(g2, None, wm, gm, n, dtype, False, True)[1]


def _at_b(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """aᵀ·b for tall C-contiguous a (K, m) and b (K, n), the shape of every dW.

    OpenBLAS is up to 20x slower on one of the two orientations of such a product and on
    tiny outputs with a huge K (measured here: 13 vs 195 ms for K=86528, m=32, n=9), so
    the larger side becomes the rows, and tiny outputs are summed over K-blocks."""
    k, m = a.shape
    n = b.shape[1]
    if m * n <= 4096 and k >= 16384:
        nb = 64
        q = k // nb
        out = np.matmul(a[:nb * q].reshape(nb, q, m).transpose(0, 2, 1),
                        b[:nb * q].reshape(nb, q, n)).sum(axis=0)
        if k > nb * q:
            out += a[nb * q:].T @ b[nb * q:]
        return out
    return a.T @ b if m >= n else (b.T @ a).T


def _weight_grad(g2: np.ndarray, x: np.ndarray, gm: Geom) -> np.ndarray:
    dtype = np.result_type(g2.dtype, x.dtype)
    return _grads(g2, x, None, gm, x.shape[0], dtype, True, False)[0]


class Conv2d(Function):
    """y = conv(x, w) + b, optionally followed by ReLU in the same node. Nothing but the
    inputs is kept for backward: the patches are rebuilt there, chunk by chunk."""

    __slots__ = ("gm", "relu")

    def __init__(self, gm: Geom, relu: bool = False) -> None:
        self.gm, self.relu = gm, relu

    @property
    def name(self) -> str:
        return "conv2d_relu" if self.relu else "conv2d"

    def forward(self, x, w, b=None):
        return _forward(x, _wmat(w, self.gm), self.gm, b, self.relu)

    def backward(self, gy, y, x, w, b=None):
        gm = self.gm
        need_x, need_w = self.needs_grad(0), self.needs_grad(1)
        need_b = b is not None and self.needs_grad(2)
        if isinstance(gy, Tensor):  # create_graph: written with the adjoint ops
            if self.relu:
                gy = gy * (y > 0)
            gx = ConvInputGrad(gm)(gy, w) if need_x else None
            gw = ConvWeightGrad(gm)(x, gy) if need_w else None
            gb = gy.sum(axis=(0, 2, 3)) if need_b else None
        else:
            gw, gx, gb = _grads(_gmat(gy, gm), x, _wmat(w, gm), gm, x.shape[0],
                                np.result_type(gy.dtype, x.dtype), need_w, need_x, need_b,
                                _gmat(y, gm) if self.relu else None)
        if b is None:
            return gx, gw
        return gx, gw, gb


class ConvInputGrad(Function):
    """The gradient of conv(x, w) w.r.t. x, as a function of (gy, w); this is also the
    transposed convolution."""

    __slots__ = ("gm",)

    def __init__(self, gm: Geom) -> None:
        self.gm = gm

    @property
    def name(self) -> str:
        return "conv_transpose2d"

    def forward(self, gy, w):
        return _input_grad(_gmat(gy, self.gm), _wmat(w, self.gm), self.gm, gy.shape[0])

    def backward(self, ggx, y, gy, w):
        gm = self.gm
        d_gy = Conv2d(gm)(ggx, w) if self.needs_grad(0) else None
        d_w = ConvWeightGrad(gm)(ggx, gy) if self.needs_grad(1) else None
        return d_gy, d_w


class ConvWeightGrad(Function):
    """The gradient of conv(x, w) w.r.t. w, as a function of (x, gy)."""

    __slots__ = ("gm",)

    def __init__(self, gm: Geom) -> None:
        self.gm = gm

    @property
    def name(self) -> str:
        return "conv2d_weight_grad"

    def forward(self, x, gy):
        return _weight_grad(_gmat(gy, self.gm), x, self.gm)

    def backward(self, ggw, y, x, gy):
        gm = self.gm
        d_x = ConvInputGrad(gm)(gy, ggw) if self.needs_grad(0) else None
        d_gy = Conv2d(gm)(x, ggw) if self.needs_grad(1) else None
        return d_x, d_gy


# -- unfold / fold (im2col as a public op, in PyTorch's (N, C·kh·kw, L) order) ------------


def _unfold(x: np.ndarray, gm: Geom) -> np.ndarray:
    n = x.shape[0]
    xp = _nhwc_padded(x, gm)
    s_n, s_h, s_w, s_c = xp.strides
    view = _strided(xp, (n, gm.c, gm.kh, gm.kw, gm.oh, gm.ow),
                    (s_n, s_c, s_h * gm.dh, s_w * gm.dw, s_h * gm.sh, s_w * gm.sw))
    return _contig(view).reshape(n, gm.c * gm.kh * gm.kw, gm.oh * gm.ow)


def _fold(cols: np.ndarray, gm: Geom) -> np.ndarray:
    n = cols.shape[0]
    c6 = cols.reshape(n, gm.c, gm.kh, gm.kw, gm.oh, gm.ow)
    hp, wp = gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr
    xp = np.zeros_like(cols, shape=(n, gm.c, hp, wp))
    for i in range(gm.kh):
        for j in range(gm.kw):
            rs, cs = gm.slices(i, j)
            xp[:, :, rs, cs] += c6[:, :, i, j]
    return xp[:, :, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w]


class Unfold(Function):
    __slots__ = ("gm",)

    def __init__(self, gm: Geom) -> None:
        self.gm = gm

    def forward(self, x):
        return _unfold(x, self.gm)

    def backward(self, gy, y, x):
        return Fold(self.gm)(gy)


class Fold(Function):
    __slots__ = ("gm",)

    def __init__(self, gm: Geom) -> None:
        self.gm = gm

    def forward(self, cols):
        return _fold(cols, self.gm)

    def backward(self, gx, y, cols):
        return Unfold(self.gm)(gx)
