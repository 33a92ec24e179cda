"""Gradient diagnostics: per-layer gradient norms and numerical gradients.

Vanishing gradients show up as norms that shrink layer by layer toward the input (deep
sigmoid networks: each layer multiplies the backward signal by σ'(z) ≤ 1/4); exploding
gradients as norms that grow without bound (too-large weights, too-large steps).
:class:`GradientNormRecorder` records the norms during training, either as a callback of
:func:`steepest.train.fit` or called by hand between ``backward()`` and ``step()``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..train.callbacks import Callback
from . import _plot

__all__ = ["GradientNormRecorder", "layer_grad_norms", "numerical_gradient"]


def _layer_key(param_name: str) -> str:
    return param_name.rsplit(".", 1)[0] if "." in param_name else param_name


def _norm(a: np.ndarray, norm_type: float) -> float:
    a = a.astype(np.float64, copy=False).ravel()
    if norm_type == 2.0:
        return math.sqrt(float(np.dot(a, a)))
    if norm_type == math.inf:
        return float(np.abs(a).max()) if a.size else 0.0
    return float(np.sum(np.abs(a) ** norm_type) ** (1.0 / norm_type))


def layer_grad_norms(model: Any, per: str = "layer", norm_type: float = 2.0
                     ) -> dict[str, float]:
    """The norm of the current gradients (``p.grad``) of ``model``, per layer or parameter.

    ``per='layer'`` combines the parameters of one module (weight and bias) into one norm,
    keyed by the module's dotted name ("0", "2", ...); ``per='parameter'`` keys by parameter
    name ("0.weight"). Parameters without a gradient are skipped.
    """
    if per not in ("layer", "parameter"):
        raise ValueError(f"layer_grad_norms: per must be 'layer' or 'parameter', got {per!r}")
    norm_type = float(norm_type)
    acc: dict[str, list[float]] = {}
    for name, p in model.named_parameters():
        if p.grad is None:
            continue
        key = _layer_key(name) if per == "layer" else name
        acc.setdefault(key, []).append(_norm(p.grad.data, norm_type))
    return {k: _norm(np.asarray(v), norm_type) for k, v in acc.items()}


class GradientNormRecorder(Callback):
    """Record per-layer (or per-parameter) gradient norms after each backward pass.

    As a ``fit`` callback it reads ``p.grad`` in ``on_batch_end`` (after ``fit``'s optional
    clipping: the norms are those actually applied). In a hand-written loop call
    :meth:`record` between ``backward()`` and the clipping/``step()`` to see raw norms.

    Attributes
    ----------
    norms : dict[str, list[float]]
        One list per layer, one entry per recorded step (NaN when a layer had no gradient).
    steps : list[int]
        The global step of each record.
    """

    def __init__(self, model: Any, per: str = "layer", norm_type: float = 2.0,
                 every: int = 1) -> None:
        if int(every) < 1:
            raise ValueError(f"GradientNormRecorder: every must be >= 1, got {every}")
        if per not in ("layer", "parameter"):
            raise ValueError(f"GradientNormRecorder: per must be 'layer' or 'parameter', got "
                             f"{per!r}")
        self.model, self.per, self.norm_type, self.every = model, per, float(norm_type), every
        self.norms: dict[str, list[float]] = {}
        self.steps: list[int] = []
        self._count = 0

    @property
    def names(self) -> list[str]:
        return list(self.norms)

    def record(self, model: Any = None) -> dict[str, float]:
        """Record the current gradients' norms now; returns them."""
        current = layer_grad_norms(model or self.model, self.per, self.norm_type)
        n_before = len(self.steps)
        for k in current:
            if k not in self.norms:
                self.norms[k] = [math.nan] * n_before
        for k, v in self.norms.items():
            v.append(current.get(k, math.nan))
        self.steps.append(self._count)
        self._count += 1
        return current

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        if self._count % self.every == 0:
            self.record(trainer.model)
        else:
            self._count += 1

    def array(self) -> np.ndarray:
        """The records as an array (steps, layers), columns in :attr:`names` order."""
        if not self.steps:
            return np.zeros((0, len(self.norms)))
        return np.array([self.norms[k] for k in self.norms], dtype=np.float64).T

    def mean(self) -> dict[str, float]:
        """The mean norm per layer over all records."""
        return {k: float(np.nanmean(v)) if v else math.nan for k, v in self.norms.items()}

    def plot(self, path: str | os.PathLike | None = None, title: str = "Gradient norms",
             labels: Sequence[str] | None = None, ax: Any = None) -> Any:
        """Norm per layer against the step (log scale); returns the Figure."""
        fig = None
        if ax is None:
            fig = _plot.figure(figsize=(6.4, 4.2))
            ax = fig.add_subplot()
        names = list(labels) if labels is not None else self.names
        arr = self.array()
        cmap = _colormap(len(names))
        for j, name in enumerate(names):
            ax.plot(self.steps, arr[:, j], label=name, color=cmap[j], lw=1.2)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(f"gradient L{self.norm_type:g} norm")
        ax.set_title(title)
        ax.legend(fontsize=8, ncol=2)
        ax.grid(alpha=0.3)
        if fig is not None:
            _plot.save(fig, path)
            return fig
        return ax.figure

    def state_dict(self) -> dict[str, Any]:
        return {"norms": {k: list(v) for k, v in self.norms.items()},
                "steps": list(self.steps), "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.norms = {k: list(v) for k, v in state["norms"].items()}
        self.steps = list(state["steps"])
        self._count = int(state["count"])


def _colormap(n: int) -> list[Any]:
    try:
        from matplotlib import colormaps

        cm = colormaps["viridis"]
        return [cm(i / max(n - 1, 1) * 0.9) for i in range(n)]
    except ImportError:  # pragma: no cover
        return [None] * n


def numerical_gradient(f: Callable[[], Any], params: Sequence[Any], eps: float = 1e-6,
                       elements: Sequence[Sequence[tuple[int, ...]]] | None = None
                       ) -> list[np.ndarray]:
    """Central-difference gradient of the scalar ``f()`` with respect to each tensor.

    ``f`` is called with no arguments and must read the tensors' current ``.data`` (which
    is perturbed in place, one element at a time, then restored). Cost: two calls of ``f``
    per element, which is why backprop, one forward and one backward for *all* elements,
    made training large networks practical. ``elements`` optionally lists, per tensor, the
    indices to evaluate (the others are left NaN), to estimate timings on large tensors.
    Use float64 tensors: in float32 the rounding error of f swamps the difference.
    """
    out = []
    with no_grad():
        for i, p in enumerate(params):
            arr = p.data if hasattr(p, "data") else p
            g = np.full(arr.shape, np.nan if elements is not None else 0.0, dtype=np.float64)
            idxs = elements[i] if elements is not None else np.ndindex(arr.shape)
            for idx in idxs:
                idx = tuple(idx)
                old = float(arr[idx])
                arr[idx] = old + eps
                fp = _scalar(f())
                arr[idx] = old - eps
                fm = _scalar(f())
                arr[idx] = old
                g[idx] = (fp - fm) / (2.0 * eps)
            out.append(g)
    return out


def _scalar(v: Any) -> float:
    return float(np.asarray(getattr(v, "data", v)).reshape(-1)[0])
