"""Pooling primitives: max and average pooling over 2-D windows, and index gather/scatter
(adaptive max pooling).

Like the convolutions these work on NHWC memory behind an NCHW API: a window op is kh·kw
elementwise passes over strided slices of the (padded) input (a reshape when the windows
tile the input), each pass as long as the output. Max pooling gives the gradient to the
*first* maximum of each window in row-major order, as PyTorch does (ties are not shared).

Each backward is the adjoint linear map of the forward (for max pooling: with the winning
positions held fixed, which is exact almost everywhere), written as a Function whose own
backward is the forward map again: second derivatives flow through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import array_module
from ..tensor import Tensor
from .conv import Geom, _contig, _nhwc_padded


def _data(a: Any) -> np.ndarray:
    return a.data if isinstance(a, Tensor) else a


def _window_max(xp: np.ndarray, gm: Geom) -> np.ndarray:
    """Elementwise maximum over the kh·kw strided tap slices (faster than a reduction over
    reshaped window axes, even when the windows tile)."""
    y = None
    for i in range(gm.kh):
        for j in range(gm.kw):
            rs, cs = gm.slices(i, j)
            s = xp[:, rs, cs]
            y = s.copy() if y is None else np.maximum(y, s, out=y)
    return y


def _winners(xp: np.ndarray, y: np.ndarray, gm: Geom) -> np.ndarray:
    """Tap index t = i·kw + j of the first maximum of each window, (N, OH, OW, C).

    Taps are visited last to first and each equal one overwrites, so the earliest wins;
    the overwrite is integer arithmetic (win -= (win - t)·eq), several times faster than
    a masked copy."""
    k = gm.kh * gm.kw
    itype = np.int8 if k < 128 else np.int32
    win = np.full_like(y, k - 1, dtype=itype)
    for t in reversed(range(k - 1)):
        rs, cs = gm.slices(*divmod(t, gm.kw))
        eq = (xp[:, rs, cs] == y).view(np.int8).astype(itype, copy=False)
        win -= (win - itype(t)) * eq
    return win


def _grad_buffer(gm: Geom, n: int, c: int, dtype: Any, like: Any) -> np.ndarray:
    """The padded NHWC input gradient: zeros, or (disjoint windows, each pixel written at
    most once) uninitialised but for the rows and columns no window reads."""
    if gm.disjoint:
        gp = np.empty_like(like, dtype=dtype, order="C", shape=(n, gm.h, gm.w, c))
        gp[:, gm.oh * gm.kh:] = 0
        gp[:, :, gm.ow * gm.kw:] = 0
        return gp
    return np.zeros_like(like, dtype=dtype, order="C",
                         shape=(n, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr, c))


def _first_max_scatter(xp: np.ndarray, yt: np.ndarray, gy: np.ndarray, gm: Geom
                       ) -> np.ndarray:
    """The plain max-pool backward in one pass over the taps, without a winners array:
    tap t takes the gradient where it equals the max and no earlier tap did (``taken``);
    the last tap takes what is left, as :func:`_winners` does."""
    gt = gy.transpose(0, 2, 3, 1)
    gp = _grad_buffer(gm, gt.shape[0], gt.shape[3], gy.dtype, gy)
    k = gm.kh * gm.kw
    taken = None
    for t in range(k):
        rs, cs = gm.slices(*divmod(t, gm.kw))
        if t == k - 1:
            m = ~taken if taken is not None else np.ones_like(yt, dtype=bool)
        else:
            m = xp[:, rs, cs] == yt
            if taken is None:
                taken = m.copy()
            else:
                np.greater(m, taken, out=m)  # m and not taken
                taken |= m
        if gm.disjoint:
            np.multiply(gt, m, out=gp[:, rs, cs])
        else:
            gp[:, rs, cs] += gt * m
    if gm.disjoint:
        return gp.transpose(0, 3, 1, 2)
    return gp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w].transpose(0, 3, 1, 2)


class MaxPool2d(Function):
    __slots__ = ("gm", "xp", "win")
    has_buffers = True

    def __init__(self, gm: Geom) -> None:
        self.gm, self.xp, self.win = gm, None, None

    @property
    def name(self) -> str:
        return "max_pool2d"

    def forward(self, x):
        self.xp = _nhwc_padded(x, self.gm, -np.inf)
        return _window_max(self.xp, self.gm).transpose(0, 3, 1, 2)

    def winners(self, y: np.ndarray) -> np.ndarray:
        if self.win is None:
            self.win = _winners(self.xp, y.transpose(0, 2, 3, 1), self.gm)
        return self.win

    def indices(self, y: np.ndarray) -> np.ndarray:
        """PyTorch's return_indices: flat h·W + w positions in the unpadded input."""
        gm = self.gm
        win = self.winners(y).astype(np.int64)
        i, j = np.divmod(win, gm.kw)
        xp = array_module(win)
        h = xp.arange(gm.oh).reshape(1, -1, 1, 1) * gm.sh + i * gm.dh - gm.pt
        w = xp.arange(gm.ow).reshape(1, 1, -1, 1) * gm.sw + j * gm.dw - gm.pl
        return _contig((h * gm.w + w).transpose(0, 3, 1, 2))

    def backward(self, gy, y, x):
        if isinstance(gy, Tensor) or self.win is not None:  # create_graph, or indices
            return MaxPoolScatter(self.gm, self.winners(_data(y)))(gy)
        return _first_max_scatter(self.xp, _data(y).transpose(0, 2, 3, 1), gy, self.gm)

    def release(self):
        self.xp = self.win = None


