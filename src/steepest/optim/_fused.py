"""Optional fused optimiser kernels (numba): one pass over memory instead of a dozen.

NumPy has no fused multiply-add over arrays, so an Adam step is about 13 passes over each
parameter-sized array; compiled with numba it is one pass, split over the cores for large
tensors. The arithmetic is the NumPy path's, operation for operation and in the
parameter's dtype, so both give the same numbers. Used only when numba is installed
(``pip install steepest[fast]``) and ``STEEPEST_NO_NUMBA`` is not set; the NumPy path is
always the fallback.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..kernels import AVAILABLE, compiled_for, numba

#: The kernels are compiled with ``parallel=True`` (which lets LLVM vectorise them: ~7x
#: faster than the plain loop) but run on one numba thread: more threads would compete
#: with OpenBLAS's threads, which spin right after a GEMM (a 10x slowdown in training).
KERNEL_THREADS = int(os.environ.get("STEEPEST_NUMBA_THREADS", 1))
#: Launching a kernel costs ~15 µs; below this many elements the NumPy path is faster.
MIN_SIZE = 1 << 16


def _adam_one(pi, gi, mi, vi, decay, wd, neg, w1, b2, w2, eps_c, step_c):  # noqa: PLR0913
    """One element of the update, in the NumPy path's order of operations."""
    if decay != 1:
        pi = pi * decay
    if wd != 0:
        d = pi * wd - gi if neg else pi * wd + gi
    else:
        d = -gi if neg else gi
    mi = mi + (d - mi) * w1
    vi = vi * b2 + (d * d) * w2
    return pi - (mi / (np.sqrt(vi) + eps_c)) * step_c, mi, vi


def _adam_ploop(p, g, m, v, decay, wd, neg, w1, b2, w2, eps_c, step_c):  # noqa: PLR0913
    for i in numba.prange(p.size):
        p[i], m[i], v[i] = _adam_one(p[i], g[i], m[i], v[i], decay, wd, neg, w1, b2, w2,
                                     eps_c, step_c)


def _sgd_one(pi, gi, bi, lr, wd, neg, mom, damp_w, nesterov):  # noqa: PLR0913
    if wd != 0:
        d = pi * wd - gi if neg else pi * wd + gi
    else:
        d = -gi if neg else gi
    if mom != 0:
        bi = bi * mom + (d * damp_w if damp_w != 1 else d)
        d = d + bi * mom if nesterov else bi
    return pi - d * lr, bi


def _sgd_ploop(p, g, b, lr, wd, neg, mom, damp_w, nesterov):  # noqa: PLR0913
    for i in numba.prange(p.size):
        pi, bi = _sgd_one(p[i], g[i], b[i], lr, wd, neg, mom, damp_w, nesterov)
        p[i] = pi
        if mom != 0:
            b[i] = bi


def _sgd_plain_loop(p, g, lr):
    """p ← p − g·lr: plain SGD without decay, in one serial, vectorisable pass."""
    for i in range(p.size):
        p[i] = p[i] - g[i] * lr


if AVAILABLE:  # pragma: no branch
    _sgd_plain = numba.njit(cache=True)(_sgd_plain_loop)
    _sgd_one = numba.njit(inline="always", cache=True)(_sgd_one)
    _sgd_parallel = numba.njit(parallel=True, cache=True)(_sgd_ploop)
    _adam_one = numba.njit(inline="always", cache=True)(_adam_one)
    _adam_parallel = numba.njit(parallel=True, cache=True)(_adam_ploop)


def _launch(kernel: Any, *args: Any) -> None:
    before = numba.get_num_threads()
    if before != KERNEL_THREADS:
        numba.set_num_threads(min(KERNEL_THREADS, numba.config.NUMBA_NUM_THREADS))
    try:
        kernel(*args)
    finally:
        if before != KERNEL_THREADS:
            numba.set_num_threads(before)


def adam_step(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, *, lr: float,
              b1: float, b2: float, eps: float, wd: float, decoupled: bool, maximize: bool,
              step_size: float, bc2_sqrt: float) -> bool:
    """One fused Adam/AdamW update in place; False when the arrays do not qualify (the
    caller then takes the NumPy path)."""
    if not _qualifies(p, g, m, v):
        return False
    t: Any = p.dtype.type  # constants in the parameter's dtype, as NumPy uses them
    decay = t(1.0 - lr * wd) if (decoupled and wd != 0) else t(1.0)
    l2 = t(0.0) if decoupled else t(wd)
    args = (decay, l2, bool(maximize), t(1.0 - b1), t(b2), t(1.0 - b2), t(eps * bc2_sqrt),
            t(step_size * bc2_sqrt))
    _launch(_adam_parallel, p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), *args)
    return True


def _qualifies(*arrays: np.ndarray) -> bool:
    p = arrays[0]
    if not (p.size >= MIN_SIZE and compiled_for(p.dtype)):  # numba: no float16
        return False  # the common small-tensor case: no per-array checks
    for a in arrays:
        # host arrays only: device arrays take the NumPy-API path
        if type(a) is not np.ndarray or not a.flags.c_contiguous or a.dtype != p.dtype:
            return False
    return True


def sgd_step(p: np.ndarray, g: np.ndarray, buf: np.ndarray | None, *, lr: float, wd: float,
             maximize: bool, momentum: float, dampening: float, nesterov: bool) -> bool:
    """One fused SGD update in place: with momentum (existing buffer), or plain SGD
    without decay; False when the arrays do not qualify.

    Plain SGD is one serial pass p ← p − g·lr (no thread pool; ~2x NumPy's two passes,
    which also need a scratch array that is cold right after a backward); with weight
    decay or maximize it stays on NumPy."""
    if momentum == 0:
        if wd != 0 or maximize or not _qualifies(p, g):
            return False
        _sgd_plain(p.reshape(-1), g.reshape(-1), p.dtype.type(lr))
        return True
    if buf is None or not _qualifies(p, g, buf):
        return False
    b = buf
    t: Any = p.dtype.type
    args = (t(lr), t(wd), bool(maximize), t(momentum), t(1.0 - dampening), bool(nesterov))
    _launch(_sgd_parallel, p.reshape(-1), g.reshape(-1), b.reshape(-1), *args)
    return True
