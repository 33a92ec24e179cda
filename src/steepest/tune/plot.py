"""Figures of a search: the score against each hyperparameter (on its own scale), and the
learning curves of the best trials against the rest (stopped trials' curves end early).

Matplotlib's object API with the Agg canvas: nothing touches pyplot's global state.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .results import format_value, ranked

__all__ = ["plot_scores", "plot_curves", "plot_search"]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _is_log(spec: Any) -> bool:
    return isinstance(spec, Mapping) and ("loguniform" in spec or (
        "randint" in spec and spec.get("log")))


def plot_scores(records: Sequence[Mapping[str, Any]], space: Mapping[str, Any], metric: str,
                mode: str, path: str | os.PathLike | None = None) -> Any:
    """Score vs each searched hyperparameter: one panel each, log x-axis for log ranges,
    colour = round, crosses = stopped early (score at the rung), star = best trial."""
    names = [k for k, v in space.items() if not (isinstance(v, Mapping) and "fixed" in v)]
    if not names:
        names = ["trial"]
    ncols = min(3, len(names))
    nrows = (len(names) + ncols - 1) // ncols
    fig = _figure(4.2 * ncols, 3.4 * nrows)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    best = ranked(records, mode)
    best_trial = best[0]["trial"] if best else None
    rounds = sorted({r.get("round", 0) for r in records}) or [0]
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    colours = {rnd: cmap(0.15 + 0.7 * i / max(len(rounds) - 1, 1)) for i, rnd in
               enumerate(rounds)}
    for ax, name in zip(axes, names):
        spec = space.get(name)
        categorical = isinstance(spec, Mapping) and "choice" in spec
        cats = [json.dumps(v) for v in spec["choice"]] if categorical else []
        rng = np.random.default_rng(0)
        for status, marker, alpha in (("completed", "o", 0.85), ("stopped", "x", 0.6)):
            for rnd in rounds:
                pts = [r for r in records if r.get("status") == status and r.get(
                    "round", 0) == rnd and r.get("score") is not None]
                if not pts:
                    continue
                if name == "trial":
                    xs = [r["trial"] for r in pts]
                elif categorical:
                    xs = [cats.index(json.dumps(r["config"].get(name))) + rng.uniform(-0.15, 0.15)
                          if json.dumps(r["config"].get(name)) in cats else np.nan for r in pts]
                else:
                    xs = [r["config"].get(name) for r in pts]
                label = f"{status}" + (f", round {rnd + 1}" if len(rounds) > 1 else "")
                ax.scatter(xs, [r["score"] for r in pts], marker=marker, alpha=alpha, s=28,
                           color=colours[rnd], label=label)
        if best_trial is not None and name != "trial":
            b = best[0]
            x = b["config"].get(name)
            if categorical:
                x = cats.index(json.dumps(x)) if json.dumps(x) in cats else None
            if x is not None:
                ax.scatter([x], [b["score"]], marker="*", s=220, color="crimson",
                           edgecolor="black", zorder=5, label=f"best (trial {b['trial']})")
        if categorical:
            ax.set_xticks(range(len(cats)))
            ax.set_xticklabels([format_value(v, 12) for v in spec["choice"]])
        elif _is_log(spec):
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # no crowded 2x10^1 3x10^1 ...
        ax.set_xlabel(name + (" (log scale)" if _is_log(spec) else ""))
        ax.set_ylabel(metric)
        ax.set_title(f"{metric} vs {name}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Search results: {sum(r.get('status') == 'completed' for r in records)} "
                 f"completed, {sum(r.get('status') == 'stopped' for r in records)} stopped, "
                 f"{sum(r.get('status') == 'failed' for r in records)} failed")
    if path is not None:
        fig.savefig(path)
    return fig


def plot_curves(records: Sequence[Mapping[str, Any]], metric: str, mode: str,
                searched: Sequence[str], top: int = 5, path: str | os.PathLike | None = None
                ) -> Any:
    """``metric`` per epoch: the ``top`` best trials labelled, every other trial in grey."""
    fig = _figure(7.5, 4.6)
    ax = fig.subplots()
    best = ranked(records, mode)[:top]
    best_ids = {r["trial"] for r in best}
    for r in records:
        if r["trial"] in best_ids:
            continue
        rows = [row for row in r.get("scores", []) if row.get(metric) is not None]
        if rows:
            ax.plot([row["epoch"] for row in rows], [row[metric] for row in rows],
                    color="0.65", lw=0.8, alpha=0.7, marker=".", ms=4,
                    ls="--" if r.get("status") == "stopped" else "-")
    for i, r in enumerate(best):
        rows = [row for row in r.get("scores", []) if row.get(metric) is not None]
        if not rows:
            continue
        params = ", ".join(f"{k}={format_value(r['config'].get(k))}" for k in searched)
        ax.plot([row["epoch"] for row in rows], [row[metric] for row in rows], marker="o",
                ms=3, lw=1.8, label=f"#{i + 1} trial {r['trial']}: {params}")
        std_key = f"{metric}_std"
        if all(row.get(std_key) is not None for row in rows):
            e = np.array([row["epoch"] for row in rows], dtype=float)
            m = np.array([row[metric] for row in rows], dtype=float)
            s = np.array([row[std_key] for row in rows], dtype=float)
            ax.fill_between(e, m - s, m + s, alpha=0.15)
    ax.plot([], [], color="0.65", lw=0.8, marker=".", label="other trials (dashed: stopped "
            "early)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(f"Learning curves: the {len(best)} best trials by {metric}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    if path is not None:
        fig.savefig(path)
    return fig


def plot_search(records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any],
                out_dir: str | os.PathLike, top: int = 5) -> list[Path]:
    """Write ``scores.png`` and ``curves.png`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    space = settings.get("space", {})
    metric, mode = settings["metric"], settings["mode"]
    searched = [k for k, v in space.items() if not (isinstance(v, Mapping) and "fixed" in v)]
    paths = [out / "scores.png", out / "curves.png"]
    plot_scores(records, space, metric, mode, paths[0])
    plot_curves(records, metric, mode, searched, top, paths[1])
    return paths
