"""Fused elementwise kernels for the hot layers (numba when installed, NumPy otherwise).

Why: after the matrix products, an MLP step is a dozen small elementwise passes (bias,
ReLU, its mask, the bias gradient, softmax cross-entropy), each a NumPy call that costs a
microsecond or two of dispatch plus one trip through memory. Compiled with numba, each
chain below is one pass. Every kernel does, element for element, the same IEEE float
operations in the same order as the NumPy sequence it replaces (sums over the batch run
row by row, as NumPy reduces a leading axis; ``exp`` and ``log`` stay NumPy's, whose SIMD
results numba's would not match in the last bit), so both paths give bit-identical
results, signed zeros included (NaN comes out at the same places; which of two NaNs a sum
keeps, its sign and payload, IEEE 754 leaves open and NumPy's own loops differ on). Where
NumPy does not reduce one by one (it sums a single column, or the classes of a single
sample, pairwise) the NumPy sequence runs. ``tests/test_kernels.py`` checks all this on
random and edge values.

Used by the captured step (:mod:`steepest.compile`) and by the eager ``LinearReLU`` node.
Without numba (or with ``STEEPEST_NO_NUMBA`` set) every function runs the NumPy sequence.
"""

from __future__ import annotations

import os

import numpy as np

try:  # pragma: no cover - depends on the environment
    if os.environ.get("STEEPEST_NO_NUMBA"):
        raise ImportError
    import numba
except ImportError:  # pragma: no cover
    numba = None

#: numba is installed (``pip install steepest[fast]``) and not switched off.
AVAILABLE = numba is not None


def _zero_row(n: int, dt: np.dtype) -> np.ndarray:
    from .functional.activation import _zero_row as zr

    return zr(n, dt)


# -- the loops (compiled below when numba is there) ------------------------------------------
def _bias_relu_loop(h, b, relu):
    n, m = h.shape
    for i in range(n):
        for j in range(m):
            v = h[i, j] + b[j]
            if relu and v <= 0:  # np.maximum(v, 0): NaN passes, -0.0 becomes 0.0
                v = 0
            h[i, j] = v


def _relu_loop(h):
    n, m = h.shape
    for i in range(n):
        for j in range(m):
            if h[i, j] <= 0:
                h[i, j] = 0


def _relu_grad_loop(g, y, out, gb, with_bias):
    """out = g * (y > 0) and, with ``with_bias``, gb = out.sum(axis=0), row by row from
    +0.0 as NumPy sums (so a column of -0.0 sums to 0.0)."""
    n, m = g.shape
    one, zero = g.dtype.type(1), g.dtype.type(0)
    for i in range(n):
        for j in range(m):
            v = g[i, j] * (one if y[i, j] > 0 else zero)
            out[i, j] = v
            if with_bias:
                gb[j] = (zero + v) if i == 0 else gb[j] + v


def _xent_shift_loop(x, t, z, picked):
    """z = x - max over classes; picked = z at the label. Returns False on a bad label."""
    n, c = x.shape
    ok = True
    for i in range(n):
        m = x[i, 0]
        for k in range(1, c):
            v = x[i, k]
            if m == m and not m > v:  # np.maximum(m, v): NaN wins, a tie takes v
                m = v
        for k in range(c):
            z[i, k] = x[i, k] - m
        label = t[i]
        if label < 0 or label >= c:
            ok = False
            picked[i] = 0
        else:
            picked[i] = z[i, label]
    return ok


def _xent_norm_loop(e, t, s, scale, grad):
    """From e = exp(z): s = Σ_c e and e ← e / s (the softmax); with ``grad`` then
    e ← (e - onehot) * scale (its backward), in eager's order of operations."""
    n, c = e.shape
    one = e.dtype.type(1)
    for i in range(n):
        acc = e[i, 0]
        for k in range(1, c):
            acc = acc + e[i, k]
        s[i] = acc
        for k in range(c):
            e[i, k] = e[i, k] / acc
        if grad:
            label = t[i]
            e[i, label] = e[i, label] - one
            for k in range(c):
                e[i, k] = e[i, k] * scale


