"""Elementwise arithmetic and math: add, sub, mul, div, neg, pow, exp, log, sqrt, abs,
maximum, minimum, clip, where, astype, and the (non-differentiable) comparisons.

Each op's forward and backward sit side by side. Backward code uses only operators and
functions of ``steepest.ops``, so it runs on raw arrays (plain backward) and on Tensors
(``create_graph=True``). Broadcasting is undone by the backward walk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import as_array
from ..tensor import Tensor


class Add(Function):
    __slots__ = ()
    saved_inputs = ()
    saves_output = False

    def forward(self, a, b):
        return a + b

    def backward(self, gy, y, a, b):
        return gy, gy


class Sub(Function):
    __slots__ = ()
    refuses_bool = True
    saved_inputs = ()
    saves_output = False

    def forward(self, a, b):
        return a - b

    def backward(self, gy, y, a, b):
        return gy, -gy


class Mul(Function):
    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False

    def forward(self, a, b):
        return a * b

    def backward(self, gy, y, a, b):
        ins = self.inputs  # needs_grad(i), inlined on this hot path
        return (gy * b if ins[0]._requires_grad else None,
                gy * a if ins[1]._requires_grad else None)


class Div(Function):
    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False
    float_only = True

    def forward(self, a, b):
        return a / b

    def backward(self, gy, y, a, b):
        ga = gy / b
        gb = -ga * a / b if self.inputs[1]._requires_grad else None
        return ga, gb


class Neg(Function):
    __slots__ = ()
    refuses_bool = True
    saved_inputs = ()
    saves_output = False

    def forward(self, x):
        return -x

    def backward(self, gy, y, x):
        return -gy


class PowScalar(Function):
    """x ** c for a constant exponent c."""

    __slots__ = ("c",)
    saved_inputs = (0,)
    saves_output = False

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy, y, x):
        c = self.c
        if c == 2:
            return gy * (x * 2.0)
        if c == 0:  # PyTorch: exactly zero, also at x = 0 (where c * x**-1 would be nan)
            return where(np.zeros_like(_raw(x), dtype=bool), gy, 0.0)
        return gy * (pow(x, c - 1) * c)


class Pow(Function):
    """a ** b with a tensor exponent."""

    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = True

    def forward(self, a, b):
        return a ** b

    def backward(self, gy, y, a, b):
        ar, br = _raw(a), _raw(b)
        ga = gb = None
        if self.needs_grad(0):  # PyTorch: 0 where the exponent is 0 (also at a = 0)
            ga = where(br == 0, 0.0, gy * b * pow(a, b - 1.0))
        if self.needs_grad(1):
            # d(a^b)/db = a^b log a; PyTorch takes it as 0 where a == 0 and b >= 0 (and
            # keeps -inf for a == 0, b < 0)
            gb = where((ar == 0) & (br >= 0), 0.0, gy * y * log(a))
        return ga, gb


class Exp(Function):
    __slots__ = ()
    saved_inputs = ()
    saves_output = True
    float_only = True

    def forward(self, x):
        return np.exp(x)

    def backward(self, gy, y, x):
        return gy * y


class Log(Function):
    __slots__ = ()
    saved_inputs = (0,)
    saves_output = False
    float_only = True

    def forward(self, x):
        return np.log(x)

    def backward(self, gy, y, x):
        return gy / x


class Sqrt(Function):
    __slots__ = ()
    saved_inputs = ()
    saves_output = True
    float_only = True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, gy, y, x):
        return gy / (y + y)  # y + y is exactly y * 2.0, without a Python float to convert


class Abs(Function):
    __slots__ = ()
    refuses_bool = True
    saved_inputs = (0,)
    saves_output = False

    def forward(self, x):
        return np.abs(x)

    def backward(self, gy, y, x):
        return gy * sign(x)


class Maximum(Function):
    """Elementwise max; at ties each input gets half the gradient (as PyTorch)."""

    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, gy, y, a, b):
        wa = _tie_weights(a, b)
        return gy * wa, gy * (1.0 - wa)


class Minimum(Function):
    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False

    def forward(self, a, b):
        return np.minimum(a, b)

    def backward(self, gy, y, a, b):
        wa = _tie_weights(b, a)
        return gy * wa, gy * (1.0 - wa)


def _tie_weights(a: Any, b: Any) -> np.ndarray:
    """1 where a > b, 0.5 where a == b, 0 elsewhere (a constant: no grad flows through it)."""
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    w = (a > b).astype(np.result_type(a, b))
    w += (a == b) * w.dtype.type(0.5)
    return w


class Clip(Function):
    """Clamp into [lo, hi]; gradient passes where lo <= x <= hi (inclusive, as PyTorch)."""

    __slots__ = ("lo", "hi", "mask")
    saved_inputs = ()
    saves_output = False

    def __init__(self, lo: Any, hi: Any) -> None:
        self.lo, self.hi = lo, hi

    @property
    def float_only(self) -> bool:  # type: ignore[override]
        return type(self.lo) is float or type(self.hi) is float

    def forward(self, x):
        y = x.clip(self.lo, self.hi)
        if y.dtype != x.dtype:
            y = y.astype(x.dtype)
        # lo <= x <= hi exactly where clipping left x unchanged (nan: False either way),
        # one comparison instead of two and an &
        self.mask = y == x
        return y

    def backward(self, gy, y, x):
        return gy * self.mask

    has_buffers = True

    def release(self):
        self.mask = None


class Where(Function):
    """Pick from a where ``cond`` holds, else from b. ``cond`` is a constant."""

    __slots__ = ("cond",)
    saved_inputs = ()
    saves_output = False

    def __init__(self, cond: Any) -> None:
        c = cond.data if isinstance(cond, Tensor) else as_array(cond)
        self.cond = c.astype(bool, copy=False)

    def forward(self, a, b):
        return np.where(self.cond, a, b)

    def backward(self, gy, y, a, b):
        ga = where(self.cond, gy, 0.0) if self.needs_grad(0) else None
        gb = where(self.cond, 0.0, gy) if self.needs_grad(1) else None
        return ga, gb


class Clone(Function):
    """A copy with its own memory; the gradient passes unchanged."""

    __slots__ = ()
    saved_inputs = ()
    saves_output = False

    def forward(self, x):
        return x.copy(order="C")

    def backward(self, gy, y, x):
        return gy


class AsType(Function):
    __slots__ = ("dtype", "src")
    saved_inputs = ()
    saves_output = False

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.src = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy, y, x):
        return gy.astype(self.src)

    @property
    def name(self) -> str:
        return "astype"


# -- ops with a Python-number operand: one input, no constant tensor to build -------------
# An integer/bool tensor meeting a Python float computes in float32 (PyTorch): float_only
# depends on the constant (it is read on the checked path only, for non-float tensors).


class AddScalar(Function):
    __slots__ = ("c",)
    saved_inputs = ()
    saves_output = False

    def __init__(self, c: float) -> None:
        self.c = c

    @property
    def float_only(self) -> bool:  # type: ignore[override]
        return type(self.c) is float

    def forward(self, x):
        if type(x) is np.ndarray and x.dtype.kind == "f":
            return x + np.array(self.c, x.dtype)  # see MulScalar
        return x + self.c

    def backward(self, gy, y, x):
        return gy

    @property
    def name(self) -> str:
        return "add"


class SubScalar(AddScalar):
    """x - c, computed as x + (-c); undefined for bool tensors (as PyTorch)."""

    __slots__ = ()
    refuses_bool = True

    @property
    def name(self) -> str:
        return "sub"


class RSubScalar(Function):
    """c - x."""

    __slots__ = ("c",)
    refuses_bool = True
    saved_inputs = ()
    saves_output = False

    def __init__(self, c: float) -> None:
        self.c = c

    @property
    def float_only(self) -> bool:  # type: ignore[override]
        return type(self.c) is float

    def forward(self, x):
        return self.c - x

    def backward(self, gy, y, x):
        return -gy

    @property
    def name(self) -> str:
        return "sub"


class MulScalar(Function):
    __slots__ = ("c", "k")
    saved_inputs = ()
    saves_output = False

    def __init__(self, c: float) -> None:
        self.c = c
        # On a float host array the constant becomes a 0-d array of its dtype: NumPy computes
        # x * k bit for bit as x * c (NEP 50 converts the Python number to x's dtype first)
        # but converts it once, not per call (a quarter of a microsecond on small arrays),
        # and the backward reuses it.
        self.k = None

    @property
    def float_only(self) -> bool:  # type: ignore[override]
        return type(self.c) is float

    def forward(self, x):
        if type(x) is np.ndarray and x.dtype.kind == "f":
            k = self.k = np.array(self.c, x.dtype)
            return x * k
        return x * self.c

    def backward(self, gy, y, x):
        k = self.k
        if k is not None and type(gy) is np.ndarray and gy.dtype is k.dtype:
            return gy * k
        return gy * self.c

    @property
    def name(self) -> str:
        return "mul"


class DivScalar(Function):
    """x / c."""

    __slots__ = ("c", "k")
    saved_inputs = ()
    saves_output = False
    float_only = True

    def __init__(self, c: float) -> None:
        self.c = c
        self.k = None  # see MulScalar

    def forward(self, x):
        if type(x) is np.ndarray and x.dtype.kind == "f":
            k = self.k = np.array(self.c, x.dtype)
            return x / k
        return x / self.c

    def backward(self, gy, y, x):
        k = self.k
        if k is not None and type(gy) is np.ndarray and gy.dtype is k.dtype:
            return gy / k
        return gy / self.c

    @property
    def name(self) -> str:
        return "div"


class RDivScalar(Function):
    """c / x."""

    __slots__ = ("c",)
    saved_inputs = (0,)
    saves_output = True
    float_only = True

    def __init__(self, c: float) -> None:
        self.c = c

    def forward(self, x):
        return self.c / x

    def backward(self, gy, y, x):
        return -gy * y / x

    @property
    def name(self) -> str:
        return "div"


_SCALAR = (float, int)


def _is_scalar(v: Any) -> bool:
    return type(v) in _SCALAR


# -- public functions (work on Tensors and on raw arrays) ---------------------------------


def add(a: Any, b: Any) -> Any:
    if type(b) in _SCALAR:
        return AddScalar(b)(a)
    if type(a) in _SCALAR:
        return AddScalar(a)(b)
    return Add()(a, b)


def sub(a: Any, b: Any) -> Any:
    if type(b) in _SCALAR:
        return SubScalar(-b)(a)
    if type(a) in _SCALAR:
        return RSubScalar(a)(b)
    return Sub()(a, b)


def mul(a: Any, b: Any) -> Any:
    if type(b) in _SCALAR:
        return MulScalar(b)(a)
    if type(a) in _SCALAR:
        return MulScalar(a)(b)
    return Mul()(a, b)


def div(a: Any, b: Any) -> Any:
    if type(b) in _SCALAR:
        return DivScalar(b)(a)
    if type(a) in _SCALAR:
        return RDivScalar(a)(b)
    return Div()(a, b)


def neg(x: Any) -> Any:
    return Neg()(x)


def pow(a: Any, b: Any) -> Any:  # noqa: A001 - mirrors numpy/torch naming
    """a ** b; a Python-number exponent uses the cheaper constant-exponent op."""
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        b = b.item() if isinstance(b, np.generic) else b  # NumPy scalars would widen float32
        if isinstance(a, Tensor) and a.data.dtype.kind in "biu":
            if type(b) is float:
                a = Tensor._make(a.data.astype(np.float32), False, None, 0)
            elif b < 0:
                raise RuntimeError(f"pow: integer tensors cannot be raised to a negative "
                                   f"integer power ({b}); convert to float first (.float())")
            elif a.data.dtype == np.bool_:
                a = Tensor._make(a.data.astype(np.int64), False, None, 0)  # torch: int64
        return PowScalar(b)(a)
    if (isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == np.bool_
            and b.data.dtype == np.bool_):
        raise TypeError("pow: not supported between two bool tensors (as in PyTorch)")
    if isinstance(a, (int, float)) and isinstance(b, Tensor) and b.data.dtype.kind in "biu":
        b = Tensor._make(b.data.astype(np.float32), False, None, 0)  # 2.0 ** int_tensor
    return Pow()(a, b)


def exp(x: Any) -> Any:
    return Exp()(x)


def log(x: Any) -> Any:
    return Log()(x)


def sqrt(x: Any) -> Any:
    return Sqrt()(x)


def abs(x: Any) -> Any:  # noqa: A001
    return Abs()(x)


def maximum(a: Any, b: Any) -> Any:
    return Maximum()(a, b)


def minimum(a: Any, b: Any) -> Any:
    return Minimum()(a, b)


def clip(x: Any, min: Any = None, max: Any = None) -> Any:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and (
        min > max if isinstance(min, (int, float)) and isinstance(max, (int, float))
        else np.any(np.asarray(min) > np.asarray(max))
    ):
        raise ValueError(f"clip: min ({min}) is greater than max ({max})")
    return Clip(min, max)(x)


def where(cond: Any, a: Any, b: Any) -> Any:
    """Elementwise ``a if cond else b``; differentiable in a and b."""
    return Where(cond)(a, b)


def astype(x: Any, dtype: Any) -> Any:
    """Convert the dtype; differentiable to float dtypes, a constant to integers and bools."""
    dt = np.dtype(dtype)
    if isinstance(x, Tensor):
        if x.data.dtype == dt:
            return x
        if dt.kind != "f":
            return Tensor._make(x.data.astype(dt), False, None, 0)
    return AsType(dt)(x)


def clone(x: Any) -> Any:
    """A differentiable copy with its own (C-contiguous) memory."""
    return Clone()(x)


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _compare(ufunc: np.ufunc, a: Any, b: Any) -> Any:
    out = ufunc(_raw(a), _raw(b))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Tensor._make(as_array(out), False, None, 0)
    return out


def sign(x: Any) -> Any:
    """Sign of x, a constant (its gradient is zero almost everywhere)."""
    return _compare(lambda a, _: np.sign(a), x, None)


def lt(a: Any, b: Any) -> Any:
    return _compare(np.less, a, b)


def le(a: Any, b: Any) -> Any:
    return _compare(np.less_equal, a, b)


def gt(a: Any, b: Any) -> Any:
    return _compare(np.greater, a, b)


def ge(a: Any, b: Any) -> Any:
    return _compare(np.greater_equal, a, b)


def eq(a: Any, b: Any) -> Any:
    return _compare(np.equal, a, b)


def ne(a: Any, b: Any) -> Any:
    return _compare(np.not_equal, a, b)
