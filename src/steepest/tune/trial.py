"""One trial: seed, run the objective, collect its epoch scores, and never let it crash
the search.

:func:`run_trial` is the function every executor runs (in-process, in a worker process or
as a Ray task). It returns a plain-data record: the config, the scores of each epoch, the
status (``completed``, ``stopped`` early or by a NaN loss, ``failed`` with the error) and
the time. Only Ctrl-C (``KeyboardInterrupt``) escapes it.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["Reporter", "TrialStopped", "MetricError", "run_trial", "trial_seed",
           "blas_threads"]

BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class TrialStopped(Exception):
    """Raised by :meth:`Reporter.report` to end a trial early (a bad rung score or NaN).

    An objective that catches it (``except Exception``) is still recorded as stopped.
    """


class MetricError(ValueError):
    """The objective does not report the metric the search ranks by (stops the search)."""


def trial_seed(seed: int, rnd: int, index: int) -> int:
    """The training seed of trial ``index`` of round ``rnd`` (independent of the executor)."""
    return int(np.random.SeedSequence([int(seed), int(rnd), int(index)]).generate_state(1)[0])


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[None]:
    """Limit BLAS (OpenBLAS/MKL) to ``threads`` threads inside the block (threadpoolctl).

    Without threadpoolctl the limit comes from the ``*_NUM_THREADS`` variables that the
    local executor sets before its workers start.
    """
    if threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dev dependency
        yield
        return
    with threadpool_limits(limits=int(threads), user_api="blas"):
        yield


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class Reporter:
    """What an objective uses to report progress: ``reporter.report(epoch, **metrics)``.

    Each call records one row (e.g. ``val_loss``, ``val_accuracy``). At a rung of the early
    termination it may raise :class:`TrialStopped`; a NaN/inf value of the search metric
    stops the trial too. ``reporter.seed`` is the trial's training seed (already given to
    ``steepest.manual_seed``); ``reporter.trial`` its number.
    """

    def __init__(self, trial: int, rnd: int, index: int, seed: int, metric: str, mode: str,
                 table: Any = None, rungs: list[int] | None = None) -> None:
        self.trial, self.round, self.index, self.seed = trial, rnd, index, seed
        self.metric, self.mode = metric, mode
        self.rows: list[dict[str, float | None]] = []
        self.stopped: str | None = None
        self.notes: list[str] = []
        self._table = table
        self._rungs = list(rungs or [])

    @property
    def should_stop(self) -> bool:
        return self.stopped is not None

    def report(self, epoch: int | None = None, **metrics: Any) -> None:
        """Record the scores of ``epoch`` (default: the next one); may raise TrialStopped."""
        if self.stopped is not None:
            raise TrialStopped(self.stopped)
        epoch = len(self.rows) + 1 if epoch is None else int(epoch)
        row: dict[str, float | None] = {"epoch": epoch}
        for k, v in metrics.items():
            if k == "epoch":
                continue
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
                row[k] = _finite(v)  # NaN/inf are stored as None (JSON has no NaN)
        if self.metric not in row:
            raise MetricError(f"the search ranks trials by {self.metric!r}, but the objective "
                              f"reports {sorted(k for k in row if k != 'epoch')}; set metric "
                              f"to one of them")
        self.rows.append(row)
        value = row[self.metric]
        if value is None:
            self.stopped = f"diverged: {self.metric} is {metrics[self.metric]} at epoch {epoch}"
            raise TrialStopped(self.stopped)
        if self._table is not None and epoch in self._rungs:
            self._at_rung(epoch, value)

    def _at_rung(self, epoch: int, value: float) -> None:
        self._table.record(self.round, self.index, epoch, value)
        t0 = time.monotonic()
        delay = 0.002
        while True:
            decision = self._table.decide(self.round, self.index, epoch,
                                          time.monotonic() - t0)
            if decision is not None:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        if decision["ignored"]:
            self.notes.append(f"rung {epoch}: compared without trials (index) "
                              f"{decision['ignored']} of this round, which had not started")
        if decision["stop"]:
            self.stopped = (f"early-stopped at epoch {epoch}: {self.metric} = {value:.4g} ranks "
                            f"{decision['rank']} of {decision['n']} (keeps the top "
                            f"{decision['keep']})")
            raise TrialStopped(self.stopped)

    def last(self, key: str | None = None) -> float | None:
        """The last reported value of ``key`` (default: the search metric)."""
        key = key or self.metric
        for row in reversed(self.rows):
            if row.get(key) is not None:
                return row[key]
        return None


def _error_text(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_trial(spec: Mapping[str, Any], objective: Callable[..., Any], table: Any = None,
              threads: int | None = 1) -> dict[str, Any]:
    """Run one trial and return its record (see the module notes).

    ``spec`` holds ``trial``, ``round``, ``index``, ``seed``, ``config``, ``metric`` and
    ``mode``; ``table`` is the rung table (or None: no early termination).
    """
    from ..random import manual_seed
    from ..train import TrainingDiverged

    t0 = time.perf_counter()
    rnd, index = int(spec["round"]), int(spec["index"])
    rungs = table.get_rungs() if table is not None else []
    rep = Reporter(int(spec["trial"]), rnd, index, int(spec["seed"]), spec["metric"],
                   spec["mode"], table, rungs)
    record: dict[str, Any] = {
        "type": "trial", "trial": int(spec["trial"]), "round": rnd, "index": index,
        "seed": int(spec["seed"]), "config": dict(spec["config"]), "status": "completed",
        "score": None, "score_std": None, "epochs": 0, "scores": rep.rows, "reason": None,
        "error": None, "traceback": None, "time": 0.0,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        with blas_threads(threads):
            if table is not None:
                table.start(rnd, index)
            manual_seed(int(spec["seed"]))
            out = objective(dict(spec["config"]), rep)
        score = out.get("score") if isinstance(out, Mapping) else out
        if isinstance(out, Mapping):
            record["score_std"] = _finite(out.get("score_std"))
            info = {k: v for k, v in out.items() if k not in ("score", "score_std")}
            if info:
                record["info"] = info
        if score is None:
            score = rep.last()
        if rep.stopped is not None:
            record["status"], record["reason"] = "stopped", rep.stopped
            record["score"] = rep.last()
        elif score is None or _finite(score) is None:
            record["status"] = "stopped"
            record["reason"] = f"diverged: the score is {score}"
        else:
            record["score"] = float(score)
    except TrialStopped as exc:
        record["status"], record["reason"] = "stopped", rep.stopped or str(exc)
        record["score"] = rep.last() if rep.stopped and "diverged" not in rep.stopped else None
    except TrainingDiverged as exc:
        record["status"] = "stopped"
        record["reason"] = f"diverged: {str(exc).splitlines()[0]}"
    except MetricError as exc:
        record["status"], record["error"] = "failed", _error_text(exc)
        record["abort"] = str(exc)
    except Exception as exc:  # a failing trial is recorded, the search goes on
        record["status"], record["error"] = "failed", _error_text(exc)
        record["traceback"] = "".join(traceback.format_exception(exc))[-4000:]
    finally:
        if table is not None:
            try:
                table.finish(rnd, index)
            except Exception:  # pragma: no cover - the driver marks it finished too
                pass
    if record["score_std"] is None and record["status"] == "completed" and rep.rows:
        record["score_std"] = rep.rows[-1].get(f"{spec['metric']}_std")
    record["epochs"] = max((int(r["epoch"]) for r in rep.rows), default=0)
    if rep.notes:
        record["note"] = "; ".join(rep.notes)
    record["time"] = time.perf_counter() - t0
    return record