def _finite_loop(a):
    """Σ a·0 is 0 exactly when every element is finite (inf·0 and NaN·0 are NaN); the
    order of the sum does not matter, so it may be reassociated (vectorised)."""
    zero = a.dtype.type(0)
    acc = zero
    for i in range(a.size):
        acc += a[i] * zero
    return acc == 0


if AVAILABLE:  # pragma: no branch - numba is in the dev environment
    _njit = numba.njit
    _bias_relu = _njit(cache=True)(_bias_relu_loop)
    _relu = _njit(cache=True)(_relu_loop)
    _relu_grad = _njit(cache=True)(_relu_grad_loop)
    _xent_shift = _njit(cache=True)(_xent_shift_loop)
    _xent_norm = _njit(cache=True)(_xent_norm_loop)
    _finite = _njit(cache=True, fastmath={"reassoc", "nsz"})(_finite_loop)


def compiled_for(dt: np.dtype) -> bool:
    """Whether the compiled loops run for arrays of this dtype: numba is there and the dtype
    is float32 or float64 (numba has no float16 arithmetic)."""
    return AVAILABLE and dt.char in "fd"


def rowwise(width: int) -> bool:
    """Whether NumPy reduces the leading axis of a C-ordered (rows, width) array row by row,
    as the compiled loops do: yes, unless ``width`` is 1 (a single column is summed
    pairwise); shapes where it is not take the NumPy path."""
    return width > 1


def _fits(*arrays: np.ndarray) -> bool:
    """Host, C-contiguous, 2-D arrays of a compiled dtype: what the compiled loops take."""
    for a in arrays:
        if (type(a) is not np.ndarray or a.ndim != 2 or not a.flags.c_contiguous
                or not compiled_for(a.dtype)):
            return False
    return True


# -- the public kernels ----------------------------------------------------------------------
def all_finite(a: np.ndarray) -> bool | None:
    """Whether every element of the contiguous float array ``a`` is finite, in one
    vectorised pass; None when the compiled loop does not apply (the caller checks)."""
    if type(a) is np.ndarray and compiled_for(a.dtype) and a.flags.c_contiguous:
        return bool(_finite(a.reshape(-1)))
    return None


def bias_relu(h: np.ndarray, b: np.ndarray | None, relu: bool) -> np.ndarray:
    """``h += b`` then, with ``relu``, ``h = max(h, 0)``, in place; returns ``h``."""
    if b is None and not relu:
        return h
    if _fits(h) and h.shape[0] * h.shape[1]:
        if b is None:
            _relu(h)
        elif type(b) is np.ndarray and b.dtype == h.dtype and b.shape == (h.shape[1],):
            _bias_relu(h, b, relu)
        else:
            _numpy_bias_relu(h, b, relu)
        return h
    return _numpy_bias_relu(h, b, relu)


def _numpy_bias_relu(h: np.ndarray, b: np.ndarray | None, relu: bool) -> np.ndarray:
    if b is not None:
        np.add(h, b, out=h)
    if relu:
        if type(h) is np.ndarray and h.ndim:
            np.maximum(h, _zero_row(h.shape[-1], h.dtype), out=h)
        else:  # device arrays and 0-d: the plain form
            np.maximum(h, 0, out=h)
    return h


def relu_grad(g: np.ndarray, y: np.ndarray, out: np.ndarray | None = None,
              gb: np.ndarray | None = None) -> np.ndarray:
    """``g * (y > 0)`` (ReLU's backward from its output ``y``) into ``out`` (a new array
    when None; ``g`` itself is allowed) and, when ``gb`` is given, its sum over axis 0
    into ``gb``. Returns the masked gradient. (NumPy sums a single column pairwise, not
    row by row: that shape takes NumPy's path.)"""
    if out is None:
        out = np.empty_like(g)
    if (_fits(g, y, out) and g.shape == y.shape == out.shape and g.dtype == y.dtype
            == out.dtype and g.shape[0] * g.shape[1] and (gb is None or (
                type(gb) is np.ndarray and gb.dtype == g.dtype and gb.shape == (g.shape[1],)
                and gb.flags.c_contiguous and rowwise(g.shape[1])))):
        _relu_grad(g, y, out, out[0] if gb is None else gb, gb is not None)
        return out
    np.multiply(g, y > 0, out=out)
    if gb is not None:
        out.sum(axis=0, out=gb)
    return out


