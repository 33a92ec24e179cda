"""Generalisation: the learned function against the true one as the data grows.

The backprop lecture's picture (p36): the same network (1-64-64-1 tanh) is trained on 5,
10, 30, 100 and 300 noisy samples of a known function, y = sin(2πx) + ε with ε ~ N(0, 0.2²)
on [0, 1] (one sample at a random place in each of n equal cells). With few samples the
network passes through them and goes its own way in between; with many it follows the
true function. Test error (against the noise-free function on a dense grid, the mean over
several independent data sets) falls with the training-set size. The same runs with
weight decay (AdamW) show how a penalty on the weights tames the wandering in between for
small data sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "learned vs true function for 5..300 noisy samples, test error vs data, weight decay"

NOISE = 0.2


def true_function(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def _train(x: np.ndarray, y: np.ndarray, grid: np.ndarray, steps: int, weight_decay: float,
           seed: int, width: int) -> np.ndarray:
    from .. import functional as F
    from .. import models, optim
    from ..train import predict

    C.seed_all(seed)
    model = models.mlp([1, width, width, 1], activation="tanh", init="xavier", dtype=np.float64)
    opt = optim.AdamW(model.parameters(), lr=0.01, weight_decay=weight_decay)
    C.train_steps(model, opt, x[:, None], y[:, None], steps, len(x), seed=seed,
                  loss=F.mse_loss)
    return predict(model, grid[:, None])[:, 0]


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    sizes = [5, 10, 30, 100, 300]
    steps = 300 if quick else 2000
    draws = 3 if quick else 5  # test errors are averaged over independent data sets
    width = 32 if quick else 64
    decay = 0.05
    grid = np.linspace(0, 1, 200 if quick else 500)
    truth = true_function(grid)
    rng = np.random.default_rng(seed)
    data: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for d in range(draws):
        for n in sizes:
            # one sample at a random place in each of n equal cells (no chance gaps wider
            # than two cells: the size of the set, not the luck of the draw, sets the spacing)
            x = (np.arange(n) + rng.uniform(0, 1, n)) / n
            data[d, n] = (x, true_function(x) + rng.normal(0, NOISE, n))
    runs: dict[str, dict[str, Any]] = {"plain": {}, "weight decay": {}}
    for variant, wd in (("plain", 0.0), ("weight decay", decay)):
        for n in sizes:
            rows = []
            for d in range(draws):
                x, y = data[d, n]
                pred = _train(x, y, grid, steps, wd, seed + d, width)
                # "between the samples": grid points more than a quarter cell from any sample
                far = np.min(np.abs(grid[:, None] - x[None, :]), axis=1) > 0.25 / n
                rows.append((float(np.mean((pred - truth) ** 2)),
                             float(np.mean((np.interp(x, grid, pred) - y) ** 2)),
                             float(np.mean(np.abs(pred - truth)[far])) if far.any() else 0.0,
                             pred))
            runs[variant][str(n)] = {
                "test_mse": float(np.mean([r[0] for r in rows])),
                "test_mse_per_draw": [r[0] for r in rows],
                "train_mse": float(np.mean([r[1] for r in rows])),
                "between_samples_mae": float(np.mean([r[2] for r in rows])),
                "prediction": rows[0][3],  # drawn for the first data set
            }

    dpi = 60 if quick else 100
    fig = C.figure((14, 5.6))
    axes = fig.subplots(2, len(sizes), sharex=True, sharey=True)
    for row, variant in enumerate(runs):
        for ax, n in zip(axes[row], sizes):
            r = runs[variant][str(n)]
            ax.plot(grid, truth, "k--", lw=1.2, label="true function")
            ax.plot(grid, r["prediction"], "tab:red", lw=1.5, label="learned")
            ax.plot(*data[0, n], "o", ms=3 if n > 30 else 5, color="tab:blue",
                    alpha=0.6, label="data")
            ax.set_title(f"{variant}, n = {n}: test MSE {r['test_mse_per_draw'][0]:.3f}",
                         fontsize=9)
            ax.set_ylim(-2, 2)
            ax.grid(alpha=0.3)
        axes[row][0].set_ylabel("y")
    for ax in axes[-1]:
        ax.set_xlabel("x")
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"1-{width}-{width}-1 tanh network on y = sin(2πx) + N(0, {NOISE}²): "
                 f"top plain, bottom weight decay {decay}")
    files = [C.save(fig, out_dir, "learned_vs_true.png", dpi=dpi)]

    fig = C.figure((6.4, 4.4))
    ax = fig.add_subplot()
    for variant, style in zip(runs, ("o-", "s--")):
        ax.loglog(sizes, [runs[variant][str(n)]["test_mse"] for n in sizes], style,
                  label=f"{variant} (test)")
        ax.loglog(sizes, [max(runs[variant][str(n)]["train_mse"], 1e-6) for n in sizes],
                  style, alpha=0.4, label=f"{variant} (train)")
    ax.axhline(NOISE ** 2, color="k", lw=1, ls=":", label=f"noise variance {NOISE ** 2:.2f}")
    ax.set(xlabel="training samples", ylabel="mean squared error",
           title=f"Test error falls with more data (mean of {draws} data sets)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    files.append(C.save(fig, out_dir, "test_error_vs_data.png", dpi=dpi))

    plain = [runs["plain"][str(n)] for n in sizes]
    test = [r["test_mse"] for r in plain]
    for variant in runs.values():
        for r in variant.values():
            r.pop("prediction")
    results = {
        "experiment": "generalization", "quick": quick, "seed": seed, "sizes": sizes,
        "steps": steps, "draws": draws, "network": [1, width, width, 1], "noise_std": NOISE,
        "weight_decay": decay, "runs": runs,
        "claims": {
            # (means over the data sets) each larger set is at most 10% worse, and the
            # largest is far better than the smallest
            "test_error_decreases_with_data": bool(
                all(b <= 1.1 * a for a, b in zip(test, test[1:])) and test[-1] < test[0] / 5),
            "small_data_departs_between_samples": bool(
                plain[0]["between_samples_mae"] > 3 * plain[-1]["between_samples_mae"]
                and plain[0]["train_mse"] < NOISE ** 2 / 4),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"samples {results['sizes']}, {results['steps']} AdamW steps, noise σ = "
           f"{results['noise_std']}, mean of {results['draws']} data sets:"]
    for variant, rows in results["runs"].items():
        out.append(f"  {variant:12s} test MSE " + "  ".join(
            f"n={n}: {r['test_mse']:.4f}" for n, r in rows.items()))
    out.append(C.claims_line(results["claims"]))
    return out
