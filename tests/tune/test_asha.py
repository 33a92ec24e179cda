"""The rung table: ordered, deterministic early-termination decisions."""

import threading
import time

import pytest

from steepest.tune.asha import EarlyStop, RungTable, resolve_early_stop
from steepest.tune.space import SpaceError


def table(**kw):
    opts = {"rungs": [1, 3], "fraction": 0.5, "min_trials": 3, "mode": "max"}
    opts.update(kw)
    return RungTable(**opts)


def test_sequential_decisions_keep_the_top_fraction():
    t = table()
    scores = [0.5, 0.7, 0.4, 0.9, 0.1, 0.6]
    stops = []
    for i, s in enumerate(scores):
        t.start(0, i)
        t.record(0, i, 1, s)
        d = t.decide(0, i, 1)
        stops.append(d["stop"])
        t.finish(0, i)
    # 0, 1: fewer than min_trials scores -> continue; 2: 0.4 is last of 3 (keep 2) -> stop;
    # 3: best -> continue; 4: last of 5 (keep 3) -> stop; 5: 0.6 ranks 3 of 6 (keep 3) -> go
    assert stops == [False, False, True, False, True, False]


def test_min_mode_and_nan_is_worst():
    t = table(mode="min", min_trials=2)
    for i, s in enumerate([0.3, float("nan"), 0.1]):
        t.start(0, i)
        t.record(0, i, 1, s)
        d = t.decide(0, i, 1)
        t.finish(0, i)
        assert d["stop"] == (i == 1)


def test_waits_for_running_predecessors_only():
    t = table(start_grace=0.2)
    t.start(0, 0)
    t.start(0, 1)
    t.record(0, 1, 1, 0.3)
    assert t.decide(0, 1, 1) is None  # trial 0 is running and has not reached rung 1
    t.record(0, 0, 1, 0.5)
    assert t.decide(0, 1, 1) is not None
    # a predecessor that finished before the rung does not hold anyone up
    t.start(0, 2)
    t.finish(0, 2)
    t.start(0, 3)
    t.record(0, 3, 1, 0.9)
    assert t.decide(0, 3, 1)["n"] == 3
    # one that has not even started is waited for start_grace seconds, then left out
    t.start(0, 5)
    t.record(0, 5, 1, 0.1)
    assert t.decide(0, 5, 1, waited=0.0) is None
    d = t.decide(0, 5, 1, waited=0.5)
    assert d["ignored"] == [4] and d["n"] == 4 and d["stop"]


def test_rounds_are_separate_and_preload_counts():
    t = table(min_trials=2)
    t.preload(0, 0, [(1, 0.9), (3, 0.95)])
    t.start(1, 0)
    t.record(1, 0, 1, 0.1)
    assert t.decide(1, 0, 1) == {"stop": False, "rank": 1, "n": 1, "keep": 1, "ignored": []}
    t.start(0, 1)
    t.record(0, 1, 1, 0.2)
    assert t.decide(0, 1, 1)["stop"]  # compared with the preloaded trial 0 of round 0


def test_threads_reach_the_sequential_decisions():
    """Trials reporting concurrently and out of order still get the sequential answers."""
    scores = [0.5, 0.7, 0.4, 0.9, 0.1, 0.6, 0.2, 0.8]
    seq = table()
    expected = []
    for i, s in enumerate(scores):
        seq.start(0, i)
        seq.record(0, i, 1, s)
        expected.append(seq.decide(0, i, 1)["stop"])
        seq.finish(0, i)
    t = table()
    got = {}

    def trial(i):
        t.start(0, i)
        time.sleep(0.01 * ((7 * i) % 5))  # finish the epoch in a scrambled order
        t.record(0, i, 1, scores[i])
        while (d := t.decide(0, i, 1)) is None:
            time.sleep(0.001)
        got[i] = d["stop"]
        t.finish(0, i)

    threads = [threading.Thread(target=trial, args=(i,)) for i in range(len(scores))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(5)
    assert [got[i] for i in range(len(scores))] == expected


def test_settings_are_checked():
    assert EarlyStop().resolved(10).rungs == [1, 2, 4, 8]
    assert resolve_early_stop(True).fraction == 0.5
    assert resolve_early_stop(None) is None
    with pytest.raises(SpaceError, match="strictly increasing"):
        EarlyStop(rungs=[2, 1])
    with pytest.raises(SpaceError, match=r"fraction must be a number in \(0, 1\)"):
        EarlyStop(fraction=1.0)
    with pytest.raises(SpaceError, match="did you mean 'rungs'"):
        resolve_early_stop({"rung": [1]})
    with pytest.raises(SpaceError, match="give rungs"):
        EarlyStop().resolved(None)
    with pytest.raises(SpaceError, match="no epoch"):
        EarlyStop().resolved(1)
