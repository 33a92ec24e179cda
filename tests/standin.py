"""A CPU stand-in for CuPy: a distinct "device" whose arrays refuse to mix with NumPy's.

Its arrays wrap host ndarrays but behave like CuPy's at the boundary: ``np.asarray(a)``
raises (CuPy forbids implicit device-to-host conversion), a ufunc or NumPy function given a
plain ndarray beside a stand-in array raises (CuPy refuses host operands), and results stay
on the "device". Everything else (ufuncs, ``np.`` functions through ``__array_function__``,
methods) runs on the wrapped arrays. Registered with ``steepest.backend.set_cuda_module`` it
lets CI run the device path of every op without a GPU: a stray ``np.zeros(...)`` in an op's
device path makes the op fail here as it would fail on a GPU.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any

import numpy as np

_SCALARS = (int, float, bool, complex, np.generic)


class HostConversionError(TypeError):
    """Raised where CuPy would refuse an implicit host/device conversion."""


def _unwrap(x: Any, where: str) -> Any:
    """Replace stand-in arrays by their host arrays, refusing host ndarrays (as CuPy)."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        raise HostConversionError(f"stand-in device: {where} got a host numpy.ndarray "
                                  f"{x.shape} {x.dtype}; move it to the device first")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, where) for v in x)
    return x


def _wrap(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic) and not isinstance(x, (np.str_, np.bytes_, np.void)):
        return ndarray(np.asarray(x))  # CuPy's reductions return 0-d device arrays
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _foreign(x: Any) -> bool:
    """An operand this module does not handle (a steepest Tensor: let it take over)."""
    return not isinstance(x, (ndarray, np.ndarray, *_SCALARS, list, tuple, type(None),
                              slice, type(Ellipsis)))


class ndarray:  # noqa: N801 - CuPy's name
    __slots__ = ("_a",)
    __array_priority__ = 100  # below Tensor's 1000: Tensor's reflected operators win

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # -- the boundary ---------------------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise HostConversionError("stand-in device: implicit conversion to a NumPy array is "
                                  "not allowed; use .get()")

    def get(self) -> np.ndarray:
        return self._a.copy()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(_foreign(x) for x in inputs):
            return NotImplemented
        args = _unwrap(inputs, f"{ufunc.__name__}")
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, f"{ufunc.__name__}(out=)")
        for k in ("where",):
            if k in kwargs:
                kwargs[k] = _unwrap(kwargs[k], f"{ufunc.__name__}({k}=)")
        res = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out if len(out) > 1 else out[0]
        return _wrap(res)

    def __array_function__(self, func: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        if any(issubclass(t, np.ndarray) for t in types_ if t is not ndarray):
            raise HostConversionError(f"stand-in device: {func.__name__} got a host "
                                      f"numpy.ndarray; move it to the device first")
        args = _unwrap(args, func.__name__)
        kwargs = {k: _unwrap(v, func.__name__) for k, v in kwargs.items()}
        return _wrap(func(*args, **kwargs))

    # -- array protocol -------------------------------------------------------------------
    @property
    def device(self) -> Any:
        return types.SimpleNamespace(id=0)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._a.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self._a.shape = value

    @property
    def dtype(self) -> np.dtype:
        return self._a.dtype

    @property
    def ndim(self) -> int:
        return self._a.ndim

    @property
    def size(self) -> int:
        return self._a.size

    @property
    def T(self) -> ndarray:  # noqa: N802
        return ndarray(self._a.T)

    @property
    def mT(self) -> ndarray:  # noqa: N802
        return ndarray(self._a.mT)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __array_interface__ etc.: no implicit host access
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr) if isinstance(attr, np.ndarray) else attr

        def method(*args: Any, **kwargs: Any) -> Any:
            args = _unwrap(args, f"ndarray.{name}")
            kwargs = {k: _unwrap(v, f"ndarray.{name}") for k, v in kwargs.items()}
            return _wrap(attr(*args, **kwargs))

        return method

    def __getitem__(self, index: Any) -> Any:
        return _wrap(self._a[_unwrap_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap_index(index)] = _unwrap(value, "__setitem__")

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (_wrap(v) for v in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __repr__(self) -> str:
        return f"standin.{np.array2string(self._a, prefix='standin.')}"

    def __copy__(self) -> ndarray:
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo: Any) -> ndarray:
        return ndarray(self._a.copy())


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, ndarray):
        return index._a
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    return index


