"""The search driver (``tune.search``): propose configurations, run them, log them, rank them.

>>> from steepest import tune
>>> result = tune.search(
...     "train_mlp",
...     space={"lr": tune.loguniform(1e-6, 1e-2), "weight_decay": tune.loguniform(1e-8, 1e-4)},
...     fixed={"dataset": "mnist-small", "hidden": [100, 100], "epochs": 5},
...     strategy=tune.coarse_to_fine(rounds=2, keep_top=4), trials=16, seed=0,
...     results="runs/lr/results.jsonl")
>>> result.best_config, result.best_score
>>> print(result.results)                      # one row per trial
>>> result.plot("runs/lr")                     # scores.png, curves.png
>>> result.retrain_best()                      # train+val, then the test set, once

The driver draws every configuration itself from ``(seed, round, index)``; the executor
only runs them. So the same seed gives the same trials with one worker, many, or Ray.
"""

from __future__ import annotations

import importlib
import numbers
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from .asha import EarlyStop, resolve_early_stop
from .executors import default_n_jobs, make_executor
from .results import ResultsFile, ResultsMismatch, Table, best_record, format_value, ranked
from .space import SearchSpace, SpaceError, _canon
from .strategy import Strategy, resolve_strategy
from .trial import trial_seed

__all__ = ["search", "SearchResult", "retrain_best", "resolve_objective", "infer_mode"]

_MAX_WORDS = ("acc", "top", "auc", "f1", "precision", "recall", "r2", "score", "iou")
_MIN_WORDS = ("loss", "error", "err", "mse", "mae", "rmse", "nll", "perplexity", "time")


def infer_mode(metric: str) -> str:
    """``"max"`` for accuracy-like names, ``"min"`` for loss-like ones."""
    low = metric.lower()
    if any(w in low for w in _MIN_WORDS):
        return "min"
    if any(w in low for w in _MAX_WORDS):
        return "max"
    raise SpaceError(f"cannot tell whether {metric!r} should be maximised or minimised; give "
                     f"mode='max' or mode='min'")


def resolve_objective(objective: Any) -> tuple[Callable[..., Any], str]:
    """The objective callable and its name, from a callable, ``"train_mlp"`` or
    ``"package.module:function"``."""
    if isinstance(objective, str):
        if objective == "train_mlp":
            from .objective import train_mlp

            return train_mlp, "train_mlp"
        if ":" not in objective:
            raise SpaceError(f"unknown objective {objective!r}: use 'train_mlp' or "
                             f"'package.module:function'")
        mod_name, _, attr = objective.partition(":")
        try:
            module = importlib.import_module(mod_name)
        except ImportError as exc:
            raise SpaceError(f"objective {objective!r}: cannot import {mod_name!r} ({exc})"
                             ) from None
        if not hasattr(module, attr):
            raise SpaceError(f"objective {objective!r}: {mod_name} has no {attr!r}")
        return getattr(module, attr), objective
    if not callable(objective):
        raise SpaceError(f"the objective must be callable as f(config, reporter), got "
                         f"{type(objective).__name__}")
    name = getattr(objective, "name", None)
    if not isinstance(name, str):
        name = f"{getattr(objective, '__module__', '?')}:" \
               f"{getattr(objective, '__qualname__', type(objective).__name__)}"
    return objective, name


