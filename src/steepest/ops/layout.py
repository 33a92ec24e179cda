"""Shape and layout ops under PyTorch's names: pad, flip, roll, repeat, repeat_interleave,
tile, expand, unflatten, narrow, movedim, tril/triu, diagonal, diag, diag_embed, split (with
torch's sizes), meshgrid, hstack/vstack, view_as/reshape_as/expand_as.

Most are compositions of differentiable primitives (slicing, reshape, broadcast,
index_select), so their gradients of any order come for free; pad's reflect, replicate and
circular modes are one index_select per padded dimension (the indices come from ``np.pad``
on an ``arange``), so their backward is the sort-based scatter-add of repeated rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import as_array, device_of, is_device_array, to_device
from ..tensor import Tensor
from . import arithmetic as _ar
from .indexing import IndexSelect
from .scan import norm_dim
from .shape import broadcast_to, concatenate, getitem, permute, reshape, unsqueeze


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _shape(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _sizes(args: Sequence[Any]) -> tuple[int, ...]:
    """``f(2, 3)`` and ``f((2, 3))`` both mean the sizes (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, np.ndarray)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


def _dims(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    ds = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    out = tuple(norm_dim(d, ndim, op) for d in ds)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated dim in {dims}")
    return out


# -- pad ------------------------------------------------------------------------------------


class ConstantPad(Function):
    __slots__ = ("widths", "value")

    def __init__(self, widths: list[tuple[int, int]], value: float) -> None:
        self.widths, self.value = widths, value

    def forward(self, x):
        return np.pad(x, self.widths, constant_values=self.value)

    def backward(self, gy, y, x):
        return getitem(gy, tuple(slice(lo, lo + s) for (lo, _), s in
                                 zip(self.widths, _shape(x))))


_NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Any, pad: Sequence[int], mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Any:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` = (left of last dim, right of last dim,
    left of the one before, ...) as torch.nn.functional.pad. Modes: 'constant' (negative
    widths crop), 'reflect', 'replicate', 'circular'."""
    p = [int(v) for v in pad]
    xs = _shape(input)
    if len(p) % 2 or len(p) // 2 > len(xs):
        raise ValueError(f"pad: padding {tuple(p)} must have an even length of at most "
                         f"2 * ndim = {2 * len(xs)} (input shape {xs})")
    k = len(p) // 2
    pairs = [(0, 0)] * (len(xs) - k) + [(p[2 * i], p[2 * i + 1]) for i in range(k)][::-1]
    if mode == "constant":
        crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(pairs, xs))
        x = input
        if any(lo < 0 or hi < 0 for lo, hi in pairs):
            x = getitem(input, crop)
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        if all(w == (0, 0) for w in widths):
            return x if x is not input else input * 1.0
        return ConstantPad(widths, 0.0 if value is None else float(value))(x)
    if mode not in _NP_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                         f"'circular', got {mode!r}")
    if value not in (None, 0, 0.0):
        raise ValueError(f"pad: value is only used by mode='constant', not {mode!r}")
    x = input
    for d, ((lo, hi), n) in enumerate(zip(pairs, xs)):
        if lo == hi == 0:
            continue
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative padding {(lo, hi)} needs mode='constant'")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding {(lo, hi)} must be smaller than the size "
                             f"{n} of dim {d} (input shape {xs})")
        if n == 0 or (mode == "circular" and (lo > n or hi > n)):
            raise ValueError(f"pad: {mode} padding {(lo, hi)} is too large for size {n} of "
                             f"dim {d} (input shape {xs})")
        idx = np.pad(np.arange(n), (lo, hi), mode=_NP_MODES[mode])
        x = IndexSelect(d, idx)(x)
    return x


# -- flips, rolls, repeats ------------------------------------------------------------------


def flip(input: Any, dims: Any) -> Any:  # noqa: A002
    """Reverse the order of elements along ``dims``."""
    xs = _shape(input)
    ds = _dims(dims, len(xs), "flip")
    if not xs:
        return input * 1.0
    return getitem(input, tuple(slice(None, None, -1) if d in ds else slice(None)
                                for d in range(len(xs))))


def fliplr(input: Any) -> Any:  # noqa: A002
    return flip(input, 1)


def flipud(input: Any) -> Any:  # noqa: A002
    return flip(input, 0)


def roll(input: Any, shifts: Any, dims: Any = None) -> Any:  # noqa: A002
    """Shift elements cyclically along ``dims`` (the flattened tensor when dims is None)."""
    xs = _shape(input)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise ValueError("roll: with dims=None, shifts must be one integer")
        return reshape(roll(reshape(input, (-1,)), int(shifts), 0), xs)
    sh = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    ds = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(sh) != len(ds):
        raise ValueError(f"roll: shifts {sh} and dims {ds} must have the same length")
    x = input
    for s, d in zip(sh, ds):
        d = norm_dim(d, len(xs), "roll")
        n = xs[d]
        if n == 0 or int(s) % n == 0:
            continue
        x = IndexSelect(d, (np.arange(n) - int(s)) % n)(x)
    return x if x is not input else input * 1.0


def repeat(input: Any, *sizes: Any) -> Any:  # noqa: A002
    """Tile the tensor ``sizes[i]`` times along dim i (torch's Tensor.repeat; numpy.tile
    semantics; ``sizes`` may add leading dims)."""
    reps = _sizes(sizes)
    xs = _shape(input)
    if len(reps) < len(xs):
        raise ValueError(f"repeat: {len(reps)} repeat counts {reps} for a {len(xs)}-d tensor; "
                         f"give at least one per dim")
    full = (1,) * (len(reps) - len(xs)) + tuple(xs)
    inter = []
    target = []
    for r, s in zip(reps, full):
        inter += [1, s]
        target += [r, s]
    y = broadcast_to(reshape(input, tuple(inter)), tuple(target))
    return reshape(y, tuple(r * s for r, s in zip(reps, full)))


def tile(input: Any, dims: Sequence[int]) -> Any:  # noqa: A002
    """Like :func:`repeat`, with fewer counts than dims meaning leading ones (torch.tile)."""
    reps = _sizes((dims,))
    nd = len(_shape(input))
    return repeat(input, (1,) * (nd - len(reps)) + reps)


def repeat_interleave(input: Any, repeats: Any, dim: int | None = None,  # noqa: A002
                      *, output_size: int | None = None) -> Any:
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``dim`` (of the flattened tensor when dim is None)."""
    x = input
    if dim is None:
        x = reshape(input, (-1,))
        dim = 0
    xs = _shape(x)
    d = norm_dim(dim, len(xs), "repeat_interleave")
    reps = as_array(_raw(repeats))
    if reps.dtype.kind not in "iu" or (reps.ndim == 1 and len(reps) not in (1, xs[d])) \
            or reps.ndim > 1 or (reps.size and reps.min() < 0):
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or one per "
                         f"element of dim {d} (size {xs[d]}), got {reps.tolist()}")
    idx = np.repeat(np.arange(xs[d]), reps.reshape(-1) if reps.ndim else int(reps))
    if output_size is not None and len(idx) != output_size:
        raise ValueError(f"repeat_interleave: output_size {output_size} != {len(idx)}")
    return IndexSelect(d, idx)(x)


def expand(input: Any, *sizes: Any) -> Any:  # noqa: A002
    """Broadcast to ``sizes`` (-1 keeps a dim; new dims are added in front)."""
    want = _sizes(sizes)
    xs = _shape(input)
    if len(want) < len(xs):
        raise ValueError(f"expand: {len(want)} sizes {want} for a {len(xs)}-d tensor {xs}")
    lead = len(want) - len(xs)
    shape = []
    for i, w in enumerate(want):
        if w == -1:
            if i < lead:
                raise ValueError(f"expand: -1 is not allowed for a new leading dim ({want})")
            w = xs[i - lead]
        shape.append(w)
    for i, s in enumerate(xs):
        if s != 1 and s != shape[lead + i]:
            raise ValueError(f"expand: dim {i} of shape {xs} has size {s}, which cannot "
                             f"expand to {shape[lead + i]} (target {tuple(shape)})")
    return broadcast_to(input, tuple(shape))


def expand_as(input: Any, other: Any) -> Any:  # noqa: A002
    return expand(input, _shape(other))


def view_as(input: Any, other: Any) -> Any:  # noqa: A002
    return reshape(input, _shape(other))


reshape_as = view_as


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Any:  # noqa: A002
    """Split dim ``dim`` into ``sizes`` (one entry may be -1)."""
    xs = _shape(input)
    d = norm_dim(dim, len(xs), "unflatten")
    sz = [int(s) for s in sizes]
    known = math.prod(s for s in sz if s != -1)
    if sz.count(-1) > 1 or (-1 not in sz and known != xs[d]) or (
            -1 in sz and (known == 0 or xs[d] % known)):
        raise ValueError(f"unflatten: sizes {tuple(sz)} do not multiply to size {xs[d]} of "
                         f"dim {d} (shape {xs})")
    sz = [xs[d] // known if s == -1 else s for s in sz]
    return reshape(input, (*xs[:d], *sz, *xs[d + 1:]))


def narrow(input: Any, dim: int, start: int, length: int) -> Any:  # noqa: A002
    """The slice ``start : start + length`` of dim ``dim``."""
    xs = _shape(input)
    d = norm_dim(dim, len(xs), "narrow")
    n = xs[d]
    s = int(start) + (n if start < 0 else 0)
    if not 0 <= s <= n or length < 0 or s + length > n:
        raise IndexError(f"narrow: start {start} and length {length} are out of range for "
                         f"size {n} of dim {d}")
    return getitem(input, tuple(slice(s, s + length) if i == d else slice(None)
                                for i in range(len(xs))))


def movedim(input: Any, source: Any, destination: Any) -> Any:  # noqa: A002
    """Move dims ``source`` to positions ``destination`` (the others keep their order)."""
    nd = len(_shape(input))
    src = _dims(source, nd, "movedim")
    dst = _dims(destination, nd, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} differ in "
                         f"length")
    order = [d for d in range(nd) if d not in src]
    for dd, s in sorted(zip(dst, src)):
        order.insert(dd, s)
    if order == list(range(nd)):
        return input
    return permute(input, tuple(order))


moveaxis = movedim


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Any, ...]:
    """Split into chunks of ``split_size`` (the last may be smaller) or into pieces of the
    given sizes along ``dim`` (torch.split; NumPy's section-count form is ``ops.split``)."""
    xs = _shape(tensor)
    d = norm_dim(dim, len(xs), "split")
    n = xs[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        k = int(split_size_or_sections)
        if k <= 0 and n:
            raise ValueError(f"split: split_size must be positive, got {k}")
        sizes = [k] * (n // k) + ([n % k] if n % k else []) if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} must be non-negative and sum to the size "
                             f"{n} of dim {d} (shape {xs})")
    if len(sizes) == 1:
        return (tensor * 1.0 if as_array(_raw(tensor)).dtype.kind == "f" else tensor,)
    starts = np.cumsum([0, *sizes[:-1]]).tolist()
    pre = (slice(None),) * d
    return tuple(getitem(tensor, (*pre, slice(a, a + k))) for a, k in zip(starts, sizes))


def hstack(tensors: Sequence[Any]) -> Any:
    ts = list(tensors)
    return concatenate(ts, 0 if len(_shape(ts[0])) == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Any:
    ts = [reshape(t, (1, -1)) if len(_shape(t)) == 1 else t for t in tensors]
    return concatenate(ts, 0)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Any, ...]:
    """Coordinate grids from 1-D tensors; ``indexing`` 'ij' (torch's default) or 'xy'."""
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else list(tensors)
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    sizes = [_shape(t)[0] if _shape(t) else 1 for t in ts]
    if indexing == "xy" and len(ts) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(ts):
        pos = i
        if indexing == "xy" and len(ts) >= 2 and i < 2:
            pos = 1 - i
        shp = [1] * len(ts)
        shp[pos] = sizes[pos]
        out.append(broadcast_to(reshape(t, tuple(shp)), tuple(sizes)))
    return tuple(out)


# -- triangles and diagonals -----------------------------------------------------------------


def _tri(input: Any, diagonal: int, lower: bool, op: str) -> Any:  # noqa: A002
    xs = _shape(input)
    if len(xs) < 2:
        raise ValueError(f"{op}: input must have at least 2 dims, got shape {xs}")
    n, m = xs[-2:]
    mask = (np.tri(n, m, diagonal, dtype=bool) if lower
            else ~np.tri(n, m, diagonal - 1, dtype=bool))
    r = as_array(_raw(input))
    if type(r) is not np.ndarray and is_device_array(r):
        mask = to_device(mask, device_of(r))
    if r.dtype.kind != "f":
        return Tensor._make(np.where(mask, r, 0).astype(r.dtype), False, None, 0)
    return _ar.where(mask, input, 0.0)


def tril(input: Any, diagonal: int = 0) -> Any:  # noqa: A002
    """The lower triangle of the last two dims (entries above ``diagonal`` zeroed)."""
    return _tri(input, diagonal, True, "tril")


def triu(input: Any, diagonal: int = 0) -> Any:  # noqa: A002
    """The upper triangle of the last two dims (entries below ``diagonal`` zeroed)."""
    return _tri(input, diagonal, False, "triu")


def _diag_index(shape: tuple[int, ...], offset: int, d1: int, d2: int) -> tuple:
    n1, n2 = shape[d1], shape[d2]
    length = max(min(n1 + min(offset, 0), n2 - max(offset, 0)), 0)
    rows = np.arange(length) + max(-offset, 0)
    cols = np.arange(length) + max(offset, 0)
    return rows, cols


class Diagonal(Function):
    __slots__ = ("offset", "d1", "d2")

    def __init__(self, offset: int, d1: int, d2: int) -> None:
        self.offset, self.d1, self.d2 = offset, d1, d2

    def forward(self, x):
        return np.diagonal(x, self.offset, self.d1, self.d2).copy()

    def backward(self, gy, y, x):
        return DiagScatter(_shape(x), self.offset, self.d1, self.d2)(gy)


class DiagScatter(Function):
    """A zero array of ``shape`` with x written on its (offset, d1, d2) diagonal."""

    __slots__ = ("shape", "offset", "d1", "d2")

    def __init__(self, shape: tuple[int, ...], offset: int, d1: int, d2: int) -> None:
        self.shape, self.offset, self.d1, self.d2 = shape, offset, d1, d2

    def forward(self, x):
        z = np.zeros_like(x, shape=self.shape)
        rows, cols = _diag_index(self.shape, self.offset, self.d1, self.d2)
        np.moveaxis(z, (self.d1, self.d2), (-2, -1))[..., rows, cols] = x
        return z

    def backward(self, gy, y, x):
        return Diagonal(self.offset, self.d1, self.d2)(gy)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:  # noqa: A002
    """The diagonal of dims (dim1, dim2), appended as the last dim (torch.diagonal)."""
    nd = len(_shape(input))
    if nd < 2:
        raise ValueError(f"diagonal: input must have at least 2 dims, got shape "
                         f"{_shape(input)}")
    d1, d2 = norm_dim(dim1, nd, "diagonal"), norm_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 are both {d1}")
    return Diagonal(int(offset), d1, d2)(input)


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Any:  # noqa: A002
    """Matrices with the last dim of ``input`` on their (offset) diagonal."""
    xs = _shape(input)
    nd = len(xs) + 1
    d1, d2 = norm_dim(dim1, nd, "diag_embed"), norm_dim(dim2, nd, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 are both {d1}")
    n = (xs[-1] if xs else 1) + abs(int(offset))
    rest = list(xs[:-1])
    shape = []
    for i in range(nd):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    x = input if xs else reshape(input, (1,))
    return DiagScatter(tuple(shape), int(offset), d1, d2)(x)


def diag(input: Any, diagonal: int = 0) -> Any:  # noqa: A002
    """1-D input: the square matrix with it on the given diagonal; 2-D input: that
    diagonal as a 1-D tensor."""
    nd = len(_shape(input))
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        return Diagonal(int(diagonal), 0, 1)(input)
    raise ValueError(f"diag: input must be 1-D or 2-D, got shape {_shape(input)}")


__all__ = [
    "diag", "diag_embed", "diagonal", "expand", "expand_as", "flip", "fliplr", "flipud",
    "hstack", "meshgrid", "moveaxis", "movedim", "narrow", "pad", "repeat",
    "repeat_interleave", "reshape_as", "roll", "split", "tile", "tril", "triu", "unflatten",
    "view_as", "vstack",
]




def unbind(input: Any, dim: int = 0) -> tuple[Any, ...]:  # noqa: A002
    """The slices along ``dim``, with that dim removed."""
    xs = _shape(input)
    d = norm_dim(dim, len(xs), "unbind")
    return tuple(getitem(input, tuple(i if k == d else slice(None) for k in range(len(xs))))
                 for i in range(xs[d]))


__all__ += ["permute", "unbind", "unsqueeze"]


def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Any:  # noqa: A002
    """Rotate by 90° k times in the plane of ``dims`` (from the first toward the second)."""
    nd = len(_shape(input))
    d0, d1 = (norm_dim(d, nd, "rot90") for d in dims)
    if d0 == d1:
        raise ValueError(f"rot90: dims must differ, got {tuple(dims)}")
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    k %= 4
    if k == 0:
        return input * 1.0
    if k == 1:
        return permute(flip(input, d1), tuple(perm))
    if k == 2:
        return flip(input, (d0, d1))
    return flip(permute(input, tuple(perm)), d1)


def atleast_1d(*tensors: Any) -> Any:
    out = [reshape(t, (1,)) if not _shape(t) else t for t in tensors]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors: Any) -> Any:
    out = []
    for t in tensors:
        s = _shape(t)
        out.append(reshape(t, (1,) * (2 - len(s)) + tuple(s)) if len(s) < 2 else t)
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors: Any) -> Any:
    out = []
    for t in tensors:
        s = _shape(t)
        shape = {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}.get(len(s), s)
        out.append(reshape(t, shape) if len(s) < 3 else t)
    return out[0] if len(out) == 1 else tuple(out)


def column_stack(tensors: Sequence[Any]) -> Any:
    return concatenate([reshape(t, (-1, 1)) if len(_shape(t)) <= 1 else t for t in tensors], 1)


def dstack(tensors: Sequence[Any]) -> Any:
    ts = [atleast_3d(t) for t in tensors]
    return concatenate(ts, 2)


def take(input: Any, index: Any) -> Any:  # noqa: A002
    """Elements of the flattened input at ``index`` (the result has index's shape)."""
    from .indexing import _index_array, index_select

    idx = _index_array(index, "take")
    return reshape(index_select(reshape(input, (-1,)), 0, idx.reshape(-1)), idx.shape)


def kron(input: Any, other: Any) -> Any:  # noqa: A002
    """The Kronecker product."""
    sa, sb = _shape(input), _shape(other)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    a = reshape(input, tuple(v for s in sa for v in (s, 1)))
    b = reshape(other, tuple(v for s in sb for v in (1, s)))
    return reshape(a * b, tuple(x * y for x, y in zip(sa, sb)))


def block_diag(*tensors: Any) -> Any:
    """A block-diagonal matrix of the given (0-, 1- or 2-D) tensors."""
    ts = [reshape(t, (1, -1)) if len(_shape(t)) < 2 else t for t in tensors]
    cols = sum(_shape(t)[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:
        r, c = _shape(t)
        rows.append(pad(t, (c0, cols - c0 - c)))
        c0 += c
    return concatenate(rows, 0)


def cross(input: Any, other: Any, dim: int | None = None) -> Any:  # noqa: A002
    """The 3-vector cross product along ``dim`` (torch.cross: the first dim of size 3 when
    dim is None)."""
    from .indexing import IndexSelect

    s = np.broadcast_shapes(_shape(input), _shape(other))
    if dim is None:
        dim = next((i for i, n in enumerate(s) if n == 3), None)
        if dim is None:
            raise ValueError(f"cross: no dim of size 3 in shape {s}")
    d = norm_dim(dim, len(s), "cross")
    if s[d] != 3:
        raise ValueError(f"cross: dim {d} of shape {s} must have size 3")
    a, b = broadcast_to(input, s), broadcast_to(other, s)
    i1, i2 = np.array([1, 2, 0]), np.array([2, 0, 1])
    return IndexSelect(d, i1)(a) * IndexSelect(d, i2)(b) - \
        IndexSelect(d, i2)(a) * IndexSelect(d, i1)(b)


__all__ += ["atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "column_stack", "cross",
            "dstack", "kron", "rot90", "take"]