def _binop(name: str, reflected: bool = False, inplace: bool = False) -> Any:
    ufunc = getattr(np, name)

    def op(self: ndarray, other: Any) -> Any:
        if _foreign(other):
            return NotImplemented
        if inplace:
            ufunc(self._a, _unwrap(other, name), out=self._a)
            return self
        a, b = (other, self) if reflected else (self, other)
        return _wrap(ufunc(_unwrap(a, name), _unwrap(b, name)))

    return op


for _dunder, _uf in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "true_divide"), ("floordiv", "floor_divide"),
                     ("mod", "remainder"), ("pow", "power"), ("matmul", "matmul"),
                     ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                     ("lshift", "left_shift"), ("rshift", "right_shift")]:
    setattr(ndarray, f"__{_dunder}__", _binop(_uf))
    setattr(ndarray, f"__r{_dunder}__", _binop(_uf, reflected=True))
    setattr(ndarray, f"__i{_dunder}__", _binop(_uf, inplace=True))
for _dunder, _uf in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
    setattr(ndarray, f"__{_dunder}__", _binop(_uf))
ndarray.__neg__ = lambda self: ndarray(-self._a)
ndarray.__pos__ = lambda self: ndarray(+self._a)
ndarray.__abs__ = lambda self: ndarray(abs(self._a))
ndarray.__invert__ = lambda self: ndarray(~self._a)
ndarray.__hash__ = None  # like ndarray: unhashable


# -- the module: CuPy's creation functions, cuda namespace and random --------------------
def asarray(a: Any, dtype: Any = None) -> ndarray:
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else ndarray(a._a.astype(dtype))
    return ndarray(np.array(a, dtype=dtype))


array = asarray


def ascontiguousarray(a: Any, dtype: Any = None) -> ndarray:
    return ndarray(np.ascontiguousarray(_unwrap(a, "ascontiguousarray"), dtype=dtype))


def _creator(name: str) -> Any:
    fn = getattr(np, name)

    def create(*args: Any, **kwargs: Any) -> ndarray:
        return _wrap(fn(*_unwrap(args, name), **kwargs))

    create.__name__ = name
    return create


for _name in ("zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye",
              "identity", "tri"):
    globals()[_name] = _creator(_name)


class _Ufunc:
    """CuPy's ufunc objects (``cupy.add``, with ``.at``) over NumPy's, on stand-in arrays."""

    def __init__(self, ufunc: Any) -> None:
        self._u = ufunc

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._u(*args, **kwargs)

    def at(self, a: Any, indices: Any, b: Any = None) -> None:
        if not isinstance(a, ndarray):
            raise HostConversionError(f"stand-in device: {self._u.__name__}.at needs a "
                                      f"device array, got {type(a).__name__}")
        self._u.at(a._a, _unwrap_index(indices), _unwrap(b, f"{self._u.__name__}.at"))


add, maximum, minimum = _Ufunc(np.add), _Ufunc(np.maximum), _Ufunc(np.minimum)


def _as_strided(x: Any, shape: Any = None, strides: Any = None) -> ndarray:
    """cupy.lib.stride_tricks.as_strided (no ``writeable=``), on stand-in arrays."""
    return ndarray(np.lib.stride_tricks.as_strided(_unwrap(x, "as_strided"), shape=shape,
                                                   strides=strides))


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))


def get_array_module(*arrays: Any) -> Any:
    import sys

    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in arrays) else np


class _Device:
    def __init__(self, index: int = 0) -> None:
        self.id = index

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def synchronize(self) -> None:
        return None


class _Generator:
    """CuPy's Generator API over NumPy's: the same seeds give the same numbers."""

    def __init__(self, seed: Any = None) -> None:
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._g, name)

        def draw(*args: Any, **kwargs: Any) -> Any:
            return _wrap(fn(*_unwrap(args, name), **kwargs))

        return draw


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1),
    Device=_Device,
    Stream=types.SimpleNamespace(null=types.SimpleNamespace(synchronize=lambda: None)),
)
random = types.SimpleNamespace(default_rng=_Generator)


@contextlib.contextmanager
def installed() -> Any:
    """Register this module as steepest's CUDA module for the duration of a block."""
    import sys

    from steepest import backend

    old = backend.set_cuda_module(sys.modules[__name__])
    try:
        yield sys.modules[__name__]
    finally:
        backend.set_cuda_module(old)
