"""Sorting and order statistics under PyTorch's names: sort, argsort, msort, topk,
kthvalue, median, nanmedian-free, unique.

Values are gathered from the input at the computed indices (``take_along_dim``), so their
gradient flows back to the elements picked (differentiable again); indices, argsort and
unique carry no gradient, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import array_module, as_array
from ..tensor import Tensor
from .indexing import gather
from .scan import ValuesIndices, norm_dim
from .shape import reshape, squeeze


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _const(a: Any) -> Tensor:
    return Tensor._make(as_array(a), False, None, 0)


def _order(r: np.ndarray, ax: int, descending: bool) -> np.ndarray:
    """Stable ascending or descending order (NaN last ascending, first descending, as
    torch)."""
    if not descending:
        return np.argsort(r, axis=ax, kind="stable")
    n = r.shape[ax]
    # reverse, stable-sort ascending, reverse again: equal elements keep their order
    flipped = np.flip(r, ax)
    o = np.flip(np.argsort(flipped, axis=ax, kind="stable"), ax)
    return (n - 1) - o


def _values(input: Any, ax: int, idx: np.ndarray) -> Any:  # noqa: A002
    r = as_array(_raw(input))
    if r.dtype.kind != "f" or not isinstance(input, Tensor):
        return _const(np.take_along_axis(r, idx, axis=ax))
    return gather(input, ax, idx)


def sort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
         stable: bool = False) -> ValuesIndices:
    """Sorted values and their original indices along ``dim``; always stable here."""
    r = as_array(_raw(input))
    if r.ndim == 0:
        return ValuesIndices(_values(reshape(input, (1,)), 0, np.zeros_like(r, shape=1,
                                                                             dtype=np.int64)
                                     ).reshape(()), _const(np.zeros_like(r, dtype=np.int64)))
    ax = norm_dim(dim, r.ndim, "sort")
    idx = _order(r, ax, descending)
    return ValuesIndices(_values(input, ax, idx), _const(idx.astype(np.int64)))


def argsort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    """Indices that sort ``input`` along ``dim`` (no gradient)."""
    r = as_array(_raw(input))
    if r.ndim == 0:
        return _const(np.zeros_like(r, dtype=np.int64))
    ax = norm_dim(dim, r.ndim, "argsort")
    return _const(_order(r, ax, descending).astype(np.int64))


def msort(input: Any) -> Any:  # noqa: A002
    return sort(input, 0).values


def topk(input: Any, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True) -> ValuesIndices:  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    r = as_array(_raw(input))
    nd = r.ndim
    ax = norm_dim(dim, nd, "topk")
    n = r.shape[ax] if nd else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for size {n} of dim {ax} (input "
                         f"shape {r.shape})")
    if nd == 0:
        return sort(input)
    idx = np.take(_order(r, ax, largest), array_module(r).arange(k), axis=ax)
    return ValuesIndices(_values(input, ax, idx), _const(idx.astype(np.int64)))


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False  # noqa: A002
             ) -> ValuesIndices:
    """The k-th smallest value (1-based) along ``dim`` and its index."""
    r = as_array(_raw(input))
    ax = norm_dim(dim, r.ndim, "kthvalue")
    n = r.shape[ax] if r.ndim else 1
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range [1, {n}] for dim {ax} (input "
                         f"shape {r.shape})")
    if r.ndim == 0:
        return sort(input)
    idx = np.take(_order(r, ax, False), [k - 1], axis=ax)
    v, i = _values(input, ax, idx), idx.astype(np.int64)
    if not keepdim:
        v, i = squeeze(v, ax), np.squeeze(i, ax)
    return ValuesIndices(v, _const(i))


def median(input: Any, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """The lower median (as torch: no averaging of the two middle values). Without ``dim``
    a 0-d tensor; with ``dim`` the values and their indices."""
    r = as_array(_raw(input))
    if dim is None:
        if r.size == 0:
            raise ValueError("median: the input is empty")
        flat = reshape(input, (-1,))
        return reshape(kthvalue(flat, (r.size + 1) // 2, 0).values, ())
    ax = norm_dim(dim, r.ndim, "median")
    n = r.shape[ax] if r.ndim else 1
    if n == 0:
        raise ValueError(f"median: dim {ax} of shape {r.shape} is empty")
    return kthvalue(input, (n + 1) // 2, ax, keepdim)


def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements (sorted), optionally with the inverse indices and counts;
    no gradient (as torch)."""
    r = as_array(_raw(input))
    axis = None if dim is None else norm_dim(dim, r.ndim, "unique")
    u, inv, cnt = np.unique(r, return_inverse=True, return_counts=True, axis=axis)
    out: list[Any] = [_const(u)]
    if return_inverse:
        out.append(_const(inv.reshape(r.shape if axis is None else -1).astype(np.int64)))
    if return_counts:
        out.append(_const(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input: Any, return_inverse: bool = False,  # noqa: A002
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """Collapse runs of equal consecutive elements (flattened input when dim is None)."""
    if dim is not None:
        raise NotImplementedError("unique_consecutive: only dim=None is supported")
    r = as_array(_raw(input)).reshape(-1)
    start = (np.concatenate((np.ones_like(r, shape=1, dtype=bool), r[1:] != r[:-1]))
             if r.size else np.zeros_like(r, shape=0, dtype=bool))
    out: list[Any] = [_const(r[start])]
    if return_inverse:
        out.append(_const((np.cumsum(start) - 1).reshape(np.shape(_raw(input)))
                          .astype(np.int64)))
    if return_counts:
        out.append(_const(np.diff(np.append(np.flatnonzero(start), r.size)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


__all__ = ["argsort", "kthvalue", "median", "msort", "sort", "topk", "unique",
           "unique_consecutive"]


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None) -> Tensor:
    """Insertion indices of ``input`` into the last dim of ``sorted_sequence`` (a 1-D
    sequence, or one row per leading index of input), as torch.searchsorted."""
    seq = as_array(_raw(sorted_sequence))
    v = as_array(_raw(input))
    sd = side or ("right" if right else "left")
    if seq.ndim <= 1:
        out = np.searchsorted(seq, v, side=sd)
    else:
        if seq.shape[:-1] != v.shape[:-1]:
            raise ValueError(f"searchsorted: leading dims of sorted_sequence {seq.shape} and "
                             f"input {v.shape} differ")
        s2, v2 = seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
        out = np.stack([np.searchsorted(a, b, side=sd) for a, b in zip(s2, v2)]
                       ).reshape(v.shape)
    return _const(out.astype(np.int32 if out_int32 else np.int64))


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """Bucket indices of ``input`` for the sorted 1-D ``boundaries`` (torch.bucketize)."""
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """Counts of each non-negative integer (weighted sums with ``weights``)."""
    r = as_array(_raw(input))
    if r.ndim != 1 or r.dtype.kind not in "iu" or (r.size and r.min() < 0):
        raise ValueError(f"bincount: input must be a 1-D tensor of non-negative integers, "
                         f"got shape {r.shape} dtype {r.dtype}")
    w = None if weights is None else as_array(_raw(weights))
    out = np.bincount(r, weights=w, minlength=minlength)
    dt = np.int64 if w is None else (w.dtype if w.dtype.kind == "f" else np.float64)
    return _const(out.astype(dt))


__all__ += ["bincount", "bucketize", "searchsorted"]