class LivePrinter:
    """Prints one table row per finished trial (trial #, params, score, status, time)."""

    def __init__(self, searched: Sequence[str], metric: str, total: int, rounds: int,
                 stream: TextIO | None = None) -> None:
        self.searched = list(searched)
        self.metric = metric
        self.total = total
        self.rounds = rounds
        self.stream: TextIO | None = stream or sys.stdout
        self.count = 0
        self.widths = [max(len(n), 10) for n in self.searched]
        self.score_w = max(len(metric), 15)

    def _print(self, text: str) -> None:
        if self.stream is None:
            return
        try:
            print(text, file=self.stream, flush=True)
        except BrokenPipeError:  # e.g. `steepest tune ... | head`: stop printing, keep searching
            if self.stream is sys.stdout:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            self.stream = None

    def header(self, executor: str, n_slots: int, done: int) -> None:
        self._print(f"search: {self.total} trials on {executor} ({n_slots} at a time)"
                    + (f", {done} already done (resume)" if done else ""))
        cols = [f"{'done':>9}", "trial"] + (["round"] if self.rounds > 1 else [])
        cols += [n.rjust(w) for n, w in zip(self.searched, self.widths)]
        cols += [self.metric.rjust(self.score_w), "epochs", f"{'time':>7}", "status"]
        self._print("  ".join(cols))

    def round_start(self, rnd: int, space: SearchSpace) -> None:
        if self.rounds > 1:
            ranges = ", ".join(f"{k} {d.describe()}" for k, d in space.domains.items()
                               if k in self.searched)
            self._print(f"-- round {rnd + 1}/{self.rounds}: {ranges}")

    def row(self, rec: Mapping[str, Any]) -> None:
        self.count += 1
        cols = [f"{self.count:>4}/{self.total:<4}"[:9].rjust(9), f"{rec['trial']:>5}"]
        if self.rounds > 1:
            cols.append(f"{rec['round'] + 1:>5}")
        cols += [format_value(rec["config"].get(n), w).rjust(w)
                 for n, w in zip(self.searched, self.widths)]
        score = format_value(rec.get("score"))
        if rec.get("score_std") is not None and rec.get("score") is not None:
            score += f" ± {rec['score_std']:.2g}"
        cols += [score.rjust(self.score_w), f"{rec.get('epochs', 0):>6}",
                 f"{rec.get('time', 0.0):>6.1f}s"]
        status = rec["status"]
        if status == "stopped":
            reason = rec.get("reason") or ""
            status = ("diverged (NaN)" if reason.startswith("diverged")
                      else f"stopped@{rec.get('epochs')}")
        elif status == "failed":
            status = f"failed: {format_value(rec.get('error'), 60)}"
        cols.append(status)
        self._print("  ".join(cols))

    def footer(self, result: SearchResult) -> None:
        b = result.best
        if b is None:
            self._print("no trial finished with a score")
            return
        params = ", ".join(f"{k}={format_value(b['config'].get(k))}" for k in self.searched)
        std = f" ± {b['score_std']:.2g}" if b.get("score_std") is not None else ""
        self._print(f"best: trial {b['trial']} {self.metric}={format_value(b['score'])}{std} "
                    f"({params})")


