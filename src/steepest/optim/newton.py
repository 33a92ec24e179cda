"""Newton-CG: a second-order method for small problems, built on double backprop.

Each ``step(closure)`` is one (optionally damped) Newton iteration. The Newton system
(H + λI)·p = −g is solved approximately by conjugate gradients, which needs only
Hessian-vector products H·v = ∇(∇L·v), computed by differentiating the gradient (obtained
with ``create_graph=True``) once more; the Hessian itself is never formed. CG stops at the
relative residual ``tol``, after ``max_cg_iter`` iterations, or on negative curvature (then
the direction found so far, or −g, is used: a truncated Newton / Steihaug rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd import enable_grad, grad, no_grad
from ..tensor import Tensor
from .optimizer import NonFiniteGradientError, Optimizer, _check_lr, _check_nonneg

__all__ = ["NewtonCG"]


class NewtonCG(Optimizer):
    """Newton's method with a conjugate-gradient inner solver (one parameter group).

    Parameters
    ----------
    lr : float
        Step length along the Newton direction (1 is the full Newton step).
    max_cg_iter : int, optional
        CG iterations per step (default: the number of parameters, so the quadratic model
        is minimised exactly in exact arithmetic).
    tol : float
        CG stops when ‖residual‖ ≤ tol·‖g‖.
    damping : float
        λ ≥ 0 added to the Hessian's diagonal (Levenberg-style damping: shorter, safer
        steps where the curvature is small or negative).
    line_search : bool
        Backtrack (halving the step, Armijo condition) until the loss decreases enough.

    The closure computes and returns the loss *without* calling ``backward``: NewtonCG
    takes the gradients itself with ``steepest.grad(loss, params, create_graph=True)``.
    ``state[0]`` records ``n_iter``, ``func_evals``, ``cg_iters`` (last step) and
    ``grad_norm`` (at the start of the last step).
    """

    _single_group = True

    def __init__(self, params: Any, lr: float = 1.0, max_cg_iter: int | None = None,
                 tol: float = 1e-10, damping: float = 0.0, line_search: bool = False, *,
                 nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, max_cg_iter=max_cg_iter, tol=tol, damping=damping,
                        line_search=line_search)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_nonneg("tol", group["tol"], prefix)
        _check_nonneg("damping", group["damping"], prefix)
        m = group["max_cg_iter"]
        if m is not None and (not isinstance(m, (int, np.integer)) or m < 1):
            raise ValueError(f"{prefix}invalid max_cg_iter={m!r}; expected None or an "
                             f"integer >= 1")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Newton iteration; returns the loss at the starting point."""
        if closure is None:
            raise ValueError("NewtonCG.step needs a closure that computes and returns the "
                             "loss (without calling backward)")
        group = self.param_groups[0]
        params: list[Tensor] = group["params"]
        lr = float(group["lr"])
        damping = float(group["damping"])
        tol = float(group["tol"])
        n = sum(p.data.size for p in params)
        max_cg = group["max_cg_iter"] or n
        state = self.state.setdefault(0, {})
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)

        with enable_grad():
            loss = closure()
            if not isinstance(loss, Tensor) or loss.data.size != 1:
                raise ValueError("NewtonCG: the closure must return the scalar loss Tensor")
            gs = grad(loss, params, create_graph=True, allow_unused=True)
        state["func_evals"] += 1
        gs = [g if g is not None else Tensor(np.zeros_like(p.data)) for g, p in
              zip(gs, params)]
        gflat = np.concatenate([g.data.reshape(-1) for g in gs])
        if self.nonfinite != "ignore" and not np.isfinite(gflat).all():
            if self.nonfinite == "skip":
                self.skipped_steps += 1
                return loss
            raise NonFiniteGradientError("NewtonCG.step: the gradient contains NaN or inf; "
                                         "no parameter was changed")
        gnorm = float(np.linalg.norm(gflat))
        state["grad_norm"] = gnorm

        shapes = [p.data.shape for p in params]
        sizes = [p.data.size for p in params]
        dtype = gflat.dtype

        def hvp(v: np.ndarray) -> np.ndarray:
            with enable_grad():
                parts = []
                off = 0
                for shape, size in zip(shapes, sizes):
                    parts.append(v[off:off + size].reshape(shape))
                    off += size
                gv = None
                for g, vi in zip(gs, parts):
                    if not g.requires_grad:
                        continue  # a gradient that does not depend on the parameters
                    term = (g * vi).sum()
                    gv = term if gv is None else gv + term
                if gv is None:
                    return np.zeros_like(v)
                hs = grad(gv, params, retain_graph=True, allow_unused=True)
            out = np.concatenate([
                (h.data if h is not None else np.zeros(size, dtype=dtype)).reshape(-1)
                for h, size in zip(hs, sizes)])
            if damping:
                out += damping * v
            return out

        # conjugate gradients on (H + λI)·x = −g, from x = 0
        x = np.zeros_like(gflat)
        r = -gflat
        d = r.copy()
        rs = float(r.dot(r))
        stop = tol * gnorm
        iters = 0
        if gnorm > 0:
            for _ in range(max_cg):
                hd = hvp(d)
                iters += 1
                curv = float(d.dot(hd))
                if curv <= 0 or not math.isfinite(curv):
                    if iters == 1:
                        x = d.copy()  # negative curvature at once: steepest descent
                    break
                alpha = rs / curv
                x += alpha * d
                r -= alpha * hd
                rs_new = float(r.dot(r))
                if math.sqrt(rs_new) <= stop:
                    break
                d *= rs_new / rs
                d += r
                rs = rs_new
        state["cg_iters"] = iters
        state["n_iter"] += 1

        f0 = float(loss)
        t = lr
        with no_grad():
            self._move(params, x, t)
            if group["line_search"]:
                slope = float(gflat.dot(x))
                for _ in range(30):
                    f_new = float(closure())
                    state["func_evals"] += 1
                    if math.isfinite(f_new) and f_new <= f0 + 1e-4 * t * slope:
                        break
                    self._move(params, x, -t / 2)
                    t /= 2
        state["t"] = t
        return loss

    @staticmethod
    def _move(params: list[Tensor], x: np.ndarray, t: float) -> None:
        off = 0
        for p in params:
            size = p.data.size
            seg = x[off:off + size].reshape(p.data.shape)
            np.add(p.data, np.multiply(seg, t).astype(p.data.dtype, copy=False), out=p.data)
            off += size
