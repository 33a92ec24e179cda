"""The Tensor: an ndarray plus what autodiff needs (``requires_grad``, ``grad``, ``creator``).

Float32 by default: Python numbers and lists become float32, NumPy arrays keep their dtype
(so float64 is there on request). Operator overloads and methods build the graph through
``steepest.ops``; the math lives there, not here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FLOAT_KINDS = "f"


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype, copy=None)
    if isinstance(data, np.ndarray):
        return data
    arr = np.asarray(data)
    if arr.dtype == np.float64 and not isinstance(data, np.generic):
        arr = arr.astype(np.float32)  # Python floats and lists default to float32
    if arr.dtype.kind == "O":
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__}")
    return arr


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array_like
        The values. NumPy arrays are used as they are (no copy); other data is converted,
        floats to float32.
    requires_grad : bool
        Record operations on this tensor so that ``backward`` can compute its gradient.
        Only floating-point tensors can require grad.
    dtype : dtype, optional
        Convert the data to this dtype.
    name : str, optional
        A label shown by ``repr`` and by graph drawings.
    """

    __slots__ = (
        "data", "grad", "_requires_grad", "creator", "generation", "name",
        "_g", "_gown", "_retain", "__weakref__",
    )
    __array_priority__ = 1000  # ndarray (op) Tensor dispatches to Tensor's reflected op
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = _to_array(data, dtype)
        self.grad: Tensor | None = None
        self.creator = None
        self.generation = 0
        self.name = name
        self._g = None
        self._gown = False
        self._retain = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool, creator: Any, generation: int
              ) -> Tensor:
        """Fast internal constructor: no checks, no conversion."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t._requires_grad = requires_grad
        t.creator = creator
        t.generation = generation
        t.name = None
        t._g = None
        t._gown = False
        t._retain = False
        return t

    # -- autograd -------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(
                f"Tensor: only floating-point tensors can require grad, got dtype "
                f"{self.data.dtype} (shape {self.data.shape})"
            )
        if not value and self.creator is not None:
            raise RuntimeError("Tensor: requires_grad can only be turned off on leaf tensors; "
                               "use .detach() instead")
        self._requires_grad = bool(value)

    def requires_grad_(self, value: bool = True) -> Tensor:
        self.requires_grad = value
        return self

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def backward(self, grad: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (reverse mode).

        ``grad`` is required unless this tensor has one element. Without ``retain_graph``
        the graph's buffers are freed, so a second backward through it raises.
        ``create_graph=True`` records the backward pass itself (higher derivatives).
        """
        _autograd.run_backward([self], [grad], retain_graph or create_graph, create_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep it)."""
        self._retain = self.creator is not None

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._make(self.data, False, None, 0)

    def zero_grad(self) -> None:
        self.grad = None

    # -- array-like -----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def numel(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied; detach semantics)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to Python "
                             f"scalars, got shape {self.data.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.data.shape} is "
                             f"ambiguous; use .any() or .all()")
        return bool(self.data)

    def astype(self, dtype: Any) -> Tensor:
        """Differentiable dtype conversion."""
        return _ops.astype(self, dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extras = []
        if self.data.dtype != np.float32:
            extras.append(f"dtype={self.data.dtype}")
        if self.creator is not None:
            extras.append(f"grad_fn={self.creator.name}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}{', ' if extras else ''}{', '.join(extras)})"

    # -- operators ------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def __lt__(self, other: Any) -> Tensor:
        return _ops.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.ge(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.ne(self, other)

    # -- methods (NumPy names, plus PyTorch's where users expect them) --------------------
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return _ops.clip(self, min, max)

    clamp = clip

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.std(self, axis, keepdims, ddof)

    def argmax(self, axis: Any = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.argmax(axis)), False, None, 0)

    def argmin(self, axis: Any = None) -> Tensor:
        return Tensor._make(np.asarray(self.data.argmin(axis)), False, None, 0)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    view = reshape

    def flatten(self, start_axis: int = 0) -> Tensor:
        return _ops.flatten(self, start_axis)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def permute(self, *axes: Any) -> Tensor:
        return self.transpose(*axes)

    def swapaxes(self, a: int, b: int) -> Tensor:
        return _ops.swapaxes(self, a, b)

    @property
    def T(self) -> Tensor:  # noqa: N802
        return _ops.transpose(self, None)

    @property
    def mT(self) -> Tensor:  # noqa: N802
        return _ops.swapaxes(self, -1, -2)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def expand_dims(self, axis: int) -> Tensor:
        return _ops.expand_dims(self, axis)

    unsqueeze = expand_dims

    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def sum_to(self, shape: tuple[int, ...]) -> Tensor:
        return _ops.sum_to(self, shape)

    def matmul(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    dot = matmul

    def pow(self, exponent: Any) -> Tensor:
        return _ops.pow(self, exponent)

    def maximum(self, other: Any) -> Tensor:
        return _ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ops.minimum(self, other)

    # -- vocabulary methods (ops in ops/math.py, ops/scan.py, ops/indexing.py, ops/layout.py,
    # ops/sort.py, ops/linalg.py; activations in functional/activation.py). Each delegates:
    # the ops submodules are attributes of the ops package once steepest is imported (an
    # attribute lookup, 0.02 us); functional is imported locally (it imports this module).
    def sin(self) -> Tensor:
        return _ops.math.sin(self)

    def cos(self) -> Tensor:
        return _ops.math.cos(self)

    def tan(self) -> Tensor:
        return _ops.math.tan(self)

    def asin(self) -> Tensor:
        return _ops.math.asin(self)

    def acos(self) -> Tensor:
        return _ops.math.acos(self)

    def atan(self) -> Tensor:
        return _ops.math.atan(self)

    def sinh(self) -> Tensor:
        return _ops.math.sinh(self)

    def cosh(self) -> Tensor:
        return _ops.math.cosh(self)

    def asinh(self) -> Tensor:
        return _ops.math.asinh(self)

    def acosh(self) -> Tensor:
        return _ops.math.acosh(self)

    def atanh(self) -> Tensor:
        return _ops.math.atanh(self)

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def exp2(self) -> Tensor:
        return _ops.math.exp2(self)

    def expm1(self) -> Tensor:
        return _ops.math.expm1(self)

    def log2(self) -> Tensor:
        return _ops.math.log2(self)

    def log10(self) -> Tensor:
        return _ops.math.log10(self)

    def log1p(self) -> Tensor:
        return _ops.math.log1p(self)

    def rsqrt(self) -> Tensor:
        return _ops.math.rsqrt(self)

    def reciprocal(self) -> Tensor:
        return _ops.math.reciprocal(self)

    def square(self) -> Tensor:
        return _ops.math.square(self)

    def sign(self) -> Tensor:
        return _ops.math.sign(self)

    def floor(self) -> Tensor:
        return _ops.math.floor(self)

    def ceil(self) -> Tensor:
        return _ops.math.ceil(self)

    def round(self, decimals: int = 0) -> Tensor:
        return _ops.math.round(self, decimals)

    def trunc(self) -> Tensor:
        return _ops.math.trunc(self)

    fix = trunc

    def frac(self) -> Tensor:
        return _ops.math.frac(self)

    def atan2(self, other: Any) -> Tensor:
        return _ops.math.atan2(self, other)

    arctan2 = atan2

    def fmod(self, other: Any) -> Tensor:
        return _ops.math.fmod(self, other)

    def remainder(self, other: Any) -> Tensor:
        return _ops.math.remainder(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        return _ops.math.floor_divide(self, other)

    def __mod__(self, other: Any) -> Tensor:
        return self.remainder(other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.math.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return self.floor_divide(other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.math.floor_divide(other, self)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        return _ops.math.lerp(self, end, weight)

    def hypot(self, other: Any) -> Tensor:
        return _ops.math.hypot(self, other)

    def logaddexp(self, other: Any) -> Tensor:
        return _ops.math.logaddexp(self, other)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002, F811
        """Clamp into [min, max]; the bounds may be numbers or tensors."""
        return _ops.math.clamp(self, min, max)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return _ops.math.clamp(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return _ops.math.clamp(self, None, max)

    def isnan(self) -> Tensor:
        return _ops.math.isnan(self)

    def isinf(self) -> Tensor:
        return _ops.math.isinf(self)

    def isfinite(self) -> Tensor:
        return _ops.math.isfinite(self)

    def isclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                equal_nan: bool = False) -> Tensor:
        return _ops.math.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: Any, rtol: float = 1e-05, atol: float = 1e-08,
                 equal_nan: bool = False) -> bool:
        return _ops.math.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Any) -> bool:
        return _ops.math.equal(self, other)

    def logical_and(self, other: Any) -> Tensor:
        return _ops.math.logical_and(self, other)

    def logical_or(self, other: Any) -> Tensor:
        return _ops.math.logical_or(self, other)

    def logical_xor(self, other: Any) -> Tensor:
        return _ops.math.logical_xor(self, other)

    def logical_not(self) -> Tensor:
        return _ops.math.logical_not(self)

    def bitwise_and(self, other: Any) -> Tensor:
        return _ops.math.bitwise_and(self, other)

    def bitwise_or(self, other: Any) -> Tensor:
        return _ops.math.bitwise_or(self, other)

    def bitwise_xor(self, other: Any) -> Tensor:
        return _ops.math.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        return _ops.math.bitwise_not(self)

    __and__ = __rand__ = bitwise_and
    __or__ = __ror__ = bitwise_or
    __xor__ = __rxor__ = bitwise_xor
    __invert__ = bitwise_not

    # activations
    def relu(self) -> Tensor:
        from .functional import activation as a
        return a.relu(self)

    def sigmoid(self) -> Tensor:
        from .functional import activation as a
        return a.sigmoid(self)

    def tanh(self) -> Tensor:
        from .functional import activation as a
        return a.tanh(self)

    def softmax(self, dim: int) -> Tensor:
        from .functional import activation as a
        return a.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        from .functional import activation as a
        return a.log_softmax(self, dim)

    # scans and reductions
    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        return _ops.scan.cumsum(self, dim, dtype)

    def cumprod(self, dim: int, dtype: Any = None) -> Tensor:
        return _ops.scan.cumprod(self, dim, dtype)

    def cummax(self, dim: int) -> Any:
        return _ops.scan.cummax(self, dim)

    def cummin(self, dim: int) -> Any:
        return _ops.scan.cummin(self, dim)

    def logcumsumexp(self, dim: int) -> Tensor:
        return _ops.scan.logcumsumexp(self, dim)

    def amax(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _ops.scan.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: bool = False) -> Tensor:
        return _ops.scan.amin(self, dim, keepdim)

    def count_nonzero(self, dim: Any = None) -> Tensor:
        return _ops.scan.count_nonzero(self, dim)

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None,
             append: Any = None) -> Tensor:
        return _ops.scan.diff(self, n, dim, prepend, append)

    # indexing
    def gather(self, dim: int, index: Any) -> Tensor:
        return _ops.indexing.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, value: Any = None,
                reduce: str | None = None) -> Tensor:
        if src is not None and not isinstance(src, (Tensor, np.ndarray)):
            src, value = None, src  # x.scatter(dim, index, 1.0): the value form
        return _ops.indexing.scatter(self, dim, index, src, value, reduce)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        return _ops.indexing.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index: Any) -> Tensor:
        return _ops.indexing.index_select(self, dim, index)

    def index_add(self, dim: int, index: Any, source: Any, alpha: float = 1) -> Tensor:
        return _ops.indexing.index_add(self, dim, index, source, alpha)

    def index_fill(self, dim: int, index: Any, value: float) -> Tensor:
        return _ops.indexing.index_fill(self, dim, index, value)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _ops.indexing.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        return _ops.indexing.masked_select(self, mask)

    def masked_scatter(self, mask: Any, source: Any) -> Tensor:
        return _ops.indexing.masked_scatter(self, mask, source)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        return _ops.indexing.take_along_dim(self, indices, dim)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return _ops.indexing.nonzero(self, as_tuple=as_tuple)

    def argwhere(self) -> Tensor:
        return _ops.indexing.nonzero(self)

    # shape
    def flip(self, *dims: Any) -> Tensor:
        return _ops.layout.flip(self, dims[0] if len(dims) == 1 else dims)

    def fliplr(self) -> Tensor:
        return _ops.layout.fliplr(self)

    def flipud(self) -> Tensor:
        return _ops.layout.flipud(self)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _ops.layout.roll(self, shifts, dims)

    def repeat(self, *sizes: Any) -> Tensor:
        return _ops.layout.repeat(self, *sizes)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *,
                          output_size: int | None = None) -> Tensor:
        return _ops.layout.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims: Any) -> Tensor:
        return _ops.layout.tile(self, dims[0] if len(dims) == 1 and isinstance(
            dims[0], (tuple, list)) else dims)

    def expand(self, *sizes: Any) -> Tensor:
        return _ops.layout.expand(self, *sizes)

    def expand_as(self, other: Any) -> Tensor:
        return _ops.layout.expand_as(self, other)

    def view_as(self, other: Any) -> Tensor:
        return _ops.layout.view_as(self, other)

    reshape_as = view_as

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        return _ops.layout.unflatten(self, dim, sizes)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        return _ops.layout.narrow(self, dim, start, length)

    def movedim(self, source: Any, destination: Any) -> Tensor:
        return _ops.layout.movedim(self, source, destination)

    moveaxis = movedim

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """torch.Tensor.split: chunks of a size, or pieces of the given sizes."""
        return _ops.layout.split(self, split_size_or_sections, dim)

    def tril(self, diagonal: int = 0) -> Tensor:
        return _ops.layout.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return _ops.layout.triu(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return _ops.layout.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal: int = 0) -> Tensor:
        return _ops.layout.diag(self, diagonal)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return _ops.layout.diag_embed(self, offset, dim1, dim2)

    # sorting
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return _ops.sort.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False
                ) -> Tensor:
        return _ops.sort.argsort(self, dim, descending, stable)

    def msort(self) -> Tensor:
        return _ops.sort.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True  # noqa: A002
             ) -> Any:
        return _ops.sort.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        return _ops.sort.kthvalue(self, k, dim, keepdim)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        return _ops.sort.median(self, dim, keepdim)

    def unique(self, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
               return_counts: bool = False, dim: int | None = None) -> Any:
        return _ops.sort.unique(self, sorted, return_inverse, return_counts, dim)

    # linear algebra
    def mm(self, mat2: Any) -> Tensor:
        return _ops.linalg.mm(self, mat2)

    def bmm(self, mat2: Any) -> Tensor:
        return _ops.linalg.bmm(self, mat2)

    def mv(self, vec: Any) -> Tensor:
        return _ops.linalg.mv(self, vec)

    def outer(self, vec2: Any) -> Tensor:
        return _ops.linalg.outer(self, vec2)

    def trace(self) -> Tensor:
        return _ops.linalg.trace(self)

    def det(self) -> Tensor:
        return _ops.linalg.det(self)

    def inverse(self) -> Tensor:
        return _ops.linalg.inv(self)

    def logit(self, eps: float | None = None) -> Tensor:
        return _ops.math.logit(self, eps)

    def xlogy(self, other: Any) -> Tensor:
        return _ops.math.xlogy(self, other)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
        return _ops.math.nan_to_num(self, nan, posinf, neginf)

    def nansum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.math.nansum(self, dim, keepdim)

    def nanmean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return _ops.math.nanmean(self, dim, keepdim)

    def copysign(self, other: Any) -> Tensor:
        return _ops.math.copysign(self, other)

    def sinc(self) -> Tensor:
        return _ops.math.sinc(self)

    def sgn(self) -> Tensor:
        return _ops.math.sign(self)

    def signbit(self) -> Tensor:
        return _ops.math.signbit(self)

    def deg2rad(self) -> Tensor:
        return _ops.math.deg2rad(self)

    def rad2deg(self) -> Tensor:
        return _ops.math.rad2deg(self)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Tensor:
        return _ops.layout.rot90(self, k, dims)

    def kron(self, other: Any) -> Tensor:
        return _ops.layout.kron(self, other)

    def take(self, index: Any) -> Tensor:
        return _ops.layout.take(self, index)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return _ops.layout.unbind(self, dim)

    def cross(self, other: Any, dim: int | None = None) -> Tensor:
        return _ops.layout.cross(self, other, dim)

    def slogdet(self) -> Any:
        return _ops.linalg.slogdet(self)

    def logdet(self) -> Tensor:
        return _ops.linalg.logdet(self)

    def matrix_power(self, n: int) -> Tensor:
        return _ops.linalg.matrix_power(self, n)

    def addmm(self, mat1: Any, mat2: Any, *, beta: float = 1.0, alpha: float = 1.0) -> Tensor:
        return _ops.linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def bincount(self, weights: Any = None, minlength: int = 0) -> Tensor:
        return _ops.sort.bincount(self, weights, minlength)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a Tensor (``steepest.tensor([1.0, 2.0], requires_grad=True)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import autograd as _autograd  # noqa: E402
from . import ops as _ops  # noqa: E402  (ops need Tensor defined first)
