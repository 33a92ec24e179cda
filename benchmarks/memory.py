"""Peak memory of a 1-epoch training run, one library per fresh process.

``python -m benchmarks.memory LIB CONFIG [--synthetic | --quick] [--method rss|tracemalloc]``
prints one JSON object. The process imports NumPy, steepest and only the library measured
(torch for ``torch``, scikit-learn for ``sklearn``), loads the training data, and records
its baseline; then it builds the model and optimiser and trains one epoch.

Methods:

``rss``          the kernel's peak resident set size (VmHWM, reset to the current RSS after
                 the baseline by writing 5 to /proc/self/clear_refs; where that is not
                 possible, ``getrusage(RUSAGE_SELF).ru_maxrss``). Reported absolute
                 (everything the process holds: interpreter, libraries, the data) and
                 incremental (peak minus the RSS at the baseline).
``tracemalloc``  the peak of Python and NumPy heap allocations during the run (NumPy
                 reports its array buffers to tracemalloc); exact and allocator-independent,
                 but blind to memory allocated by torch, so only for the NumPy libraries.

:func:`run` launches the subprocesses and collects their results.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LIBRARIES = ("steepest", "steepest_arrays", "torch", "numpy", "sklearn")
NUMPY_LIBS = ("steepest", "steepest_arrays", "numpy", "sklearn")


def measure(lib: str, config: str, synthetic: bool, quick: bool, method: str,
            threads: int | None, seed: int = 0) -> dict[str, Any]:
    """Run one epoch of ``lib`` on ``config`` in this process and report its memory."""
    import numpy as np  # noqa: F401 - part of every library's baseline

    import steepest  # noqa: F401 - needed by all (initial weights, data)

    if lib == "torch":
        import torch  # noqa: F401
    elif lib == "sklearn":
        import sklearn.neural_network  # noqa: F401

    from . import common, training

    threads = common.set_threads(threads)
    data = common.load_data(synthetic, quick)
    data.x_test = data.x_test[:0]  # only the training set is needed
    data.y_test = data.y_test[:0]
    cfg = common.CONFIGS[config]
    weights = training.initial_weights(cfg["sizes"], seed)
    gc.collect()
    base_rss = common.rss_mib()
    out: dict[str, Any] = {"library": lib, "config": config, "method": method,
                           "threads": threads, "data": data.source}
    if method == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        comp = training.make(lib, cfg, data, seed, weights)
        t0 = time.perf_counter()
        comp.train_epoch(0)
        out["seconds"] = time.perf_counter() - t0
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(traced_peak_mib=peak / 2**20, traced_end_mib=cur / 2**20)
        return out
    reset = common.reset_peak_rss()
    if not reset:  # ru_maxrss cannot be reset: the baseline peak bounds what we can see
        base_peak = common.peak_rss_mib()
    comp = training.make(lib, cfg, data, seed, weights)
    t0 = time.perf_counter()
    comp.train_epoch(0)
    out["seconds"] = time.perf_counter() - t0
    peak = common.peak_rss_mib()
    out.update(
        peak_rss_mib=peak,
        baseline_rss_mib=base_rss,
        incremental_mib=None if base_rss is None else peak - base_rss,
        peak_source="VmHWM (reset after baseline)" if reset else "ru_maxrss",
    )
    if not reset:
        out["baseline_peak_mib"] = base_peak
    return out


def _package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def run(synthetic: bool, quick: bool, threads: int | None,
        libraries: Sequence[str] = LIBRARIES, configs: Sequence[str] = ("A", "B"),
        tracemalloc: bool | None = None, log: Callable[[str], None] = print,
        timeout: float = 600.0) -> dict[str, Any]:
    """Measure every (library, config) in its own subprocess; ``tracemalloc`` adds the
    tracemalloc runs for the NumPy libraries (default: in full mode only)."""
    from .common import fmt

    if tracemalloc is None:
        tracemalloc = not quick
    results: dict[str, Any] = {}
    for config in configs:
        row: dict[str, Any] = {}
        for lib in libraries:
            methods = ["rss"] + (["tracemalloc"] if tracemalloc and lib in NUMPY_LIBS else [])
            entry: dict[str, Any] = {}
            for method in methods:
                cmd = [sys.executable, "-m", "benchmarks.memory", lib, config,
                       "--method", method]
                if quick:
                    cmd.append("--quick")
                if synthetic:
                    cmd.append("--synthetic")
                if threads is not None:
                    cmd += ["--threads", str(threads)]
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                   cwd=_package_root(), env=dict(os.environ))
                if p.returncode != 0:
                    entry[method] = {"error": (p.stderr or p.stdout).strip()[-2000:]}
                    log(f"    {config} {lib} {method}: FAILED\n{entry[method]['error']}")
                    continue
                entry[method] = json.loads(p.stdout.strip().splitlines()[-1])
            rss = entry.get("rss", {})
            tm = entry.get("tracemalloc", {})
            row[lib] = {
                "peak_rss_mib": rss.get("peak_rss_mib"),
                "baseline_rss_mib": rss.get("baseline_rss_mib"),
                "incremental_mib": rss.get("incremental_mib"),
                "traced_peak_mib": tm.get("traced_peak_mib"),
                "runs": entry,
            }
            log(f"    {config} {lib}: peak RSS {fmt(row[lib]['peak_rss_mib'], '.1f')} MiB, "
                f"+{fmt(row[lib]['incremental_mib'], '.1f')} MiB over the baseline, "
                f"tracemalloc peak {fmt(row[lib]['traced_peak_mib'], '.1f')} MiB")
        ratios: dict[str, Any] = {}
        if "numpy" in row:
            ref = row["numpy"]
            for lib, r in row.items():
                for key in ("peak_rss_mib", "incremental_mib", "traced_peak_mib"):
                    if r.get(key) is not None and ref.get(key):
                        ratios[f"{lib}_{key}_vs_numpy"] = r[key] / ref[key]
        results[config] = {"libraries": row, "ratios_to_numpy": ratios}
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("library", choices=LIBRARIES)
    p.add_argument("config", choices=("A", "B"))
    p.add_argument("--method", choices=("rss", "tracemalloc"), default="rss")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.method == "tracemalloc" and args.library not in NUMPY_LIBS:
        p.error("tracemalloc cannot see torch's allocations; use --method rss")
    r = measure(args.library, args.config, args.synthetic, args.quick, args.method,
                args.threads)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
