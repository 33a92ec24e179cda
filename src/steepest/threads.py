"""How many BLAS threads a training run uses: ``fit(threads=...)`` / ``steepest train
--threads N``.

OpenBLAS starts one thread per core and its threads spin while they wait for a core. On a
machine where other processes already use the cores, that makes small-matrix training many
times slower (measured: 150 steps of the default 784-256-256-10 MLP took 0.9 s with one
thread and 10 s with two while other jobs loaded the two cores; see docs/runs.md). So the
default, ``"auto"``, counts the cores the other processes leave free (cores minus the
1-minute load average, less this process's own share of it) and limits BLAS to that many
threads, at least one; on a quiet machine it changes nothing. Without the own share, a
process that trains epoch after epoch (one ``fit`` per epoch, a search, a benchmark) would
count its own BLAS threads as another job's and fall back to one thread on a quiet machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["auto_threads", "blas_threads"]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _OwnLoad:
    """This process's share of the 1-minute load average, estimated as the kernel computes
    the average (an exponential mean with a 60 s time constant) from its CPU use, all threads
    counted, between one call and the next (the first interval starts at import)."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.mean = time.monotonic(), time.process_time(), 0.0

    def __call__(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        dt = wall - self.wall
        if dt > 0:
            keep = math.exp(-dt / 60.0)
            self.mean = self.mean * keep + (cpu - self.cpu) / dt * (1.0 - keep)
            self.wall, self.cpu = wall, cpu
        return self.mean


#: The estimate's state: a measurement, not a setting (it changes no result).
_own_load = _OwnLoad()


def auto_threads() -> int | None:
    """The thread count ``"auto"`` picks: None (keep the library's) on a quiet machine,
    else the number of cores the load leaves free (at least 1)."""
    try:
        load = os.getloadavg()[0] - _own_load()
    except (AttributeError, OSError):  # pragma: no cover - not POSIX
        return None
    cores = _cores()
    free = int(cores - load + 0.5)
    return None if free >= cores else max(1, free)


def _current() -> int:
    """The BLAS thread count in force now (an outer limit, e.g. a search worker's, counts)."""
    from threadpoolctl import threadpool_info

    counts = [i.get("num_threads", 1) for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(counts, default=1)


def _check(threads: Any, where: str) -> int | None:
    if threads is None or threads == "auto":
        n = auto_threads() if threads == "auto" else None
        return None if n is None or n >= _current() else n  # never raise an outer limit
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ValueError(f"{where}: threads must be a positive integer, 0 (keep the library's "
                         f"setting) or 'auto', got {threads!r}")
    return threads or None


@contextlib.contextmanager
def blas_threads(threads: int | str | None = "auto", where: str = "blas_threads"
                 ) -> Iterator[int | None]:
    """Limit BLAS threads (through threadpoolctl) while the block runs; yields the limit
    used (None: unchanged). ``threads``: a count, 0 or None (unchanged) or ``"auto"``."""
    n = _check(threads, where)
    if n is None:
        yield None
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield n
