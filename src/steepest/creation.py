"""Tensor creation under PyTorch's names: zeros, ones, full, empty, the *_like forms,
rand, randn, randint, rand_like, randn_like, arange, linspace, logspace, eye, from_numpy,
as_tensor, is_tensor, cat, and ``inference_mode``.

Floating-point results are float32 unless ``dtype=`` says otherwise (as torch's default
dtype); random draws come from ``steepest.random.generator()``, so ``manual_seed`` makes
them reproducible. ``empty`` returns zeros: uninitialised memory would make runs
irreproducible for no measurable gain here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .autograd import no_grad
from .ops.shape import concatenate
from .random import generator
from .tensor import Tensor


def _size(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _dtype(dtype: Any, default: Any = np.float32) -> np.dtype:
    if dtype is None:
        return np.dtype(default)
    if dtype is bool:
        return np.dtype(bool)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype {dtype!r} is not understood (use e.g. 'float32', 'int64', "
                        f"steepest.float64)") from None


def _make(a: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(a, requires_grad=requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 by default)."""
    return _make(np.zeros(_size(size), dtype=_dtype(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _make(np.ones(_size(size), dtype=_dtype(dtype)), requires_grad)


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Like torch.empty, but filled with zeros (reproducible)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _fill_dtype(fill_value: Any) -> Any:
    if isinstance(fill_value, bool):
        return np.bool_
    if isinstance(fill_value, (int, np.integer)):
        return np.int64
    return np.float32


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value (int64, bool or
    float32) unless given, as torch."""
    v = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    dt = _dtype(dtype, _fill_dtype(v))
    return _make(np.full(_size((size,)), v, dtype=dt), requires_grad)


def _like(input: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:  # noqa: A002
    a = input.data if isinstance(input, Tensor) else np.asarray(input)
    return a.shape, _dtype(dtype, a.dtype)


def zeros_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _make(np.zeros(shape, dtype=dt), requires_grad)


def ones_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return _make(np.ones(shape, dtype=dt), requires_grad)


def empty_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return zeros_like(input, dtype=dtype, requires_grad=requires_grad)


def full_like(input: Any, fill_value: Any, *, dtype: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _make(np.full(shape, fill_value, dtype=dt), requires_grad)


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    dt = _dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{op}: dtype must be floating point, got {dt}")
    return dt


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from steepest's seeded generator."""
    dt = _float_dtype(dtype, "rand")
    return _make(generator().random(_size(size), dtype=dt), requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from steepest's seeded generator."""
    dt = _float_dtype(dtype, "randn")
    return _make(generator().standard_normal(_size(size), dtype=dt), requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] | None = None, *,
            dtype: Any = None) -> Tensor:
    """Integers uniform in [low, high) (``randint(high, size)`` means low = 0), int64."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: give randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    dt = _dtype(dtype, np.int64)
    return Tensor(generator().integers(low, high, size=_size((size,))).astype(dt))


def randperm(n: int, *, dtype: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1 (int64)."""
    return Tensor(generator().permutation(int(n)).astype(_dtype(dtype, np.int64)))


def rand_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return rand(shape, dtype=dt, requires_grad=requires_grad)


def randn_like(input: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, dt = _like(input, dtype)
    return randn(shape, dtype=dt, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to ``end`` (exclusive) by ``step``: int64 when all three are
    integers, float32 otherwise (as torch)."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (start, end, step))
    dt = _dtype(dtype, np.int64 if ints else np.float32)
    if ints or dt.kind != "f":
        a = np.arange(start, end, step).astype(dt)
    else:  # compute in float64 so the length and values match torch's
        n = max(int(np.ceil((end - start) / step)), 0)
        a = (start + np.arange(n, dtype=np.float64) * step).astype(dt)
    return _make(a, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end inclusive (float32 default)."""
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    dt = _dtype(dtype)
    return _make(np.linspace(start, end, int(steps)).astype(dt), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *,
             dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    if steps < 0:
        raise ValueError(f"logspace: steps must be non-negative, got {steps}")
    dt = _dtype(dtype)
    return _make(np.logspace(start, end, int(steps), base=base).astype(dt), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix (m = n by default)."""
    return _make(np.eye(int(n), None if m is None else int(m), dtype=_dtype(dtype)),
                 requires_grad)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing the memory of ``ndarray`` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {ndarray.dtype}")
    return Tensor(ndarray)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy when it already is one (or an ndarray) of the
    requested dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.data.dtype == np.dtype(dtype)):
        return data
    if isinstance(data, Tensor):
        return Tensor(data.data.astype(dtype))
    return Tensor(data, dtype=dtype)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Any) -> bool:  # noqa: A002
    return np.asarray(input.data if isinstance(input, Tensor) else input).dtype.kind == "f"


def numel(input: Any) -> int:  # noqa: A002
    return int(np.size(input.data if isinstance(input, Tensor) else input))


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Concatenate along ``dim`` (torch's name for ``concatenate``)."""
    return concatenate(tensors, dim)


concat = cat


class inference_mode(no_grad):  # noqa: N801
    """torch.inference_mode: here the same as ``no_grad`` (``mode=False`` records)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = not mode


__all__ = [
    "arange", "as_tensor", "cat", "concat", "empty", "empty_like", "eye", "from_numpy",
    "full", "full_like", "inference_mode", "is_floating_point", "is_tensor", "linspace",
    "logspace", "numel", "ones", "ones_like", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "zeros", "zeros_like",
]
