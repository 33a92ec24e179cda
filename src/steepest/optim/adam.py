"""Adam, AdamW and NAdam, as ``torch.optim`` defines them (ε added *after* the square root
and the bias correction: θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)).

Weight decay comes in two kinds that are not the same thing:

* L2 penalty (``Adam(weight_decay=λ)``): λ·θ is added to the gradient, so it is also
  rescaled by the adaptive denominator; strongly-varying weights are decayed less.
* decoupled weight decay (``AdamW``, or ``decoupled_weight_decay=True``): θ ← θ·(1 − η·λ)
  before the Adam update, independent of the gradient statistics (Loshchilov & Hutter).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _fused
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_lr,
    _check_nonneg,
    _effective_grad,
    _ema_sq_,
    _lerp_,
)

__all__ = ["Adam", "AdamW", "NAdam"]


def _decayed_grad(opt: Optimizer, p: np.ndarray, g: np.ndarray, wd: float, decoupled: bool,
                  lr: float, maximize: bool) -> np.ndarray:
    """Decoupled decay shrinks p in place; otherwise λ·p joins the gradient (L2 penalty)."""
    if wd != 0 and decoupled:
        np.multiply(p, 1.0 - lr * wd, out=p)
        wd = 0.0
    return _effective_grad(opt, p, g, wd, maximize)


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly as ``torch.optim.Adam``.

    Parameters
    ----------
    lr : float
        Learning rate η.
    betas : (float, float)
        Decay rates of the first and second moment averages, each in [0, 1).
    eps : float
        Added to the bias-corrected √v (not inside the square root).
    weight_decay : float
        λ: an L2 penalty added to the gradient, or with ``decoupled_weight_decay=True``
        the AdamW decay θ ← θ·(1 − ηλ).
    amsgrad : bool
        Normalise by the running maximum of v (AMSGrad).
    maximize : bool
        Ascend the objective.
    """

    _array_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _elementwise = True

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False,
                 nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                        eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_betas(group["betas"], prefix)
        _check_nonneg("eps", group["eps"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        maximize = bool(group["maximize"])
        decoupled = bool(group["decoupled_weight_decay"])
        for p, g, state in zip(params, grads, states):
            if "step" not in state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p)
                state["exp_avg_sq"] = np.zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = np.zeros_like(p)
            state["step"] = step = state["step"] + 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            step_size = lr / (1.0 - b1 ** step)
            bc2_sqrt = math.sqrt(1.0 - b2 ** step)
            if not amsgrad and _fused.adam_step(
                    p, g, m, v, lr=lr, b1=b1, b2=b2, eps=eps, wd=wd, decoupled=decoupled,
                    maximize=maximize, step_size=step_size, bc2_sqrt=bc2_sqrt):
                continue  # one compiled pass (numba) did the update below
            d = _decayed_grad(self, p, g, wd, decoupled, lr, maximize)
            t = self._work(1, p)
            _lerp_(m, d, 1.0 - b1, t)
            _ema_sq_(v, d, b2, t)
            if amsgrad:
                vmax = state.get("max_exp_avg_sq")
                if vmax is None:  # amsgrad switched on after the first steps
                    vmax = state["max_exp_avg_sq"] = np.zeros_like(p)
                np.maximum(vmax, v, out=vmax)
                v = vmax
            # θ ← θ − step_size · m / (√v / √(1 − β₂ᵗ) + ε), computed with one pass less as
            # θ − (step_size·√(1 − β₂ᵗ)) · m / (√v + ε·√(1 − β₂ᵗ))
            np.sqrt(v, out=t)
            np.add(t, eps * bc2_sqrt, out=t)
            np.divide(m, t, out=t)
            np.multiply(t, step_size * bc2_sqrt, out=t)
            np.subtract(p, t, out=p)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as ``torch.optim.AdamW``:
    θ ← θ·(1 − η·λ) before each Adam update; default λ = 0.01."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, nonfinite: str = "raise") -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, nonfinite=nonfinite)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016), exactly as ``torch.optim.NAdam``.

    The momentum coefficient follows the schedule μₜ = β₁·(1 − ½·0.96^(t·momentum_decay)).
    ``decoupled_weight_decay=True`` gives NAdamW-style decay.
    """

    _array_state = ("exp_avg", "exp_avg_sq")
    _elementwise = True

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas,
                        eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_betas(group["betas"], prefix)
        _check_nonneg("eps", group["eps"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)
        _check_nonneg("momentum_decay", group["momentum_decay"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        md = float(group["momentum_decay"])
        maximize = bool(group["maximize"])
        decoupled = bool(group["decoupled_weight_decay"])
        for p, g, state in zip(params, grads, states):
            if "step" not in state:
                state["step"] = 0
                state["mu_product"] = 1.0
                state["exp_avg"] = np.zeros_like(p)
                state["exp_avg_sq"] = np.zeros_like(p)
            state["step"] = step = state["step"] + 1
            m, v = state["exp_avg"], state["exp_avg_sq"]
            bc2 = 1.0 - b2 ** step
            d = _decayed_grad(self, p, g, wd, decoupled, lr, maximize)
            mu = b1 * (1.0 - 0.5 * 0.96 ** (step * md))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * md))
            mu_product = float(state["mu_product"]) * mu
            state["mu_product"] = mu_product
            t = self._work(1, p)
            _lerp_(m, d, 1.0 - b1, t)
            _ema_sq_(v, d, b2, t)
            denom = self._work(2, p)
            np.divide(v, bc2, out=denom)
            np.sqrt(denom, out=denom)
            np.add(denom, eps, out=denom)
            # θ += −η(1 − μₜ)/(1 − Πμ) · d/denom  − η·μₜ₊₁/(1 − Πμ·μₜ₊₁) · m/denom
            np.divide(d, denom, out=t)
            np.multiply(t, lr * (1.0 - mu) / (1.0 - mu_product), out=t)
            np.subtract(p, t, out=p)
            np.divide(m, denom, out=t)
            np.multiply(t, lr * mu_next / (1.0 - mu_product * mu_next), out=t)
            np.subtract(p, t, out=p)