class SearchResult:
    """The outcome of a search: every trial's record, the best one, a table and plots.

    Attributes
    ----------
    records : list of dict
        One per trial, in trial order: ``config``, ``scores`` (one dict per epoch),
        ``status`` (completed / stopped / failed), ``score``, ``reason``/``error``,
        ``time``, ``seed``, ``round``.
    settings : dict
        What the search was (space, strategy, metric, mode, ...), as in the results header.
    rounds : list of dict
        The space each round searched (coarse-to-fine: the narrowed ranges).
    """

    def __init__(self, records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any],
                 rounds: Sequence[Mapping[str, Any]] = (), path: str | None = None,
                 objective: Any = None, wall_time: float | None = None) -> None:
        self.records = sorted((dict(r) for r in records), key=lambda r: r["trial"])
        self.settings = dict(settings)
        self.rounds = [dict(r) for r in rounds]
        self.path = path
        self.objective = objective
        self.wall_time = wall_time

    @property
    def metric(self) -> str:
        return self.settings["metric"]

    @property
    def mode(self) -> str:
        return self.settings["mode"]

    @property
    def searched(self) -> list[str]:
        space = self.settings.get("space", {})
        return [k for k, v in space.items() if not (isinstance(v, Mapping) and "fixed" in v)]

    @property
    def best(self) -> dict[str, Any] | None:
        """The best completed trial (or the best stopped one if none completed)."""
        return best_record(self.records, self.mode)

    @property
    def best_config(self) -> dict[str, Any]:
        b = self.best
        if b is None:
            raise LookupError("no trial of this search finished with a score "
                              f"({self.status_counts()})")
        return dict(b["config"])

    @property
    def best_score(self) -> float | None:
        b = self.best
        return None if b is None else b["score"]

    def status_counts(self) -> dict[str, int]:
        counts = {"completed": 0, "stopped": 0, "failed": 0}
        for r in self.records:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return counts

    def top(self, k: int = 5) -> list[dict[str, Any]]:
        """The ``k`` best completed trials, best first."""
        return ranked(self.records, self.mode)[:k]

    @property
    def results(self) -> Table:
        """One row per trial: number, round, searched params, score (± std), epochs,
        status, time, and the reason/error. Sort with ``result.table(sort=True)``."""
        return self.table(sort=False)

    def table(self, sort: bool = True) -> Table:
        """The results table; ``sort=True`` puts the best scores first (then stopped, failed)."""
        recs = self.records
        if sort:
            pos = {r["trial"]: i for i, r in enumerate(ranked(recs, self.mode))}
            spos = {r["trial"]: i for i, r in enumerate(ranked(recs, self.mode, ("stopped",)))}
            recs = sorted(recs, key=lambda r: (
                0 if r["trial"] in pos else 1 if r["trial"] in spos else 2,
                pos.get(r["trial"], spos.get(r["trial"], 0)), r["trial"]))
        cols = ["trial"] + (["round"] if len(self.rounds) > 1 else []) + self.searched + [
            self.metric]
        has_std = any(r.get("score_std") is not None for r in recs)
        if has_std:
            cols.append(f"{self.metric}_std")
        cols += ["epochs", "status", "time", "note"]
        rows = []
        for r in recs:
            row: dict[str, Any] = {"trial": r["trial"]}
            if len(self.rounds) > 1:
                row["round"] = r["round"] + 1
            for k in self.searched:
                row[k] = r["config"].get(k)
            row[self.metric] = r.get("score")
            if has_std:
                row[f"{self.metric}_std"] = r.get("score_std")
            row.update({"epochs": r.get("epochs"), "status": r["status"],
                        "time": round(float(r.get("time") or 0.0), 2),
                        "note": r.get("error") or r.get("reason") or ""})
            rows.append(row)
        return Table(rows, cols)

    def plot(self, out_dir: str | None = None, top: int = 5) -> list[Any]:
        """Score vs each hyperparameter and the best trials' learning curves.

        With ``out_dir``: writes ``scores.png`` and ``curves.png`` there and returns their
        paths; without: returns the two matplotlib figures.
        """
        from .plot import plot_curves, plot_scores, plot_search

        if out_dir is not None:
            return list(plot_search(self.records, self.settings, out_dir, top))
        space = self.settings.get("space", {})
        return [plot_scores(self.records, space, self.metric, self.mode),
                plot_curves(self.records, self.metric, self.mode, self.searched, top)]

    def retrain_best(self, final: Callable[..., Any] | None = None, seed: int = 0
                     ) -> dict[str, Any]:
        """Retrain the best config on train+validation and score it once on the test set."""
        return retrain_best(self.best_config,
                            self.objective or self.settings.get("objective", "train_mlp"),
                            final=final, seed=seed)

    def summary(self) -> str:
        c = self.status_counts()
        b = self.best
        best = "no score" if b is None else (
            f"best trial {b['trial']}: {self.metric}={format_value(b['score'])} with "
            + ", ".join(f"{k}={format_value(b['config'].get(k))}" for k in self.searched))
        return (f"{len(self.records)} trials ({c['completed']} completed, {c['stopped']} "
                f"stopped, {c['failed']} failed); {best}")

    def __repr__(self) -> str:
        return f"SearchResult({self.summary()})"

    @classmethod
    def load(cls, path: str, objective: Any = None) -> SearchResult:
        """A result from a results file (for tables and plots after the fact)."""
        header, records = ResultsFile.load(path)
        return cls(records, header["settings"], path=str(path), objective=objective)


