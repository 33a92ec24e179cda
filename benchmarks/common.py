"""Shared helpers of the benchmark suite: machine description, threads, data, timing,
memory probes and Markdown tables.

Everything here is plain Python/NumPy; torch and scikit-learn are imported only by the
functions that need them, so ``benchmarks.memory`` can measure a library without loading
the others.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The two network configurations of the issue.
CONFIGS: dict[str, dict[str, Any]] = {
    "A": {"sizes": [784, 100, 10], "batch_size": 100, "optimizer": "sgd", "lr": 0.1},
    "B": {"sizes": [784, 256, 256, 10], "batch_size": 128, "optimizer": "adam", "lr": 1e-3},
}

#: Samples in the synthetic sets (full size mirrors MNIST; quick mode is 10x smaller).
SYNTHETIC_SIZES = {"full": (60000, 10000), "quick": (6000, 1000)}


def describe_config(name: str) -> str:
    c = CONFIGS[name]
    opt = "SGD" if c["optimizer"] == "sgd" else "Adam"
    return (f"{'-'.join(map(str, c['sizes']))}, ReLU, batch {c['batch_size']}, "
            f"{opt} lr {c['lr']:g}")


# ---------------------------------------------------------------------------------------
# machine and threads
# ---------------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform.processor() elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/OpenMP thread pools loaded in this process (threadpoolctl), trimmed."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "architecture")
    out = []
    for info in threadpool_info():
        row = {k: v for k, v in info.items() if k in keep}
        path = str(info.get("filepath", "")).replace("\\", "/")
        row["package"] = next((p for p in ("numpy", "scipy", "torch", "scikit_learn", "sklearn")
                               if f"/{p}" in path), "other")
        out.append(row)
    return out


def numpy_blas_threads() -> int:
    """Threads NumPy's BLAS uses (threadpoolctl), else the CPU count."""
    infos = [i for i in blas_info() if i.get("user_api") == "blas"]
    for info in sorted(infos, key=lambda i: i["package"] != "numpy"):
        return int(info.get("num_threads") or 1)
    return os.cpu_count() or 1


def set_threads(n: int | None) -> int:
    """Make every library use ``n`` BLAS/intra-op threads (None: NumPy's current count).

    Every BLAS loaded so far (NumPy's, SciPy's) is limited with threadpoolctl (the limit
    lives for the whole process; import the libraries first); torch gets
    ``torch.set_num_threads(n)`` when it is already imported.
    """
    if n is None:
        n = numpy_blas_threads()
    else:
        try:
            from threadpoolctl import threadpool_limits

            global _LIMITS
            _LIMITS = threadpool_limits(limits=n, user_api="blas")
        except ImportError:
            pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return n


_LIMITS: Any = None


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, library versions, BLAS, date."""
    info: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    for mod in ("torch", "sklearn", "steepest"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a missing peer is reported, not fatal
            info[mod] = None
    if "torch" in sys.modules:
        info["torch_threads"] = sys.modules["torch"].get_num_threads()
    info["blas"] = blas_info()
    return info


def machine_line(info: dict[str, Any]) -> str:
    blas = ", ".join(f"{b['package']}: {b.get('internal_api')} {b.get('version')} "
                     f"({b.get('num_threads')} thread{'' if b.get('num_threads') == 1 else 's'})"
                     for b in info.get("blas", []) if b.get("user_api") == "blas")
    return (f"{info['cpu']}, {info['logical_cores']} logical cores; Python {info['python']}, "
            f"NumPy {info['numpy']}, torch {info.get('torch')}, scikit-learn "
            f"{info.get('sklearn')}; BLAS: {blas or 'unknown'}; {info['date']}"
            + (f" (load average {info['load_average'][0]:.1f} at the start)"
               if info.get("load_average") else ""))


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------


@dataclass
class Data:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "n_train": int(len(self.x_train)),
                "n_test": int(len(self.x_test)), "dtype": str(self.x_train.dtype)}


class MissingMNIST(RuntimeError):
    pass


def load_data(synthetic: bool, quick: bool) -> Data:
    """Real MNIST (from the local cache, no download) or the synthetic MNIST-shaped set.

    Quick mode always uses a small synthetic set, so it runs anywhere.
    """
    from steepest.data import datasets

    if quick or synthetic:
        n_train, n_test = SYNTHETIC_SIZES["quick" if quick else "full"]
        xtr, ytr = datasets.mnist_like(n_train, seed=1)
        xte, yte = datasets.mnist_like(n_test, seed=2)
        return Data(xtr, ytr, xte, yte, f"synthetic mnist_like ({n_train}+{n_test})")
    try:
        xtr, ytr = datasets.mnist("train", download=False)
        xte, yte = datasets.mnist("test", download=False)
    except datasets.DatasetNotFoundError as exc:
        raise MissingMNIST(
            f"{exc}\n\nMNIST is not in the local cache: fetch it once with "
            f"`python -c \"import steepest; steepest.data.datasets.mnist()\"`, or run the "
            f"benchmarks on synthetic data with --synthetic.") from None
    return Data(xtr, ytr, xte, yte, "MNIST (60000 train, 10000 test)")


def permutation(n: int, seed: int) -> np.ndarray:
    """The sample order steepest's DataLoader(shuffle=True, seed=seed) uses in its first
    epoch; every library gets this same order (scikit-learn excepted: it shuffles itself)."""
    from steepest.data import DataLoader

    return DataLoader((np.empty((n, 0), np.float32),), batch_size=1, shuffle=True,
                      seed=seed).permutation(0)


# ---------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-call seconds of several competitors timed round-robin."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def paired_ratio(self, num: str, den: str) -> float:
        """Median over rounds of t[num]/t[den] (each round's pair saw the same load)."""
        return statistics.median(a / b for a, b in zip(self.samples[num], self.samples[den]))


def interleaved(fns: dict[str, Callable[[int], Any]], rounds: int, warmup: int = 1,
                start: int = 0, log: Callable[[str], None] | None = None) -> Timings:
    """Time ``fn(k)`` for every competitor in round-robin order.

    Round ``k`` (warm-up rounds first, numbered from ``start``) calls each function once
    with ``k``; machine noise thus hits all competitors alike. Warm-up rounds are run the
    same way and discarded.
    """
    out = Timings({name: [] for name in fns})
    for r in range(warmup + rounds):
        k = start + r
        parts = []
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(k)
            dt = time.perf_counter() - t0
            if r >= warmup:
                out.samples[name].append(dt)
            parts.append(f"{name} {dt:.3f}s")
        if log is not None:
            log(f"    round {r + 1 - warmup if r >= warmup else 'warm-up'}: " + ", ".join(parts))
    return out


def summary(xs: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


# ---------------------------------------------------------------------------------------
# memory
# ---------------------------------------------------------------------------------------


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    """Current resident set size (Linux), MiB."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident set size since start (or since :func:`reset_peak_rss`), MiB."""
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib / 1024
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024 * 1024) if sys.platform == "darwin" else r / 1024


# ---------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
             align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` is one letter per column (l/r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(map(str, headers)) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(x: Any, spec: str = ".3f", none: str = "—") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return none
    return format(x, spec)
