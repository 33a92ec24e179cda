"""Checking and normalising ``dim``/``axis`` arguments the way PyTorch does.

One place for every op, so that an out-of-range axis is an ``IndexError`` naming the op,
the axis and the rank (NumPy would wrap it around or truncate a float), and so that the
NumPy spellings ``axis=``/``keepdims=`` are accepted as aliases of ``dim=``/``keepdim=``.
A 0-d tensor accepts ``dim`` 0 and -1, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def merge(dim: Any, axis: Any, op: str, names: tuple[str, str] = ("dim", "axis")) -> Any:
    """``dim`` or its NumPy alias ``axis`` (giving both is an error)."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{op}: got both {names[0]}= and its alias {names[1]}=; pass one")
    return axis


def keep(keepdim: bool, keepdims: bool | None, op: str) -> bool:
    """``keepdim`` or its NumPy alias ``keepdims``."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise TypeError(f"{op}: got both keepdim= and its alias keepdims=; pass one")
    return bool(keepdims)


def check_int(a: Any, op: str, what: str = "dim") -> int:
    """``a`` as a Python int; floats, strings and bools are refused (NumPy truncates them)."""
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
        raise TypeError(f"{op}: {what} must be an int, got {type(a).__name__} {a!r}")
    return int(a)


def axis(a: Any, ndim: int, op: str, extra: int = 0) -> int:
    """One axis normalised to [0, ndim + extra); ``extra=1`` for ops that insert an axis."""
    a = check_int(a, op)
    n = max(ndim + extra, 1)
    if not -n <= a < n:
        raise IndexError(f"{op}: dim {a} is out of range for a {ndim}-d tensor (expected "
                         f"a dim in [{-n}, {n - 1}])")
    return a % n


def axes(a: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """None, one axis or a sequence of distinct axes, normalised (None: every axis)."""
    if a is None:
        return None
    items = tuple(a) if isinstance(a, (tuple, list)) else (a,)
    out = tuple(axis(i, ndim, op) for i in items)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {a} appears more than once")
    if ndim == 0 or not out:
        return None  # torch: dim=() reduces every axis
    return out