def retrain_best(config: Any, objective: Any = "train_mlp", *,
                 final: Callable[..., Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Retrain ``config`` (or a SearchResult's best) on train+validation and score it once on
    the held-out test set.

    Uses ``final(config, seed=seed)`` when given, else the objective's
    ``final_test(config, seed)`` (``train_mlp`` has one). Do this once, at the end: a test
    score used to choose anything is no longer an estimate of the error on new data.
    """
    if isinstance(config, SearchResult):
        config = config.best_config
    if final is None:
        if isinstance(objective, str):
            objective, _ = resolve_objective(objective)
        final = getattr(objective, "final_test", None)
        if final is None:
            raise SpaceError("retrain_best: this objective has no final_test(config, seed); "
                             "pass final=f, a function that retrains a config on "
                             "train+validation and returns its test scores")
    return final(dict(config), seed=seed)


def search(
    objective: Any = "train_mlp",
    space: Mapping[str, Any] | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    strategy: Any = "random",
    trials: int | None = None,
    seed: int = 0,
    metric: str | None = None,
    mode: str | None = None,
    early_stop: Any = None,
    n_jobs: int | None = None,
    executor: str = "local",
    address: str | None = None,
    results: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = False,
    threads_per_trial: int | None = 1,
    ray_init: Mapping[str, Any] | None = None,
    on_trial_end: Callable[[dict[str, Any]], Any] | None = None,
    stream: TextIO | None = None,
) -> SearchResult:
    """Search hyperparameters: sample configs, train each, score on validation data.

    Parameters
    ----------
    objective : ``"train_mlp"``, ``"module:function"`` or a callable ``f(config, reporter)``
        Trains one configuration and returns its validation score (a float, a dict with
        ``"score"``, or None to use the last reported value of ``metric``). It may call
        ``reporter.report(epoch, val_loss=..., val_accuracy=...)`` every epoch (needed for
        early termination and learning curves). An attribute ``params`` (the valid names)
        lets the search refuse unknown names up front; ``validate(config)`` checks values.
    space : mapping
        Searched parameters: ``loguniform``, ``uniform``, ``randint``, ``choice`` or their
        TOML forms (``{"loguniform": [1e-6, 1e-2]}``); plain values are fixed.
    fixed : mapping
        Settings shared by every trial (dataset, layer sizes, epochs, ...).
    strategy : ``"random"``, ``"grid"``, ``"coarse_to_fine"`` or an object from
        :func:`random`, :func:`grid`, :func:`coarse_to_fine`.
    trials : int
        Trials per round (not used by grid search).
    seed : int
        Seed of the whole search: configs and training seeds derive from it.
    metric, mode : str
        What ranks trials (default ``val_accuracy``/``max`` for classification with
        ``train_mlp``); ``mode`` is inferred from the name when possible.
    early_stop : dict, True or EarlyStop
        Stop trials in the bottom ``fraction`` at the ``rungs`` epochs (see :mod:`.asha`).
    n_jobs : int
        Trials at a time (default: the number of cores; 1 runs in this process).
    executor : ``"local"`` or ``"ray"``; ``address`` is the Ray cluster's (else a local Ray).
    results : path
        JSONL log, appended as trials finish; ``resume=True`` continues it, skipping finished
        trials (refused if it belongs to a different search); ``overwrite=True`` restarts.
    progress : bool
        Print a live table, one row per finished trial (to ``stream``, default stdout).
    threads_per_trial : int
        BLAS threads of each trial (1: ``n_jobs`` trials use ``n_jobs`` cores).
    ray_init : mapping
        Extra ``ray.init`` arguments when the search starts Ray (e.g. ``runtime_env``).
    on_trial_end : callable
        Called with each trial's record as it finishes (after it is logged).
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SpaceError(f"seed must be a non-negative integer, got {seed!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(
            n_jobs, numbers.Integral) or n_jobs < 1):
        raise SpaceError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    obj, obj_name = resolve_objective(objective)
    sspace = SearchSpace(space or {}, fixed)
    sspace.check_names(getattr(obj, "params", None),
                       who=obj_name if isinstance(obj_name, str) else "the objective")
    strat: Strategy = resolve_strategy(strategy)
    if metric is None:
        if hasattr(obj, "default_metric"):
            metric, default_mode = obj.default_metric(sspace.sample(seed, 0, 0))
            mode = mode or default_mode
        else:
            raise SpaceError("give metric= (a name the objective reports, e.g. 'val_loss', or "
                             "'score' for its return value)")
    if not isinstance(metric, str) or not metric:
        raise SpaceError(f"metric must be a name, got {metric!r}")
    mode = mode or infer_mode(metric)
    if mode not in ("max", "min"):
        raise SpaceError(f"mode must be 'max' or 'min', got {mode!r}")
    early: EarlyStop | None = resolve_early_stop(early_stop)
    if early is not None:
        epochs = sspace.fixed.get("epochs")
        if epochs is None and "epochs" not in sspace.domains:
            epochs = getattr(obj, "default_epochs", None)
        early = early.resolved(epochs)
    n_per_round = strat.n_trials(sspace, trials)
    settings: dict[str, Any] = {
        "objective": obj_name, **sspace.to_spec(), "strategy": strat.to_spec(),
        "trials": None if strat.name == "grid" else n_per_round, "seed": int(seed),
        "metric": metric, "mode": mode,
        "early_stop": None if early is None else early.to_spec(),
    }
    validate = getattr(obj, "validate", None)
    first_round = strat.configs(sspace, 0, seed, trials)
    if validate is not None:  # bad values fail here, before any file or worker exists
        for c in first_round:
            validate(c)
    if resume and results is None:
        raise SpaceError("resume=True needs results= (the file to continue)")
    if executor == "local":  # no more workers than trials in a round
        n_jobs = min(n_jobs or default_n_jobs(), n_per_round)
    elif n_jobs is not None:
        n_jobs = min(n_jobs, n_per_round)
    runner = make_executor(executor, n_jobs, address, threads_per_trial, ray_init)
    store = ResultsFile(results) if results is not None else None
    existing = store.open(settings, resume=resume, overwrite=overwrite) if store else []
    done = {(r["round"], r["index"]): r for r in existing}
    records: list[dict[str, Any]] = list(done.values())
    rounds: list[dict[str, Any]] = []
    printer = LivePrinter(sspace.searched, metric, n_per_round * strat.rounds, strat.rounds,
                          stream) if progress else None
    t0 = time.perf_counter()
    try:
        with runner as ex:
            table = None
            if printer:
                printer.header(getattr(ex, "name", executor), getattr(ex, "n_slots", 1),
                               len(done))
            cur = sspace
            offset = 0
            for rnd in range(strat.rounds):
                configs = first_round if rnd == 0 else strat.configs(cur, rnd, seed, trials)
                if validate is not None and rnd > 0:
                    for c in configs:
                        validate(c)
                rounds.append({"round": rnd, **cur.to_spec(), "trials": len(configs)})
                if printer:
                    printer.round_start(rnd, cur)
                specs = [{"trial": offset + i, "round": rnd, "index": i,
                          "seed": trial_seed(seed, rnd, i), "config": c, "metric": metric,
                          "mode": mode} for i, c in enumerate(configs)]
                todo = [s for s in specs if (rnd, s["index"]) not in done]
                if todo and early is not None and table is None:
                    table = ex.make_table(early, mode)
                for s in specs:
                    prev = done.get((rnd, s["index"]))
                    if prev is not None and _canon(prev["config"]) != _canon(s["config"]):
                        raise ResultsMismatch(
                            f"{results}: trial {s['trial']} was run with {prev['config']}, but "
                            f"this search draws {s['config']} (a different version of the "
                            f"sampler or of the first round's results); refusing to resume")
                    if prev is not None and table is not None:
                        table.preload(rnd, s["index"], [
                            (row["epoch"], row.get(metric)) for row in prev.get("scores", [])
                            if row.get(metric) is not None])
                for rec in ex.run(todo, obj, table):
                    if table is not None:
                        table.finish(rec["round"], rec["index"])
                    if rec.get("abort"):
                        raise SpaceError(rec["abort"])
                    if store:
                        store.append(rec)
                    records.append(rec)
                    if printer:
                        printer.row(rec)
                    if on_trial_end is not None:
                        on_trial_end(rec)
                this_round = [r for r in records if r["round"] == rnd]
                top = ranked(this_round, mode) or ranked(this_round, mode, ("stopped",))
                cur = strat.next_space(cur, [r["config"] for r in top], sspace)
                offset += len(specs)
    finally:
        if store:
            store.close()
    result = SearchResult(records, settings, rounds, None if results is None else str(results),
                          obj, time.perf_counter() - t0)
    if printer:
        printer.footer(result)
    return result