class MaxPoolScatter(Function):
    """Route each output gradient to its window's winner (the adjoint of the pick)."""

    __slots__ = ("gm", "win")

    def __init__(self, gm: Geom, win: np.ndarray) -> None:
        self.gm, self.win = gm, win

    def forward(self, gy):
        gm, win = self.gm, self.win
        gt = gy.transpose(0, 2, 3, 1)
        n, c = gt.shape[0], gt.shape[3]
        gp = _grad_buffer(gm, n, c, gy.dtype, gy)
        if gm.disjoint:  # every input pixel in at most one window: assign, do not add
            for t in range(gm.kh * gm.kw):
                rs, cs = gm.slices(*divmod(t, gm.kw))
                np.multiply(gt, win == t, out=gp[:, rs, cs])
            return gp.transpose(0, 3, 1, 2)
        for t in range(gm.kh * gm.kw):
            rs, cs = gm.slices(*divmod(t, gm.kw))
            gp[:, rs, cs] += gt * (win == t)
        return gp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w].transpose(0, 3, 1, 2)

    def backward(self, ggx, y, gy):
        return MaxPoolGather(self.gm, self.win)(ggx)


class MaxPoolGather(Function):
    """Pick each window's winner from x (the max pool with fixed winners)."""

    __slots__ = ("gm", "win")

    def __init__(self, gm: Geom, win: np.ndarray) -> None:
        self.gm, self.win = gm, win

    def forward(self, x):
        gm, win = self.gm, self.win
        xp = _nhwc_padded(x, gm, 0.0)
        y = np.zeros_like(x, shape=win.shape)
        for t in range(gm.kh * gm.kw):
            rs, cs = gm.slices(*divmod(t, gm.kw))
            y += xp[:, rs, cs] * (win == t)
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy, y, x):
        return MaxPoolScatter(self.gm, self.win)(gy)


class AvgPool2d(Function):
    """Window sums times ``inv`` (the reciprocal divisor: a float, or an (OH, OW, 1) array
    when PyTorch's divisor varies at the borders)."""

    __slots__ = ("gm", "inv")

    def __init__(self, gm: Geom, inv: Any) -> None:
        self.gm, self.inv = gm, inv

    @property
    def name(self) -> str:
        return "avg_pool2d"

    def forward(self, x):
        gm = self.gm
        xp = _nhwc_padded(x, gm, 0.0)
        n, c = xp.shape[0], xp.shape[3]
        if gm.tiles:
            y = xp.reshape(n, gm.oh, gm.kh, gm.ow, gm.kw, c).sum(axis=(2, 4))
        else:
            y = None
            for i in range(gm.kh):
                for j in range(gm.kw):
                    rs, cs = gm.slices(i, j)
                    y = xp[:, rs, cs].copy() if y is None else np.add(y, xp[:, rs, cs], out=y)
        y *= self.inv
        return y.transpose(0, 3, 1, 2)

    def backward(self, gy, y, x):
        return AvgPoolScatter(self.gm, self.inv)(gy)


class AvgPoolScatter(Function):
    """The adjoint of :class:`AvgPool2d`: each output gradient spread over its window."""

    __slots__ = ("gm", "inv")

    def __init__(self, gm: Geom, inv: Any) -> None:
        self.gm, self.inv = gm, inv

    def forward(self, gy):
        gm = self.gm
        gt = gy.transpose(0, 2, 3, 1) * self.inv
        n, c = gt.shape[0], gt.shape[3]
        if gm.tiles:
            g6 = np.empty_like(gy, shape=(n, gm.oh, gm.kh, gm.ow, gm.kw, c))
            g6[...] = gt[:, :, None, :, None]
            return g6.reshape(n, gm.h, gm.w, c).transpose(0, 3, 1, 2)
        gp = np.zeros_like(gy, shape=(n, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr, c))
        for i in range(gm.kh):
            for j in range(gm.kw):
                rs, cs = gm.slices(i, j)
                gp[:, rs, cs] += gt
        return gp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w].transpose(0, 3, 1, 2)

    def backward(self, ggx, y, gy):
        return AvgPool2d(self.gm, self.inv)(ggx)


class IndexGather(Function):
    """y[n, c, k] = x[n, c, idx[n, c, k]] over the flattened spatial axes."""

    __slots__ = ("idx", "shape")

    def __init__(self, idx: np.ndarray, shape: tuple[int, ...]) -> None:
        self.idx, self.shape = idx, shape

    def forward(self, x):
        n, c = x.shape[:2]
        return np.take_along_axis(x.reshape(n, c, -1), self.idx.reshape(n, c, -1), axis=2
                                  ).reshape(self.idx.shape)

    def backward(self, gy, y, x):
        return IndexScatter(self.idx, x.shape)(gy)


class IndexScatter(Function):
    """The adjoint of :class:`IndexGather`: gradients summed into their source positions
    (one ``np.bincount``, not ``np.add.at``)."""

    __slots__ = ("idx", "shape")

    def __init__(self, idx: np.ndarray, shape: tuple[int, ...]) -> None:
        self.idx, self.shape = idx, shape

    def forward(self, gy):
        n, c = self.shape[:2]
        hw = int(np.prod(self.shape[2:]))
        offs = (array_module(gy).arange(n * c, dtype=np.int64) * hw).reshape(n, c, 1)
        flat = (self.idx.reshape(n, c, -1) + offs).ravel()
        gx = np.bincount(flat, weights=gy.reshape(-1), minlength=n * c * hw)
        return gx.astype(gy.dtype, copy=False).reshape(self.shape)

    def backward(self, ggx, y, gy):
        return IndexGather(self.idx, self.shape)(ggx)