def softmax_xent(x: np.ndarray, t: np.ndarray, z: np.ndarray, picked: np.ndarray,
                 s: np.ndarray, scale: float | None = None) -> bool:
    """Softmax of the (N, C) logits ``x`` into the (N, C) buffer ``z``, the shifted logit
    at each label into ``picked`` and the sum of exponentials into ``s`` (so the loss is
    ``log(s) - picked``); with ``scale``, ``z`` then becomes the gradient of the logits,
    ``(softmax - onehot) * scale``. False (nothing done) when the compiled loops do not
    apply, and for one sample (NumPy reduces the classes of a single sample pairwise, not
    one by one); raises, naming the label, on a label outside [0, C)."""
    n, c = x.shape
    if not (rowwise(n) and _fits(x, z) and t.dtype.kind in "iu" and t.shape == (n,)
            and z.shape == x.shape and z.dtype == x.dtype and picked.shape == s.shape == (n,)):
        return False
    if not _xent_shift(x, t, z, picked):
        from .functional.loss import _check_labels

        _check_labels("cross_entropy", t, n, c)
    np.exp(z, out=z)
    _xent_norm(z, t, s, z.dtype.type(0 if scale is None else scale), scale is not None)
    return True


class SoftmaxCrossEntropy:
    """Softmax cross-entropy of (N, C) logits at integer labels, forward and gradient in
    one go on buffers allocated once (the captured step's loss).

    ``forward(x, t)`` returns the summed loss (a NumPy scalar; eager's ``loss.sum()``) and
    leaves the gradient of the logits, ``(softmax - onehot) * scale``, in ``self.grad``.
    The arithmetic is ``functional.loss.CrossEntropy``'s (labels branch) and its backward,
    operation for operation.
    """

    __slots__ = ("n", "c", "scale", "grad", "picked", "s", "loss", "ar", "zt", "compiled")

    def __init__(self, n: int, c: int, dt: np.dtype, scale: float) -> None:
        self.n, self.c = n, c
        self.scale = dt.type(scale)
        self.picked, self.s, self.loss = (np.empty(n, dt) for _ in range(3))
        self.ar = np.arange(n, dtype=np.intp)
        self.zt = np.empty((c, n), dt)  # the NumPy path's working buffer, as eager's
        self.grad = np.empty((n, c), dt)  # C-contiguous (N, C), as eager's gradient
        self.compiled = compiled_for(dt) and rowwise(n)  # as softmax_xent decides

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The summed loss; raises (naming the label) when a label is out of range."""
        if t.shape != (self.n,) or t.dtype.kind not in "iu":
            from .functional.loss import _check_labels

            _check_labels("cross_entropy", t, self.n, self.c)
        g = self.grad
        if self.compiled and x.dtype == g.dtype:  # buffers known: the loops directly
            if not _xent_shift(x, t, g, self.picked):
                from .functional.loss import _check_labels

                _check_labels("cross_entropy", t, self.n, self.c)
            np.exp(g, out=g)
            _xent_norm(g, t, self.s, self.scale, True)
        else:
            self._numpy(x, t)
        loss = self.loss
        np.log(self.s, out=loss)
        np.subtract(loss, self.picked, out=loss)
        return np.add.reduce(loss)  # loss.sum(), minus its wrapper

    def _numpy(self, x: np.ndarray, t: np.ndarray) -> None:
        """The same in NumPy calls, in a (C, N) buffer as eager works."""
        from .functional.loss import _check_labels

        _check_labels("cross_entropy", t, self.n, self.c)
        z = self.zt
        np.copyto(z, x.T)
        np.subtract(z, z.max(axis=0), out=z)
        self.picked[...] = z[t, self.ar]
        np.exp(z, out=z)
        z.sum(axis=0, out=self.s)
        np.divide(z, self.s, out=z)
        g = self.grad
        np.copyto(g, z.T)
        g[self.ar, t] -= 1.0
        np.multiply(g, self.scale, out=g)
