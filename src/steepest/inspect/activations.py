"""Activation statistics per layer: the diagnostics behind weight initialisation.

With a bad initial scale the activations of a deep network either collapse toward 0
(weights too small: every layer shrinks the signal) or saturate (sigmoid/tanh pinned at
their asymptotes, where the derivative is ~0): in both cases gradients vanish. Good
initialisers (Xavier/Glorot for sigmoid/tanh, He for ReLU) keep the spread of the
activations roughly constant from layer to layer. These helpers run a batch through a
model with forward hooks and report each layer's distribution.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from . import _plot

__all__ = ["activation_histograms", "activation_stats", "record_activations"]

# Output ranges of bounded activations: (low, high) asymptotes.
_BOUNDED = {"Sigmoid": (0.0, 1.0), "Tanh": (-1.0, 1.0), "Softmax": (0.0, 1.0)}


def _activation_types() -> tuple[type, ...]:
    from ..nn import activation as A

    return tuple(getattr(A, n) for n in A.__all__ if n not in ("Softmax", "LogSoftmax"))


def _select(model: Any, layers: Any) -> list[tuple[str, Any]]:
    named = list(model.named_modules())
    if layers is None:
        acts = _activation_types()
        chosen = [(n, m) for n, m in named if isinstance(m, acts)]
        if not chosen:  # no activation modules: every leaf module
            chosen = [(n, m) for n, m in named if n and not m._modules]
        return chosen
    if isinstance(layers, type) or (isinstance(layers, tuple) and layers
                                    and all(isinstance(t, type) for t in layers)):
        return [(n, m) for n, m in named if isinstance(m, layers)]
    by_name = dict(named)
    out = []
    for key in layers:
        if isinstance(key, str):
            if key not in by_name:
                raise KeyError(f"activation_stats: no sub-module named {key!r}; names: "
                               f"{[n for n, _ in named if n]}")
            out.append((key, by_name[key]))
        else:
            out.append((next((n for n, m in named if m is key), type(key).__name__), key))
    return out


def record_activations(model: Any, X: Any, layers: Any = None,
                       train_mode: bool = False) -> list[tuple[str, Any, np.ndarray]]:
    """Run ``X`` through ``model`` and return ``(name, module, output array)`` per layer.

    ``layers``: None (every activation module, e.g. each ReLU; if the model has none,
    every leaf module), a module class or tuple of classes, or a list of sub-module names
    / modules. ``train_mode=False`` runs in eval mode (dropout off); ``True`` uses batch
    statistics in batch norm (note: that also updates its running statistics).
    """
    chosen = _select(model, layers)
    if not chosen:
        raise ValueError("activation_stats: the model has no layers to record")
    x = np.asarray(getattr(X, "data", X))
    records: dict[int, np.ndarray] = {}
    handles = []
    for i, (_, m) in enumerate(chosen):
        def hook(mod: Any, args: tuple, out: Any, i: int = i) -> None:
            records[i] = np.array(getattr(out, "data", out), copy=True)

        handles.append(m.register_forward_hook(hook))
    was_training = getattr(model, "training", None)
    try:
        model.train(train_mode)
        with no_grad():
            model(Tensor(x))
    finally:
        for h in handles:
            h.remove()
        if was_training is not None:
            model.train(was_training)
    missing = [chosen[i][0] for i in range(len(chosen)) if i not in records]
    if missing:
        raise RuntimeError(f"activation_stats: layers {missing} were not called by forward")
    return [(name, m, records[i]) for i, (name, m) in enumerate(chosen)]


def _stats(name: str, module: Any, a: np.ndarray, saturation: float) -> dict[str, Any]:
    a64 = a.astype(np.float64, copy=False)
    kind = type(module).__name__
    bounded = _BOUNDED.get(kind)
    finite = np.isfinite(a64)
    vals = a64[finite]
    d: dict[str, Any] = {
        "name": f"{name} ({kind})" if name else kind,
        "module": kind,
        "shape": list(a.shape),
        "mean": float(vals.mean()) if vals.size else math.nan,
        "std": float(vals.std()) if vals.size else math.nan,
        "min": float(vals.min()) if vals.size else math.nan,
        "max": float(vals.max()) if vals.size else math.nan,
        "frac_zero": float(np.mean(a64 == 0.0)),
        "frac_nonfinite": float(1.0 - finite.mean()),
    }
    if bounded is not None:
        lo, hi = bounded
        band = saturation * (hi - lo)
        d["frac_saturated"] = float(np.mean((a64 <= lo + band) | (a64 >= hi - band)))
    else:
        d["frac_saturated"] = None
    # Units that never fire on this batch (dead ReLUs).
    if a.ndim == 2 and kind in ("ReLU",):
        d["frac_dead_units"] = float(np.mean((a64 <= 0).all(axis=0)))
    return d


def activation_stats(model: Any, X: Any, layers: Any = None, train_mode: bool = False,
                     saturation: float = 0.05) -> list[dict[str, Any]]:
    """Per-layer statistics of the activations of ``model`` on the batch ``X``.

    Returns one dict per recorded layer (see :func:`record_activations` for ``layers``)
    with ``name``, ``module`` (class name), ``shape``, ``mean``, ``std``, ``min``,
    ``max``, ``frac_zero`` (exact zeros: inactive ReLUs), ``frac_saturated`` (for
    sigmoid/tanh: values within ``saturation`` × range of an asymptote, where the
    derivative is below about a fifth of its peak with the default 0.05 (sigmoid outside
    [0.05, 0.95], tanh outside [-0.9, 0.9]); ``None`` for unbounded activations), and for
    ReLU layers
    ``frac_dead_units`` (units that are 0 for every sample of the batch).
    """
    return [_stats(n, m, a, saturation)
            for n, m, a in record_activations(model, X, layers, train_mode)]


def activation_histograms(
    models: Any,
    X: Any,
    path: str | os.PathLike | None = None,
    labels: Sequence[str] | None = None,
    layers: Any = None,
    bins: int = 30,
    value_range: tuple[float, float] | None = None,
    title: str | None = None,
    train_mode: bool = False,
) -> Any:
    """Histograms of each layer's activations: one row per model, one column per layer.

    ``models`` is a model or a list of models (e.g. the same architecture under several
    initialisations, labelled by ``labels``). ``value_range`` fixes the x range (default:
    the range of each row's values, so collapsed activations are still visible). The y
    axis shows the fraction of values per bin. Saves to ``path``; returns the Figure.
    """
    ms = list(models) if isinstance(models, (list, tuple)) else [models]
    labs = list(labels) if labels is not None else [f"model {i}" for i in range(len(ms))]
    if len(labs) != len(ms):
        raise ValueError(f"activation_histograms: {len(ms)} models but {len(labs)} labels")
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    rows = [record_activations(m, X, layers, train_mode) for m in ms]
    n_cols = max(len(r) for r in rows)
    width, height = 2.3 * n_cols + 0.9, 1.75 * len(ms) + 0.9
    fig = _plot.figure(figsize=(width, height), layout=None)  # manual layout: fast
    fig.subplots_adjust(left=0.9 / width, right=1 - 0.15 / width, bottom=0.55 / height,
                        top=1 - (0.75 if title else 0.45) / height, wspace=0.12, hspace=0.3)
    axes = fig.subplots(len(ms), n_cols, squeeze=False)
    for r, (lab, rec) in enumerate(zip(labs, rows)):
        vals = [a[np.isfinite(a)].astype(np.float64).ravel() for _, _, a in rec]
        if value_range is not None:
            rng = value_range
        else:
            lo = min((float(v.min()) for v in vals if v.size), default=0.0)
            hi = max((float(v.max()) for v in vals if v.size), default=1.0)
            rng = (lo, hi if hi > lo else lo + 1e-12)
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(rec):
                ax.axis("off")
                continue
            v = vals[c]
            counts, edges = np.histogram(v, bins=bins, range=rng)
            ax.stairs(counts / max(v.size, 1), edges, fill=True, color="tab:blue")
            ax.set_xlim(rng)
            ax.set_ylim(0, 1)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=10)
            if r == len(ms) - 1:
                ax.set_xlabel("activation")
            if c == 0:
                ax.set_ylabel(f"{lab}\nfraction", fontsize=9)
            else:
                ax.set_yticklabels([])
            std = float(v.std()) if v.size else math.nan
            ax.text(0.97, 0.93, f"std {std:.2g}", transform=ax.transAxes, ha="right",
                    va="top", fontsize=8, color="0.25")
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
            ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title)
    _plot.save(fig, path)
    return fig
