"""BLAS threads: every library's epoch time with 1 and with 2 threads, side by side.

The default thread count must be the faster one on a quiet machine; this section measures
that for each library (steepest fit, steepest's captured step, PyTorch eager, the hand-fused
NumPy reference) instead of assuming it. Rounds are interleaved: each round runs one epoch
of every (library, threads) pair, so machine noise falls on all of them alike. NumPy's BLAS
(and SciPy's) are limited with threadpoolctl, torch with ``torch.set_num_threads``; the
numba kernels of steepest's optimisers run on ``steepest.optim._fused.KERNEL_THREADS``
threads whatever the BLAS count (recorded).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from .common import CONFIGS, Data, describe_config
from .training import LABELS, initial_weights, make

LIBRARIES = ("steepest", "steepest_compiled", "torch", "numpy")
THREADS = (1, 2)


def _set(n: int) -> Any:
    import sys

    from threadpoolctl import threadpool_limits

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return threadpool_limits(limits=n, user_api="blas")


def numba_threads() -> dict[str, Any]:
    """numba's thread pool and the count the fused optimiser kernels use."""
    try:
        import numba

        from steepest.optim import _fused
    except ImportError:
        return {"available": False}
    return {"available": bool(_fused.AVAILABLE), "pool": numba.config.NUMBA_NUM_THREADS,
            "kernel_threads": _fused.KERNEL_THREADS}


def run(data: Data, rounds: int, configs: Sequence[str] = tuple(CONFIGS),
        libraries: Sequence[str] = LIBRARIES, threads: Sequence[int] = THREADS,
        seed: int = 0, restore: int | None = None,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Median epoch seconds per (library, threads) and the ratio t(1 thread) / t(2)."""
    out: dict[str, Any] = {"threads": list(threads), "numba": numba_threads(), "configs": {}}
    try:
        for cname in configs:
            cfg = CONFIGS[cname]
            w = initial_weights(cfg["sizes"], seed)
            comps = {(lib, t): make(lib, cfg, data, seed, w) for lib in libraries
                     for t in threads}
            samples: dict[tuple[str, int], list[float]] = {k: [] for k in comps}
            log(f"  config {cname}: {describe_config(cname)}")
            for r in range(rounds + 1):  # round 0 is a warm-up
                for (lib, t), comp in comps.items():
                    limiter = _set(t)
                    try:
                        t0 = time.perf_counter()
                        comp.train_epoch(r)
                        dt = time.perf_counter() - t0
                    finally:
                        limiter.restore_original_limits()
                    if r:
                        samples[(lib, t)].append(dt)
            libs: dict[str, Any] = {}
            for lib in libraries:
                med = {t: statistics.median(samples[(lib, t)]) for t in threads}
                paired = [a / b for a, b in zip(samples[(lib, threads[0])],
                                                samples[(lib, threads[-1])])]
                libs[lib] = {"label": LABELS[lib], "median_s": {str(t): med[t] for t in threads},
                             "ratio_1_over_2": statistics.median(paired),
                             "faster": str(min(threads, key=lambda t: med[t]))}
                log(f"    {lib}: " + ", ".join(f"{t} thread(s) {med[t]:.3f}s" for t in threads)
                    + f" (t1/t2 {libs[lib]['ratio_1_over_2']:.2f})")
            out["configs"][cname] = {"description": describe_config(cname), "rounds": rounds,
                                     "libraries": libs}
    finally:
        if restore is not None:
            from . import common

            common.set_threads(restore)
    return out
