"""Convolution primitives: conv2d, its two adjoints (gradient w.r.t. input and weight), and
im2col/col2im as public ops (unfold/fold).

The API is NCHW like PyTorch; inside, activations live in NHWC memory. The forward is
im2col (one copy out of a strided view of the padded input, ordered (N, OH, OW, kh, kw, C)
so the innermost axis reads contiguous channels) followed by one GEMM whose (N·OH·OW, O)
result *is* the NHWC output: it is returned as an NCHW-shaped transposed view, so no
layout transpose is ever copied on the hot path and the next layer's im2col reads it as it
lies. The backward is two GEMMs (dW = gᵀ·cols, dcols = g·W) and col2im as kh·kw strided
slice-adds (never ``np.add.at``).

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


def im2col(x: np.ndarray, gm: Geom) -> np.ndarray:
    """Patches of x as a (g, N·OH·OW, kh·kw·C/g) C-contiguous array (one copy)."""
    n = x.shape[0]
    g, cg = gm.g, gm.c // gm.g
    rows = n * gm.oh * gm.ow
    if (gm.kh == 1 and gm.kw == 1 and gm.sh == 1 and gm.sw == 1 and not gm.padded
            and g == 1):
        return _contig(x.transpose(0, 2, 3, 1)).reshape(1, rows, gm.c)
    xp = _nhwc_padded(x, gm)
    s_n, s_h, s_w, s_c = xp.strides
    view = _strided(xp, (g, n, gm.oh, gm.ow, gm.kh, gm.kw, cg),
                    (s_c * cg, s_n, s_h * gm.sh, s_w * gm.sw, s_h * gm.dh, s_w * gm.dw, s_c))
    return _contig(view).reshape(g, rows, gm.kh * gm.kw * cg)


def col2im(cols: np.ndarray, gm: Geom, n: int) -> np.ndarray:
    """The adjoint of :func:`im2col`: patches summed back into an (N, C, H, W) array (an
    NCHW view of NHWC memory). kh·kw strided slice-adds; a reshape when windows tile."""
    g, cg = gm.g, gm.c // gm.g
    c6 = cols.reshape(g, n, gm.oh, gm.ow, gm.kh, gm.kw, cg)
    if gm.tiles:
        # (g, N, OH, OW, kh, kw, Cg) -> (N, OH, kh, OW, kw, g, Cg): every pixel once
        out = _contig(c6.transpose(1, 2, 4, 3, 5, 0, 6))
        return out.reshape(n, gm.h, gm.w, gm.c).transpose(0, 3, 1, 2)
    hp, wp = gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr
    xp = np.zeros_like(cols, shape=(n, hp, wp, gm.c))
    if g == 1:
        c5 = c6[0]
        for i in range(gm.kh):
            for j in range(gm.kw):
                rs, cs = gm.slices(i, j)
                xp[:, rs, cs] += c5[:, :, :, i, j]
    else:
        xg = xp.reshape(n, hp, wp, g, cg)
        for i in range(gm.kh):
            for j in range(gm.kw):
                rs, cs = gm.slices(i, j)
                xg[:, rs, cs] += c6[:, :, :, :, i, j].transpose(1, 2, 3, 0, 4)
    xp = xp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w]
    return xp.transpose(0, 3, 1, 2)


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


def _forward(cols: np.ndarray, wm: np.ndarray, gm: Geom, n: int, b: Any, relu: bool
             ) -> np.ndarray:
    if gm.g == 1:
        y = cols[0] @ wm[0]
    else:
        y = np.matmul(cols, wm).transpose(1, 0, 2).reshape(cols.shape[1], gm.o)
    if b is not None:
        y += b
    if relu:
        np.maximum(y, 0, out=y)
    return y.reshape(n, gm.oh, gm.ow, gm.o).transpose(0, 3, 1, 2)


def _input_grad(g2: np.ndarray, wm: np.ndarray, gm: Geom, n: int) -> np.ndarray:
    if gm.g == 1:
        dcols = (g2 @ wm[0].T)[None]
    else:
        og = gm.o // gm.g
        g3 = _contig(g2.reshape(-1, gm.g, og).transpose(1, 0, 2))
        dcols = np.matmul(g3, wm.transpose(0, 2, 1))
    return col2im(dcols, gm, n)


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


def _weight_grad(g2: np.ndarray, cols: np.ndarray, gm: Geom) -> np.ndarray:
    g, cg, og = gm.g, gm.c // gm.g, gm.o // gm.g
    if g == 1:
        gw = _at_b(g2, cols[0])[None]
    else:
        g3 = g2.reshape(-1, g, og).transpose(1, 2, 0)
        gw = np.matmul(g3, cols)
    gw = gw.reshape(g, og, gm.kh, gm.kw, cg).transpose(0, 1, 4, 2, 3)
    return _contig(gw).reshape(gm.o, cg, gm.kh, gm.kw)


class Conv2d(Function):
    """y = conv(x, w) + b, optionally followed by ReLU in the same node."""

    __slots__ = ("gm", "relu", "cols")
    has_buffers = True

    def __init__(self, gm: Geom, relu: bool = False) -> None:
        self.gm, self.relu, self.cols = gm, relu, None

    @property
    def name(self) -> str:
        return "conv2d_relu" if self.relu else "conv2d"

    def forward(self, x, w, b=None):
        cols = im2col(x, self.gm)
        self.cols = cols  # reused by dW in a plain backward
        return _forward(cols, _wmat(w, self.gm), self.gm, x.shape[0], b, self.relu)

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
            g2 = _gmat(gy, gm)
            if self.relu:  # in place only on our own copy: a view of gy is others' too
                mask = _gmat(y, gm) > 0
                if np.may_share_memory(g2, gy):
                    g2 = g2 * mask
                else:
                    np.multiply(g2, mask, out=g2)
                del mask
            gw = gb = None
            if need_w:
                cols = self.cols if self.cols is not None else im2col(x, gm)
                gw = _weight_grad(g2, cols, gm)
                del cols
            if need_b:
                gb = g2.sum(axis=0)
            # dW is done: the patches go before dx allocates its own (a second backward,
            # under retain_graph, recomputes them from x)
            self.cols = None
            gx = _input_grad(g2, _wmat(w, gm), gm, x.shape[0]) if need_x else None
        if b is None:
            return gx, gw
        return gx, gw, gb

    def release(self):
        self.cols = None


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
        return _weight_grad(_gmat(gy, self.gm), im2col(x, self.gm), self.gm)

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
