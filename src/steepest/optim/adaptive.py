"""Per-coordinate adaptive learning rates: Adagrad, RMSprop, Adadelta (``torch.optim``
semantics; ``weight_decay`` is an L2 penalty added to the gradient)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    Optimizer,
    _check_lr,
    _check_nonneg,
    _check_unit,
    _effective_grad,
    _ema_sq_,
    _lerp_,
)

__all__ = ["Adagrad", "RMSprop", "Adadelta"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), as ``torch.optim.Adagrad``.

    s ← s + g²;  θ ← θ − η/(1 + (t − 1)·lr_decay) · g / (√s + ε).

    Parameters
    ----------
    lr, lr_decay, weight_decay, eps : float
        As in PyTorch (eps is added outside the square root).
    initial_accumulator_value : float
        Starting value of s. Unlike PyTorch, a group's own value is honoured.
    maximize : bool
        Ascend the objective.
    """

    _array_state = ("sum",)
    _elementwise = True

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False, nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_nonneg("lr_decay", group["lr_decay"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)
        _check_nonneg("initial_accumulator_value", group["initial_accumulator_value"], prefix)
        _check_nonneg("eps", group["eps"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        wd = float(group["weight_decay"])
        eps = float(group["eps"])
        init = float(group["initial_accumulator_value"])
        maximize = bool(group["maximize"])
        for p, g, state in zip(params, grads, states):
            if "step" not in state:
                state["step"] = 0
                state["sum"] = np.full_like(p, init)
            state["step"] = step = state["step"] + 1
            s = state["sum"]
            d = _effective_grad(self, p, g, wd, maximize)
            clr = lr / (1.0 + (step - 1) * lr_decay)
            t = self._work(1, p)
            np.multiply(d, d, out=t)
            np.add(s, t, out=s)
            np.sqrt(s, out=t)
            np.add(t, eps, out=t)
            np.divide(d, t, out=t)
            np.multiply(t, clr, out=t)
            np.subtract(p, t, out=p)


class RMSprop(Optimizer):
    """RMSprop (Hinton), as ``torch.optim.RMSprop``.

    v ← α·v + (1 − α)·g²; with ``centered`` the variance v − ḡ² (ḡ an average of g) is
    used instead; with ``momentum`` μ > 0: b ← μ·b + g/(√v + ε), θ ← θ − η·b; else
    θ ← θ − η·g/(√v + ε).
    """

    _array_state = ("square_avg", "momentum_buffer", "grad_avg")
    _elementwise = True

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False, nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_unit("alpha", group["alpha"], prefix, closed=True)
        _check_nonneg("eps", group["eps"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)
        _check_nonneg("momentum", group["momentum"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        maximize = bool(group["maximize"])
        for p, g, state in zip(params, grads, states):
            if "step" not in state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p)
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = np.zeros_like(p)
            if centered and "grad_avg" not in state:
                state["grad_avg"] = np.zeros_like(p)
            state["step"] += 1
            sq = state["square_avg"]
            d = _effective_grad(self, p, g, wd, maximize)
            t = self._work(1, p)
            avg = self._work(2, p)
            _ema_sq_(sq, d, alpha, t)
            if centered:
                ga = state["grad_avg"]
                _lerp_(ga, d, 1.0 - alpha, t)
                np.multiply(ga, ga, out=avg)
                np.subtract(sq, avg, out=avg)
                np.sqrt(avg, out=avg)
            else:
                np.sqrt(sq, out=avg)
            np.add(avg, eps, out=avg)
            np.divide(d, avg, out=t)
            if momentum > 0:
                buf = state["momentum_buffer"]
                np.multiply(buf, momentum, out=buf)
                np.add(buf, t, out=buf)
                np.multiply(buf, lr, out=t)
            else:
                np.multiply(t, lr, out=t)
            np.subtract(p, t, out=p)


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012), as ``torch.optim.Adadelta``.

    v ← ρ·v + (1 − ρ)·g²;  Δ ← √(u + ε)/√(v + ε)·g;  u ← ρ·u + (1 − ρ)·Δ²;  θ ← θ − η·Δ.
    """

    _array_state = ("square_avg", "acc_delta")
    _elementwise = True

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_unit("rho", group["rho"], prefix, closed=True)
        _check_nonneg("eps", group["eps"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        rho = float(group["rho"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        maximize = bool(group["maximize"])
        for p, g, state in zip(params, grads, states):
            if "step" not in state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p)
                state["acc_delta"] = np.zeros_like(p)
            state["step"] += 1
            sq, acc = state["square_avg"], state["acc_delta"]
            d = _effective_grad(self, p, g, wd, maximize)
            t = self._work(1, p)
            delta = self._work(2, p)
            _ema_sq_(sq, d, rho, t)
            np.add(sq, eps, out=t)
            np.sqrt(t, out=t)                 # std
            np.add(acc, eps, out=delta)
            np.sqrt(delta, out=delta)
            np.divide(delta, t, out=delta)
            np.multiply(delta, d, out=delta)  # Δ
            _ema_sq_(acc, delta, rho, t)
            np.multiply(delta, lr, out=t)
            np.subtract(p, t, out=p)
