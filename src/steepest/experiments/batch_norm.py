"""Experiment 5: training with and without batch normalisation across initial weight scales.

Book 1's ch06 ``batch_norm_test``: a network with 5 hidden layers of 100 ReLU units, its
weights drawn from N(0, s²) for 16 scales s from 1 down to 1e-4, trained on 1000 MNIST
images with SGD (lr 0.01, batch 100, 20 epochs), with and without batch normalisation
after every hidden Linear layer. Without it, only a narrow band of scales learns at all
(too small: the signal dies; too large: it explodes); with it, almost every scale learns,
and faster. Here batch norm normalises per feature (BatchNorm1d), the right axis for
fully connected layers, with PyTorch's eps = 1e-5 (book 1 uses 1e-6): at the tiniest
scales the pre-activation variance falls below eps, and batch norm stops normalising.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "training with and without batch norm across 16 initial weight scales"


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import models, optim
    from ..train import evaluate

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    n_train = 1000
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, n_train=n_train, seed=seed)
    scales = np.logspace(0, -4, 6 if quick else 16)
    epochs = 10 if quick else 20
    batch = 100
    steps_per_epoch = math.ceil(n_train / batch)
    sizes = [784, 100, 100, 100, 100, 100, 10]
    runs: list[dict[str, Any]] = []
    for s in scales:
        row: dict[str, Any] = {"scale": float(s)}
        for bn in (False, True):
            C.seed_all(seed)
            model = models.mlp(sizes, "relu", "normal", init_std=float(s), batch_norm=bn)
            opt = optim.SGD(model.parameters(), lr=0.01)
            accs = []
            diverged = False
            for epoch in range(epochs):
                losses = C.train_steps(model, opt, xtr, ytr, steps_per_epoch, batch,
                                       seed=seed * 1000 + epoch)
                if np.isnan(losses).any():
                    diverged = True
                    accs += [math.nan] * (epochs - epoch)
                    break
                with np.errstate(over="ignore", invalid="ignore"):
                    accs.append(evaluate(model, None, (xtr, ytr), ["accuracy"])["accuracy"])
            key = "bn" if bn else "plain"
            row[key] = {"train_accuracy": accs, "final_train_accuracy": accs[-1],
                        "test_accuracy": math.nan if diverged else C.accuracy(model, xte, yte),
                        "diverged": diverged}
        runs.append(row)

    # The book's grid of small plots: accuracy against epochs per scale.
    n = len(scales)
    cols = 4
    rows = math.ceil(n / cols)
    fig = C.figure((12.0, 2.3 * rows + 1.0), layout=None)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.07 if rows > 2 else 0.12,
                        top=0.9 if rows > 2 else 0.84, wspace=0.08, hspace=0.45)
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    ep = np.arange(1, epochs + 1)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        r = runs[i]
        ax.plot(ep, r["bn"]["train_accuracy"], "-", color="tab:blue", label="batch norm")
        ax.plot(ep, r["plain"]["train_accuracy"], "--", color="tab:orange",
                label="no batch norm")
        note = " (no-BN run diverged)" if r["plain"]["diverged"] else ""
        ax.set_title(f"weight std {r['scale']:.2g}{note}", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if i % cols == 0:
            ax.set_ylabel("train accuracy")
        if i + cols >= n:  # the lowest panel of its column
            ax.set_xlabel("epoch")
            ax.tick_params(labelbottom=True)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Batch normalisation vs initial weight scale "
                 f"({data_name.split(' ')[0]}, {n_train} training images, SGD lr 0.01)")
    dpi = 60 if quick else 90
    files = [C.save(fig, out_dir, "accuracy_grid.png", dpi=dpi)]

    fig = C.figure((6.8, 4.4))
    ax = fig.add_subplot()
    for key, style, label in (("bn", "-o", "batch norm"), ("plain", "--s", "no batch norm")):
        ax.semilogx(scales, [r[key]["final_train_accuracy"] for r in runs], style,
                    label=f"{label}: train")
        ax.semilogx(scales, [r[key]["test_accuracy"] for r in runs], style, alpha=0.4,
                    label=f"{label}: test")
    ax.invert_xaxis()
    ax.set_xlabel("initial weight std (log scale)")
    ax.set_ylabel(f"accuracy after {epochs} epochs")
    ax.set_ylim(0, 1.02)
    ax.set_title("Batch norm widens the range of initial scales that train")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    files.append(C.save(fig, out_dir, "final_accuracy_vs_scale.png", dpi=dpi))

    bn_final = np.array([r["bn"]["final_train_accuracy"] for r in runs], dtype=float)
    plain_final = np.array([r["plain"]["final_train_accuracy"] for r in runs], dtype=float)
    plain_final = np.nan_to_num(plain_final, nan=0.0)
    wins = int(np.sum(bn_final >= plain_final - 0.02))
    learns_bn = int(np.sum(bn_final > 0.5))
    learns_plain = int(np.sum(plain_final > 0.5))
    results = {
        "experiment": "batch-norm", "quick": quick, "seed": seed, "data": data_name,
        "epochs": epochs, "network": sizes, "scales": scales, "runs": runs,
        "claims": {
            "bn_at_least_as_good_at_most_scales": bool(wins >= 0.75 * n),
            "scales_where_bn_at_least_as_good": f"{wins}/{n}",
            "bn_learns_at_more_scales": bool(learns_bn > learns_plain),
            "scales_reaching_50pct_bn": f"{learns_bn}/{n}",
            "scales_reaching_50pct_plain": f"{learns_plain}/{n}",
            "plain_stuck_at_smallest_scale": bool(plain_final[-1] < 0.2),
            "mean_final_accuracy_bn": float(np.mean(bn_final)),
            "mean_final_accuracy_plain": float(np.mean(plain_final)),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"{results['data']}, {results['epochs']} epochs; final train accuracy "
           f"(batch norm / plain) per weight std:"]
    out.append("  " + ", ".join(
        f"{r['scale']:.2g}: {r['bn']['final_train_accuracy']:.2f}/"
        f"{(r['plain']['final_train_accuracy'] or 0.0):.2f}" for r in results["runs"]))
    c = results["claims"]
    out.append(f"batch norm at least as good at {c['scales_where_bn_at_least_as_good']} scales; "
               f"above 50% train accuracy at {c['scales_reaching_50pct_bn']} (batch norm) vs "
               f"{c['scales_reaching_50pct_plain']} (plain) scales; mean "
               f"{c['mean_final_accuracy_bn']:.3f} vs {c['mean_final_accuracy_plain']:.3f}")
    return out
