"""Numerical gradient checking: backprop against central differences, in float64.

Backprop costs about one forward pass for all gradients; central differences cost two
forward passes *per input element*. This tool uses the slow, simple method to check the
fast one, and reports the worst element so a wrong derivative is easy to locate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .autograd import no_grad, run_backward
from .backend import as_array, is_device_array, to_device
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Backprop and numerical gradients disagree."""


@dataclass
class GradcheckResult:
    """Outcome of :func:`gradcheck`: the worst element found."""

    ok: bool
    max_abs_error: float
    input_index: int
    element: tuple[int, ...]
    analytic: float
    numeric: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return (f"gradcheck {'passed' if self.ok else 'FAILED'}: worst element is input "
                f"{self.input_index} at index {self.element}: analytic {self.analytic:.10g} vs "
                f"numeric {self.numeric:.10g} (abs error {self.max_abs_error:.3g})")


def _float64(a: Any) -> Any:
    """A float64 copy on the array's own device."""
    if is_device_array(a):
        return a.astype(np.float64, copy=True)
    return np.array(a, dtype=np.float64)


def _output(fn: Callable, xs: Sequence[Tensor]) -> Tensor:
    y = fn(*xs)
    if isinstance(y, (tuple, list)):
        raise TypeError("gradcheck: fn must return a single Tensor")
    return y if isinstance(y, Tensor) else Tensor(np.asarray(y, dtype=np.float64))


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> GradcheckResult:
    """Check the gradients of ``fn(*inputs)`` against central differences.

    Inputs are converted to float64 tensors that require grad. A non-scalar output is
    reduced to the scalar ``sum(y * w)`` with fixed random weights ``w``, which checks one
    vector-Jacobian product (a wrong derivative shows up with probability 1).

    Returns a :class:`GradcheckResult` (truthy when it passed); with
    ``raise_exception=True`` a failure raises :class:`GradcheckError` with the details.
    """
    xs = [Tensor(_float64(x.data if isinstance(x, Tensor) else x), requires_grad=True)
          for x in inputs]
    y = _output(fn, xs)
    if y.dtype != np.float64:
        raise TypeError(f"gradcheck: fn returned dtype {y.dtype}; it must keep float64")
    w = (np.ones(y.shape) if y.data.size == 1
         else np.random.default_rng(seed).standard_normal(y.shape))
    w = to_device(w, y.device)  # inputs on a device: the check runs there
    def scalar(arrays: Sequence[np.ndarray]) -> float:
        with no_grad():
            out = _output(fn, [Tensor(a) for a in arrays])
        return float(np.sum(out.data * w))

    if y.requires_grad:
        gs = run_backward([y], [w], False, False, capture=xs, where="gradcheck")
        analytic = [np.zeros_like(x.data) if g is None else as_array(g) for x, g in zip(xs, gs)]
    else:
        analytic = [np.zeros_like(x.data) for x in xs]

    worst = GradcheckResult(True, 0.0, -1, (), 0.0, 0.0)
    worst_excess = -np.inf
    base = [x.data.copy() for x in xs]
    for i, x in enumerate(base):
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            fp = scalar(base)
            x[idx] = old - eps
            fm = scalar(base)
            x[idx] = old
            num = (fp - fm) / (2 * eps)
            ana = float(analytic[i][idx])
            err = abs(ana - num)
            excess = err - (atol + rtol * abs(num))
            if excess > worst_excess:
                worst_excess = excess
                worst = GradcheckResult(excess <= 0, err, i, idx, ana, num)
    worst.ok = bool(worst_excess <= 0)
    if not worst.ok and raise_exception:
        raise GradcheckError(str(worst))
    return worst
