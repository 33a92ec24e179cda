"""Matrix product (1-D, 2-D and batched, with NumPy's matmul broadcasting rules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import array_module, as_array
from ..tensor import Tensor
from .shape import expand_dims, reshape, sum_to, swapaxes


class MatMul(Function):
    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, gy, y, a, b):
        need_a, need_b = self.needs_grad(0), self.needs_grad(1)
        if a.ndim == 2 and b.ndim == 2:
            return (gy @ b.T if need_a else None, a.T @ gy if need_b else None)
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if need_a else None, gy * a if need_b else None)
        a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
        b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
        g2 = gy
        if a.ndim == 1:
            g2 = expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            ga = reshape(sum_to(g2 @ swapaxes(b2, -1, -2), a2.shape), a.shape)
        if need_b:
            gb = reshape(sum_to(swapaxes(a2, -1, -2) @ g2, b2.shape), b.shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Any:
    """Matrix product ``a @ b``; shapes are checked here with a readable message."""
    sa = a.data.shape if isinstance(a, Tensor) else np.shape(a)
    sb = b.data.shape if isinstance(b, Tensor) else np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} "
                         f"and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned ({ka} != {kb})")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be "
                             f"broadcast together") from None
    return MatMul()(a, b)


# -- vocabulary: torch's linear-algebra names (mm, bmm, mv, dot, outer, einsum, trace, det,
# inv, solve, vector_norm, matrix_norm, cdist). Gradients are written with these ops, so
# they are differentiable again (det and inv by their closed forms, einsum by einsum).

import math  # noqa: E402

from . import arithmetic as _ar  # noqa: E402
from . import reduction as _red  # noqa: E402
from .shape import broadcast_to  # noqa: E402


def _shp(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def _need_dims(op: str, **shapes: tuple[int, ...]) -> None:
    want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1), "dot": (1, 1), "outer": (1, 1)}[op]
    got = tuple(len(s) for s in shapes.values())
    if got != want:
        desc = " and ".join(f"{k} {v}" for k, v in shapes.items())
        raise ValueError(f"{op}: expected {want[0]}-D and {want[1]}-D inputs, got {desc}")


def mm(input: Any, mat2: Any) -> Any:  # noqa: A002
    """Matrix product of two 2-D tensors (no broadcasting)."""
    _need_dims("mm", input=_shp(input), mat2=_shp(mat2))
    return matmul(input, mat2)


def bmm(input: Any, mat2: Any) -> Any:  # noqa: A002
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    _need_dims("bmm", input=_shp(input), mat2=_shp(mat2))
    if _shp(input)[0] != _shp(mat2)[0]:
        raise ValueError(f"bmm: batch sizes differ: shapes {_shp(input)} and {_shp(mat2)}")
    return matmul(input, mat2)


def mv(input: Any, vec: Any) -> Any:  # noqa: A002
    """Matrix-vector product."""
    _need_dims("mv", input=_shp(input), vec=_shp(vec))
    return matmul(input, vec)


def dot(input: Any, other: Any) -> Any:  # noqa: A002
    """Inner product of two 1-D tensors."""
    _need_dims("dot", input=_shp(input), other=_shp(other))
    return matmul(input, other)


inner_product = dot


def outer(input: Any, vec2: Any) -> Any:  # noqa: A002
    """Outer product of two 1-D tensors."""
    _need_dims("outer", input=_shp(input), vec2=_shp(vec2))
    return reshape(input, (-1, 1)) * reshape(vec2, (1, -1))


ger = outer


# -- einsum -----------------------------------------------------------------------------


def _parse_einsum(eq: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit per-operand labels (ellipses expanded to fresh capitals) and the output."""
    eq = eq.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts in {eq!r} for "
                         f"{len(shapes)} operands")
    used = set(eq)
    fresh = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
    ell_n = 0
    for t, s in zip(terms, shapes):
        n_lab = len(t.replace("...", ""))
        if "..." in t:
            ell_n = max(ell_n, len(s) - n_lab)
        elif n_lab != len(s):
            raise ValueError(f"einsum: subscripts {t!r} have {n_lab} labels for an operand "
                             f"of shape {s}")
    ell = "".join(fresh[:ell_n])
    new_terms = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_n - k:])
        new_terms.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        counts: dict[str, int] = {}
        for t in new_terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    for c in out:
        if not any(c in t for t in new_terms):
            raise ValueError(f"einsum: output label {c!r} of {eq!r} appears in no operand")
    return new_terms, out


