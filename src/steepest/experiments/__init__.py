"""The classic experiments, each reproducible from the command line.

``steepest experiment NAME [--out DIR] [--quick] [--seed N]`` runs one; each writes PNG
figures (and a GIF for the optimiser race) and a ``results.json`` of the measured numbers
into its output directory. ``--quick`` runs a small version in seconds (the tests use it);
the full version uses real MNIST and takes up to a few minutes.

From Python::

    from steepest.experiments import run_experiment, list_experiments
    results = run_experiment("weight-init", "runs/experiments/weight-init", quick=True)

Every experiment module exposes ``DESCRIPTION``, ``run(out_dir, quick=False, seed=0) ->
dict`` and ``summary(results) -> list[str]`` (the key numbers as text lines).
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from . import (
    backprop_steps,
    batch_norm,
    conv_features,
    generalization,
    gradients,
    hyperparameters,
    linear_regression,
    loss_landscape,
    numerical_vs_backprop,
    optimizers_2d,
    optimizers_mnist,
    overfitting,
    quantization,
    restricted_architectures,
    universal_approximation,
    weight_init,
)

__all__ = ["EXPERIMENTS", "list_experiments", "run_experiment", "summarize"]

EXPERIMENTS: dict[str, ModuleType] = {
    "linear-regression": linear_regression,
    "optimizers-2d": optimizers_2d,
    "optimizers-mnist": optimizers_mnist,
    "weight-init": weight_init,
    "batch-norm": batch_norm,
    "overfitting": overfitting,
    "gradients": gradients,
    "numerical-vs-backprop": numerical_vs_backprop,
    "hyperparameters": hyperparameters,
    "loss-landscape": loss_landscape,
    "backprop-steps": backprop_steps,
    "universal-approximation": universal_approximation,
    "generalization": generalization,
    "quantization": quantization,
    "restricted-architectures": restricted_architectures,
    "conv-features": conv_features,
}


def list_experiments() -> list[tuple[str, str]]:
    """``(name, one-line description)`` of every experiment, in the issue's order."""
    return [(name, mod.DESCRIPTION) for name, mod in EXPERIMENTS.items()]


def _module(name: str) -> ModuleType:
    key = name.strip().lower().replace("_", "-")
    if key in EXPERIMENTS:
        return EXPERIMENTS[key]
    close = difflib.get_close_matches(key, list(EXPERIMENTS), n=1, cutoff=0.4)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown experiment {name!r}{hint} (available: "
                     f"{', '.join(EXPERIMENTS)}; `steepest experiment --list` describes them)")


@contextlib.contextmanager
def _blas_threads(n: int | None) -> Any:
    """Limit BLAS threads (threadpoolctl, when installed) for the duration of a run.

    The experiments multiply small matrices (100-unit layers), where one thread is about
    as fast as several on a quiet machine, and many times faster on a busy one (OpenBLAS
    threads spin while waiting for a core: we measured 0.4 ms vs 3.9 ms for a 128x784 @
    784x100 product with another process competing for the two cores).
    """
    if not n:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=int(n), user_api="blas"):
        yield


def run_experiment(name: str, out_dir: str | os.PathLike | None = None, quick: bool = False,
                   seed: int = 0, threads: int | None = 1) -> dict[str, Any]:
    """Run experiment ``name`` and return its results (also written to ``results.json``).

    ``out_dir`` defaults to ``runs/experiments/NAME``. ``threads`` limits BLAS threads
    during the run (``None`` or 0 leaves the library's setting). The run happens in a copy
    of the current context, so the seeding it does (``steepest.manual_seed``) does not
    change the caller's random generator.
    """
    mod = _module(name)
    canonical = next(k for k, v in EXPERIMENTS.items() if v is mod)
    out = Path(out_dir) if out_dir is not None else Path("runs") / "experiments" / canonical
    out.mkdir(parents=True, exist_ok=True)
    with _blas_threads(threads):
        return contextvars.copy_context().run(mod.run, out, quick=quick, seed=seed)


def summarize(name: str, results: dict[str, Any]) -> list[str]:
    """The key numbers of a finished run as text lines."""
    return list(_module(name).summary(results))
