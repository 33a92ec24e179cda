"""Stochastic gradient descent: PyTorch's ``SGD`` and the textbook ``Momentum``/``Nesterov``.

PyTorch's momentum keeps a buffer of gradients, the textbook keeps a velocity:

* ``SGD``:      b ← μ·b + (1 − τ)·g  (b₁ = g₁);  θ ← θ − η·b      (Nesterov: θ ← θ − η·(g + μ·b))
* ``Momentum``: v ← α·v − η·g;                   θ ← θ + v
* ``Nesterov``: θ ← θ + α²·v − (1 + α)·η·g;      v ← α·v − η·g   (Bengio et al. 2012, eq. 7)

With dampening τ = 0 and a *constant* learning rate, v = −η·b at every step, so the
trajectories are the same (``Momentum`` = ``SGD(momentum=α)``, ``Nesterov`` =
``SGD(momentum=α, nesterov=True)``). When η changes (a schedule), the velocity keeps the
old learning rates inside it and changes gradually, while PyTorch's buffer is rescaled by the
new η at once. See docs/optim.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _fused
from .optimizer import Optimizer, _check_lr, _check_nonneg, _effective_grad

__all__ = ["SGD", "Momentum", "Nesterov"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, exactly as ``torch.optim.SGD``.

    Parameters
    ----------
    params : iterable of Tensor or dict
        Parameters or parameter groups.
    lr : float
        Learning rate η.
    momentum : float
        Momentum factor μ (0 disables the buffer).
    dampening : float
        τ: the new gradient enters the buffer with weight (1 − τ) (not on the first step).
    weight_decay : float
        L2 penalty: λ·θ is added to the gradient (the same as adding λ/2·‖θ‖² to the loss).
    nesterov : bool
        Nesterov momentum (needs momentum > 0 and dampening = 0).
    maximize : bool
        Ascend the objective instead of descending.
    nonfinite : {"raise", "skip", "ignore"}
        What to do with a non-finite gradient (see :class:`Optimizer`).
    """

    _array_state = ("momentum_buffer",)
    _elementwise = True

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, nonfinite: str = "raise") -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults, nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_nonneg("momentum", group["momentum"], prefix)
        _check_nonneg("dampening", group["dampening"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{prefix}Nesterov momentum requires momentum > 0 and "
                             f"dampening = 0, got momentum={group['momentum']!r}, "
                             f"dampening={group['dampening']!r}")

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        wd = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        for p, g, state in zip(params, grads, states):
            if _fused.sgd_step(p, g, state.get("momentum_buffer"), lr=lr, wd=wd,
                               maximize=maximize, momentum=momentum, dampening=dampening,
                               nesterov=nesterov):
                continue  # one compiled pass (numba) did the update below
            d = _effective_grad(self, p, g, wd, maximize)
            own = d is not g  # d is a scratch array we may overwrite
            if momentum != 0:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = d.copy()
                else:
                    np.multiply(buf, momentum, out=buf)
                    if dampening == 0:
                        np.add(buf, d, out=buf)
                    else:
                        t = self._work(1, p)
                        np.multiply(d, 1.0 - dampening, out=t)
                        np.add(buf, t, out=buf)
                if nesterov:
                    t = self._work(1, p)
                    np.multiply(buf, momentum, out=t)
                    np.add(d, t, out=t)
                    d, own = t, True
                else:
                    d, own = buf, False
            t = d if own else self._work(1, p)
            np.multiply(d, lr, out=t)
            np.subtract(p, t, out=p)


class Momentum(Optimizer):
    """Momentum SGD in the textbook form: v ← α·v − η·∇L;  θ ← θ + v.

    Equals ``SGD(lr, momentum=α)`` (dampening 0) for a constant learning rate; see the
    module notes for what differs under a schedule. ``weight_decay`` adds λ·θ to the
    gradient (L2 penalty), as in SGD.
    """

    _array_state = ("velocity",)
    _elementwise = True

    def __init__(self, params: Any, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, *, nonfinite: str = "raise") -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay),
                         nonfinite=nonfinite)

    def _validate(self, group: dict[str, Any], prefix: str) -> None:
        _check_lr(group["lr"], prefix)
        _check_nonneg("momentum", group["momentum"], prefix)
        _check_nonneg("weight_decay", group["weight_decay"], prefix)

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        alpha = float(group["momentum"])
        wd = float(group["weight_decay"])
        for p, g, state in zip(params, grads, states):
            d = _effective_grad(self, p, g, wd, False)
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = np.zeros_like(p)
            t = self._work(1, p)
            np.multiply(d, lr, out=t)
            np.multiply(v, alpha, out=v)
            np.subtract(v, t, out=v)
            np.add(p, v, out=p)


class Nesterov(Momentum):
    """Nesterov momentum in the textbook (look-ahead) form of Bengio et al. (2012):

    θ ← θ + α²·v − (1 + α)·η·∇L;  then  v ← α·v − η·∇L.

    This is the practical rewrite of v ← α·v − η·∇L(θ + α·v), θ ← θ + v, in the shifted
    variable θ + α·v, so the gradient is taken at the current parameters. Note the order:
    the parameter update uses the *old* velocity (a common transcription that updates v
    first is a different, non-equivalent method). Equals ``SGD(lr, momentum=α,
    nesterov=True)`` for a constant learning rate.
    """

    def _update(self, group, params, grads, states) -> None:
        lr = float(group["lr"])
        alpha = float(group["momentum"])
        wd = float(group["weight_decay"])
        for p, g, state in zip(params, grads, states):
            d = _effective_grad(self, p, g, wd, False)
            v = state.get("velocity")
            if v is None:
                v = state["velocity"] = np.zeros_like(p)
            t = self._work(1, p)
            # θ += α²·v − (1 + α)·η·g
            np.multiply(v, alpha * alpha, out=t)
            np.add(p, t, out=p)
            np.multiply(d, (1.0 + alpha) * lr, out=t)
            np.subtract(p, t, out=p)
            # v = α·v − η·g
            np.multiply(d, lr, out=t)
            np.multiply(v, alpha, out=v)
            np.subtract(v, t, out=v)