class Einsum(Function):
    __slots__ = ("terms", "out")

    def __init__(self, terms: list[str], out: str) -> None:
        self.terms, self.out = terms, out

    def forward(self, *xs):
        return np.einsum(",".join(self.terms) + "->" + self.out, *xs, optimize=len(xs) > 2)

    def backward(self, gy, y, *xs):
        grads = []
        for k in range(len(self.terms)):
            if not self.needs_grad(k):
                grads.append(None)
                continue
            grads.append(_einsum_grad(gy, self.out, xs, self.terms, k))
        return tuple(grads) if len(grads) > 1 else grads[0]


def _einsum_grad(gy: Any, out: str, xs: Any, terms: list[str], k: int) -> Any:
    """d/dx_k of einsum: einsum of gy with the other operands onto x_k's labels; labels
    found only in x_k are broadcast, repeated labels put on the diagonal."""
    target = terms[k]
    ops_terms = [out] + [t for i, t in enumerate(terms) if i != k]
    ops = [gy] + [x for i, x in enumerate(xs) if i != k]
    avail = set("".join(ops_terms))
    uniq = "".join(dict.fromkeys(target))
    have = "".join(c for c in uniq if c in avail)
    g = Einsum(ops_terms, have)(*ops)
    shape_k = _shp(xs[k])
    size = {c: shape_k[i] for i, c in enumerate(target)}
    if have != uniq:  # labels only in x_k: broadcast the gradient along them
        g = reshape(g, tuple(size[c] if c in have else 1 for c in uniq))
        g = broadcast_to(g, tuple(size[c] for c in uniq))
    if uniq != target:  # repeated labels: put the gradient on their diagonals
        spare = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 if c not in "".join(terms) + out]
        lab = list(target)
        eyes, eye_terms = [], []
        seen: set[str] = set()
        for i, c in enumerate(target):
            if c in seen:
                s = spare.pop(0)
                lab[i] = s
                gr = as_array(gy.data if isinstance(gy, Tensor) else gy)
                eyes.append(array_module(gr).eye(size[c], dtype=gr.dtype))
                eye_terms.append(c + s)
            seen.add(c)
        g = Einsum([uniq] + eye_terms, "".join(lab))(g, *eyes)
    return g


