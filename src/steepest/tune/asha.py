"""Early termination of hopeless trials: ASHA-style stopping at rungs, made deterministic.

At each *rung* (an epoch such as 1, 2, 4) a trial reports its validation score; it is stopped
when that score falls in the bottom ``fraction`` of the scores recorded at that rung
(Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning", in its stopping
form). Plain ASHA compares with whichever trials happen to have reached the rung first, so
its decisions change with the number of workers and their timing. Here trial ``i`` is
compared with the trials ``j < i`` of its round (and itself) only, and waits until each of
them has passed the rung or finished: the decisions are exactly those of a sequential run,
whatever the executor. The wait is short: trials are started in index order, so a lower
index started earlier. A trial compared with fewer than ``min_trials`` scores continues.

The table lives where every worker can reach it: a plain object in-process, a
``multiprocessing`` manager for the local pool, a Ray actor on a cluster. A predecessor that
has not even started after ``start_grace`` seconds of waiting (Ray may start tasks out of
order) is left out of the comparison, and the trial's record notes it.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Sequence
from typing import Any

from .space import SpaceError, suggest

__all__ = ["EarlyStop", "RungTable", "resolve_early_stop"]


class EarlyStop:
    """Settings of the rung-based early termination.

    Parameters
    ----------
    rungs : sequence of int, optional
        Epochs at which trials are compared. Default: 1, 2, 4, ... below ``epochs``.
    fraction : float
        Stop a trial whose score is in this bottom fraction at a rung (0.5 = halving).
    min_trials : int
        Compare only when at least this many scores (the trial's own included) exist.
    """

    def __init__(self, rungs: Sequence[int] | None = None, fraction: float = 0.5,
                 min_trials: int = 4) -> None:
        if rungs is not None:
            if isinstance(rungs, (str, bytes)) or not isinstance(rungs, Sequence) or not rungs:
                raise SpaceError(f"early_stop rungs must be a non-empty list of epochs, got "
                                 f"{rungs!r}")
            for r in rungs:
                if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 1:
                    raise SpaceError(f"early_stop rungs must be positive integers (epochs), "
                                     f"got {list(rungs)!r}")
            if list(rungs) != sorted(set(rungs)):
                raise SpaceError(f"early_stop rungs must be strictly increasing, got "
                                 f"{list(rungs)!r}")
            rungs = [int(r) for r in rungs]
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not (
                0 < fraction < 1):
            raise SpaceError(f"early_stop fraction must be a number in (0, 1), got "
                             f"{fraction!r}")
        if isinstance(min_trials, bool) or not isinstance(min_trials, numbers.Integral) or (
                min_trials < 2):
            raise SpaceError(f"early_stop min_trials must be an integer >= 2, got "
                             f"{min_trials!r}")
        self.rungs = rungs
        self.fraction = float(fraction)
        self.min_trials = int(min_trials)

    def resolved(self, epochs: Any) -> EarlyStop:
        """A copy with explicit rungs (1, 2, 4, ... < ``epochs`` when none were given)."""
        if self.rungs is not None:
            return self
        if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
            raise SpaceError("early_stop: give rungs = [...] (epochs at which to compare "
                             "trials); they cannot be derived unless epochs is fixed")
        rungs = []
        r = 1
        while r < epochs:
            rungs.append(r)
            r *= 2
        if not rungs:
            raise SpaceError(f"early_stop: with epochs = {epochs} there is no epoch at which "
                             f"to compare trials before they end")
        return EarlyStop(rungs, self.fraction, self.min_trials)

    def to_spec(self) -> dict[str, Any]:
        return {"rungs": self.rungs, "fraction": self.fraction, "min_trials": self.min_trials}

    def __repr__(self) -> str:
        return (f"EarlyStop(rungs={self.rungs}, fraction={self.fraction}, "
                f"min_trials={self.min_trials})")


def resolve_early_stop(spec: Any) -> EarlyStop | None:
    """``None``/``False`` (off), ``True`` (defaults), a dict of options or an EarlyStop."""
    if spec is None or spec is False:
        return None
    if spec is True:
        return EarlyStop()
    if isinstance(spec, EarlyStop):
        return spec
    if isinstance(spec, dict):
        valid = ("rungs", "fraction", "min_trials")
        for k in spec:
            if k not in valid:
                raise SpaceError(f"early_stop: unknown option {k!r}{suggest(k, valid)} "
                                 f"(options: {', '.join(valid)})")
        return EarlyStop(**spec)
    raise SpaceError(f"early_stop must be a dict of options, True or an EarlyStop, got "
                     f"{spec!r}")


def _worse_key(score: float, mode: str) -> float:
    """Smaller is better; NaN is the worst."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return math.inf
    return -score if mode == "max" else score


class RungTable:
    """Scores at the rungs, shared by the trials of a search (see the module notes)."""

    def __init__(self, rungs: Sequence[int], fraction: float, min_trials: int, mode: str,
                 start_grace: float = 10.0) -> None:
        self.rungs = [int(r) for r in rungs]
        self.fraction = float(fraction)
        self.min_trials = int(min_trials)
        self.mode = mode
        self.start_grace = float(start_grace)
        self._scores: dict[tuple[int, int], dict[int, float]] = {}
        self._started: set[tuple[int, int]] = set()
        self._finished: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def get_rungs(self) -> list[int]:
        return list(self.rungs)

    def start(self, rnd: int, index: int) -> None:
        with self._lock:
            self._started.add((rnd, index))

    def record(self, rnd: int, index: int, epoch: int, score: float) -> None:
        if epoch not in self.rungs:
            return
        with self._lock:
            self._scores.setdefault((rnd, epoch), {})[index] = float(score)

    def finish(self, rnd: int, index: int) -> None:
        with self._lock:
            self._started.add((rnd, index))
            self._finished.add((rnd, index))

    def preload(self, rnd: int, index: int, scores: Sequence[tuple[int, float]]) -> None:
        """A trial finished in an earlier session: its rung scores, and it is done."""
        for epoch, score in scores:
            self.record(rnd, index, int(epoch), score)
        self.finish(rnd, index)

    def decide(self, rnd: int, index: int, rung: int, waited: float = 0.0
               ) -> dict[str, Any] | None:
        """Stop or continue trial ``index`` at ``rung``; ``None`` while predecessors that
        matter have not reached the rung yet (ask again)."""
        with self._lock:
            at_rung = self._scores.get((rnd, rung), {})
            if index not in at_rung:
                raise RuntimeError(f"trial {index} asks about rung {rung} before recording it")
            ignored = []
            for j in range(index):
                if j in at_rung or (rnd, j) in self._finished:
                    continue
                if (rnd, j) in self._started or waited < self.start_grace:
                    return None
                ignored.append(j)
            peers = {j: s for j, s in at_rung.items() if j <= index and j not in ignored}
        n = len(peers)
        own = _worse_key(peers[index], self.mode)
        rank = sum(1 for j, s in peers.items() if j != index and _worse_key(s, self.mode) < own)
        keep = max(1, math.ceil((1.0 - self.fraction) * n - 1e-9))
        stop = n >= self.min_trials and rank >= keep
        return {"stop": stop, "rank": rank + 1, "n": n, "keep": keep, "ignored": ignored}
