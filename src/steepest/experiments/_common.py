"""Shared helpers of the experiments: figures, results files, data, a plain training loop."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as _random
from ..inspect import _plot
from ..tensor import Tensor


def use_agg() -> None:
    """Select matplotlib's non-interactive Agg backend (experiments only write files)."""
    import matplotlib

    matplotlib.use("Agg")


def figure(figsize: tuple[float, float] = (6.4, 4.8), **kwargs: Any) -> Any:
    return _plot.figure(figsize, **kwargs)


def save(fig: Any, out_dir: Path, name: str, dpi: int = 100) -> str:
    """Save ``fig`` as ``out_dir/name`` and return the file name (for results.json)."""
    _plot.save(fig, Path(out_dir) / name, dpi=dpi)
    return name


def _plain(v: Any) -> Any:
    """JSON-friendly copy: NumPy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.ndarray):
        return _plain(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, Path):
        return str(v)
    return v


def write_results(out_dir: Path, results: dict[str, Any]) -> dict[str, Any]:
    """Write ``results.json`` (atomically) and return the JSON-plain results."""
    plain = _plain(results)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".results.json.tmp"
    tmp.write_text(json.dumps(plain, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, out_dir / "results.json")
    return plain


def claims_line(claims: dict[str, Any]) -> str:
    """The summary line of an experiment's checked claims: ``claims: name=True, ...``."""
    return "claims: " + ", ".join(f"{k}={v}" for k, v in claims.items())


class Stopwatch:
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


def mnist_data(quick: bool, n_train: int | None = None, n_test: int | None = None,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """MNIST arrays (float32 pixels in [0, 1], flattened; int64 labels) and a description.

    ``quick`` uses the 2000/500-image subset shipped with steepest; otherwise the full set
    (from the local cache, downloaded if missing). ``n_train``/``n_test`` draw seeded
    random subsets.
    """
    from ..data.datasets import mnist, mnist_small

    if quick:
        xtr, ytr = mnist_small("train")
        xte, yte = mnist_small("test")
        name = "mnist_small"
    else:
        xtr, ytr = mnist("train")
        xte, yte = mnist("test")
        name = "mnist"
    rng = np.random.default_rng(seed)
    if n_train is not None and n_train < len(xtr):
        idx = rng.permutation(len(xtr))[:n_train]
        xtr, ytr = xtr[idx], ytr[idx]
    if n_test is not None and n_test < len(xte):
        idx = rng.permutation(len(xte))[:n_test]
        xte, yte = xte[idx], yte[idx]
    return xtr, ytr, xte, yte, f"{name} ({len(xtr)} train / {len(xte)} test)"


def cross_entropy_np(logits: np.ndarray, labels: np.ndarray) -> float:
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(labels)), labels]))


def train_steps(
    model: Any,
    optimizer: Any,
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    batch_size: int,
    seed: int = 0,
    loss: Any = None,
    clip: float | None = None,
    before_step: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Train for ``steps`` mini-batch steps and return the loss of every step.

    Mini-batches come from a fresh permutation of the data each epoch (sampling without
    replacement, unlike book 1's trainer). If the loss becomes non-finite training stops
    and the remaining entries are NaN (a diverged run). ``before_step(i)`` runs after
    backward and before clipping/update (e.g. to record raw gradient norms).
    """
    from .. import functional as F

    loss_fn = loss or F.cross_entropy
    rng = np.random.default_rng(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    out = np.full(steps, np.nan)
    model.train()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _loop(model, optimizer, X, y, steps, batch_size, rng, loss_fn, clip, before_step,
              params, out)
    return out


def _loop(model: Any, optimizer: Any, X: np.ndarray, y: np.ndarray, steps: int,
          batch_size: int, rng: np.random.Generator, loss_fn: Any, clip: float | None,
          before_step: Any, params: list[Any], out: np.ndarray) -> None:
    from ..optim import clip_grad_norm_

    n = len(X)
    order = rng.permutation(n)
    pos = 0
    for i in range(steps):
        if pos + batch_size > n:
            order = rng.permutation(n)
            pos = 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        lval = loss_fn(model(Tensor(X[idx])), y[idx])
        v = float(lval.data)
        if not math.isfinite(v):
            break
        out[i] = v
        optimizer.zero_grad()
        lval.backward()
        if before_step is not None:
            before_step(i)
        if clip is not None:
            clip_grad_norm_(params, clip, error_if_nonfinite=False)
        grads_ok = all(p.grad is None or np.isfinite(p.grad.data).all() for p in params)
        if not grads_ok:
            out[i + 1:] = np.nan
            break
        optimizer.step()


def accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    from ..train import predict

    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.mean(predict(model, X).argmax(axis=1) == y))


def smooth(x: np.ndarray, k: int) -> np.ndarray:
    """Moving average over a window of ``k`` (shorter at the start), NaN-aware."""
    x = np.asarray(x, dtype=np.float64)
    if k <= 1:
        return x
    out = np.empty_like(x)
    for i in range(len(x)):
        w = x[max(0, i - k + 1):i + 1]
        w = w[np.isfinite(w)]
        out[i] = w.mean() if w.size else np.nan
    return out


def seed_all(seed: int) -> None:
    """Seed steepest's generator (initialisers, dropout, shuffling)."""
    _random.manual_seed(seed)