def einsum(equation: str, *operands: Any) -> Any:
    """Einstein summation (any subscripts numpy accepts, ellipses included); the gradient
    of each operand is another einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    shapes = [_shp(x) for x in operands]
    terms, out = _parse_einsum(equation, shapes)
    for t, s in zip(terms, shapes):
        sizes: dict[str, int] = {}
        for c, n in zip(t, s):
            if sizes.setdefault(c, n) != n:
                raise ValueError(f"einsum: label {c!r} has sizes {sizes[c]} and {n} in "
                                 f"operand of shape {s}")
    return Einsum(terms, out)(*operands)


# -- trace, det, inv, solve ----------------------------------------------------------------


def trace(input: Any) -> Any:  # noqa: A002
    """Sum of the main diagonal of a 2-D tensor."""
    if len(_shp(input)) != 2:
        raise ValueError(f"trace: input must be 2-D, got shape {_shp(input)}")
    return einsum("ii->", input)


def _square(op: str, x: Any) -> None:
    s = _shp(x)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{op}: input must be a (batch of) square matrices (..., n, n), got "
                         f"shape {s}")
    dt = as_array(x.data if isinstance(x, Tensor) else x).dtype
    if dt.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {dt}")


class Inv(Function):
    __slots__ = ()

    def forward(self, x):
        try:
            return np.linalg.inv(x)
        except np.linalg.LinAlgError:
            raise ValueError(f"inv: a matrix of the batch of shape {x.shape} is singular"
                             ) from None

    def backward(self, gy, y, x):
        yt = swapaxes(y, -1, -2)
        return -(yt @ gy @ yt)


class Det(Function):
    __slots__ = ()

    def forward(self, x):
        return np.linalg.det(x)

    def backward(self, gy, y, x):
        # d det / dX = det · X^{-T} (for invertible X)
        return expand_dims(expand_dims(gy * y, -1), -1) * swapaxes(inv(x), -1, -2)


class Solve(Function):
    __slots__ = ()

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise ValueError(f"solve: a matrix A of shape {a.shape} is singular") from None

    def backward(self, gy, y, a, b):
        gb = solve(swapaxes(a, -1, -2), gy)
        ga = -(gb @ swapaxes(y, -1, -2)) if self.needs_grad(0) else None
        return ga, gb


def inv(input: Any) -> Any:  # noqa: A002
    """Inverse of a (batch of) square matrices; gradient -A^{-T} G A^{-T}."""
    _square("inv", input)
    return Inv()(input)


def det(input: Any) -> Any:  # noqa: A002
    """Determinant of a (batch of) square matrices; gradient det · A^{-T}."""
    _square("det", input)
    return Det()(input)


def solve(A: Any, B: Any) -> Any:  # noqa: N803
    """X with A X = B; B is a vector (..., n) when it has one dim less than A (as
    torch.linalg.solve), else matrices (..., n, k)."""
    _square("solve", A)
    sa, sb = _shp(A), _shp(B)
    vec = len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1])
    if (sb[-1] if vec else sb[-2] if len(sb) >= 2 else -1) != sa[-1]:
        raise ValueError(f"solve: A of shape {sa} and B of shape {sb} do not match")
    if vec:
        r = Solve()(A, expand_dims(B, -1))
        return reshape(r, _shp(r)[:-1])
    return Solve()(A, B)


# -- norms and distances ---------------------------------------------------------------------


class VectorNorm(Function):
    """The p-norm over ``axis``; the gradient is 0 where the norm is 0 (as torch), and the
    ∞-norm shares it evenly among tied maxima."""

    __slots__ = ("ord", "axis", "keepdims")

    def __init__(self, ord: float, axis: Any, keepdims: bool) -> None:  # noqa: A002
        self.ord, self.axis, self.keepdims = ord, axis, keepdims

    def forward(self, x):
        p, ax, kd = self.ord, self.axis, self.keepdims
        a = np.abs(x)
        if p == 2:
            return np.sqrt(np.sum(x * x, axis=ax, keepdims=kd))
        if p == 1:
            return np.sum(a, axis=ax, keepdims=kd)
        if p == math.inf:
            return np.max(a, axis=ax, keepdims=kd, initial=0.0)
        if p == -math.inf:
            return np.min(a, axis=ax, keepdims=kd)
        if p == 0:
            return np.sum(a != 0, axis=ax, keepdims=kd).astype(x.dtype)
        return np.sum(a ** p, axis=ax, keepdims=kd) ** (1.0 / p)

    def backward(self, gy, y, x):
        p, ax = self.ord, self.axis
        if not self.keepdims and ax is not None:
            shape = [1 if i in ax else s for i, s in enumerate(_shp(x))]
            gy, y = reshape(gy, tuple(shape)), reshape(y, tuple(shape))
        if p == 0:
            return x * 0.0
        if p == 1:
            return gy * _ar.sign(x)
        yr = as_array(y.data if isinstance(y, Tensor) else y)
        zero = yr == 0
        if p in (math.inf, -math.inf):
            xr = as_array(x.data if isinstance(x, Tensor) else x)
            hit = (np.abs(xr) == yr).astype(xr.dtype)
            hit /= np.maximum(np.sum(hit, axis=ax, keepdims=True), 1.0).astype(xr.dtype)
            return gy * (_ar.sign(x) * hit)
        safe = _ar.where(zero, 1.0, y)
        if p == 2:
            return _ar.where(zero, 0.0, gy / safe) * x
        ax_ = _ar.abs(x)
        return _ar.where(zero, 0.0, gy / safe ** (p - 1.0)) * (_ar.sign(x) * ax_ ** (p - 1.0))


def _norm_dims(dim: Any, nd: int) -> tuple[int, ...] | None:
    if dim is None:
        return None
    ds = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(int(d) % max(nd, 1) for d in ds)


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                *, dtype: Any = None) -> Any:
    """‖x‖_ord over ``dim`` (all elements when None), as torch.linalg.vector_norm."""
    if dtype is not None:
        x = _ar.astype(x, dtype)
    s = _shp(x)
    dt = as_array(x.data if isinstance(x, Tensor) else x).dtype
    if dt.kind != "f":
        raise TypeError(f"vector_norm: input must be floating point, got {dt}")
    p = float(ord)
    axes = _norm_dims(dim, len(s))
    if axes is not None and len(s) == 0:
        axes = None
    if p < 0 and p != -math.inf and np.size(x.data if isinstance(x, Tensor) else x) == 0:
        raise ValueError("vector_norm: a negative ord of an empty tensor is undefined")
    return VectorNorm(p, axes, bool(keepdim))(x)


def matrix_norm(A: Any, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002,N803
                keepdim: bool = False) -> Any:
    """Frobenius ('fro'), 1, -1, inf or -inf norm of (a batch of) matrices."""
    s = _shp(A)
    if len(s) < 2:
        raise ValueError(f"matrix_norm: input must have at least 2 dims, got shape {s}")
    d0, d1 = (int(d) % len(s) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        inner, outer_ = (d0, d1) if ord in (1, -1) else (d1, d0)
        col = _red.sum(_ar.abs(A), inner, True)
        from .scan import amax, amin

        r = amax(col, outer_, True) if ord > 0 else amin(col, outer_, True)
        return r if keepdim else reshape(r, tuple(n for i, n in enumerate(s)
                                                  if i not in (d0, d1)))
    raise ValueError(f"matrix_norm: ord must be 'fro', 1, -1, inf or -inf, got {ord!r} "
                     f"('nuc' and 2 need an SVD and are not provided)")


def linalg_norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: N803
    """torch.linalg.norm: a vector norm for 1-D input or an int dim, a matrix norm for a
    2-tuple dim or 2-D input with a matrix ord; 2-norm of everything by default."""
    s = _shp(A)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim)
    if dim is None and len(s) == 2 or (isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(A, ord, (-2, -1) if dim is None else tuple(dim), keepdim)
    return vector_norm(A, ord, dim, keepdim)


def cdist(x1: Any, x2: Any, p: float = 2.0) -> Any:
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    s1, s2 = _shp(x1), _shp(x2)
    if len(s1) < 2 or len(s2) < 2 or s1[-1] != s2[-1]:
        raise ValueError(f"cdist: x1 {s1} and x2 {s2} must be (..., P, M) and (..., R, M) "
                         f"with the same M")
    d = expand_dims(x1, -2) - expand_dims(x2, -3)
    return vector_norm(d, p, -1)


def tensordot(a: Any, b: Any, dims: Any = 2) -> Any:
    """Contract the last ``dims`` dims of a with the first of b (or the given dim lists)."""
    sa, sb = _shp(a), _shp(b)
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(len(sa) - int(dims), len(sa))), list(range(int(dims)))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    letters = "abcdefghijklmnopqrstuvwxyz"
    la = list(letters[:len(sa)])
    lb = list(letters[len(sa):len(sa) + len(sb)])
    for i, j in zip(da, db):
        lb[j % len(sb)] = la[i % len(sa)]
    out = [c for i, c in enumerate(la) if i not in [d % len(sa) for d in da]] + \
        [c for j, c in enumerate(lb) if j not in [d % len(sb) for d in db]]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def _beta_plus_alpha(input: Any, p: Any, beta: float, alpha: float) -> Any:  # noqa: A002
    """beta · input + alpha · p, skipping the factors that are 1 and the term beta = 0."""
    if alpha != 1:
        p = p * float(alpha)
    return p if beta == 0 else (input if beta == 1 else input * float(beta)) + p


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1.0,  # noqa: A002
          alpha: float = 1.0) -> Any:
    """beta · input + alpha · (mat1 @ mat2)."""
    return _beta_plus_alpha(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1.0,  # noqa: A002
            alpha: float = 1.0) -> Any:
    """beta · input + alpha · (batch1 @ batch2)."""
    return _beta_plus_alpha(input, bmm(batch1, batch2), beta, alpha)


def addmv(input: Any, mat: Any, vec: Any, *, beta: float = 1.0,  # noqa: A002
          alpha: float = 1.0) -> Any:
    """beta · input + alpha · (mat @ vec)."""
    return _beta_plus_alpha(input, mv(mat, vec), beta, alpha)


class LogAbsDet(Function):
    __slots__ = ()

    def forward(self, x):
        return np.linalg.slogdet(x)[1]

    def backward(self, gy, y, x):
        return expand_dims(expand_dims(gy, -1), -1) * swapaxes(inv(x), -1, -2)


def slogdet(A: Any) -> tuple[Any, Any]:  # noqa: N803
    """(sign, log|det|) of (a batch of) square matrices; log|det| is differentiable."""
    _square("slogdet", A)
    sign = np.linalg.slogdet(A.data if isinstance(A, Tensor) else A)[0]
    return Tensor._make(as_array(sign), False, None, 0), LogAbsDet()(A)


def logdet(input: Any) -> Any:  # noqa: A002
    """log det; NaN where the determinant is negative (as torch)."""
    sign, lad = slogdet(input)
    s = sign.data
    if np.all(s > 0):
        return lad
    return _ar.where(s > 0, lad, float("nan")) + _ar.where(s == 0, float("-inf"), 0.0)


def matrix_power(A: Any, n: int) -> Any:  # noqa: N803
    """A^n by repeated squaring (n < 0 uses the inverse)."""
    _square("matrix_power", A)
    if n < 0:
        A, n = inv(A), -n
    s = _shp(A)
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is None:
        ar = as_array(A.data if isinstance(A, Tensor) else A)
        eye = np.broadcast_to(array_module(ar).eye(s[-1], dtype=ar.dtype), s)
        return Tensor._make(eye.copy(), False, None, 0) if isinstance(A, Tensor) else eye.copy()
    return result
