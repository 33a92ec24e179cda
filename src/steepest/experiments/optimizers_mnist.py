"""Experiment 3: the same optimisers training the same MNIST network.

Book 1's comparison (ch06 ``optimizer_compare_mnist``): a 784-100-100-100-100-10 ReLU
network with He initialisation, mini-batches of 128, 2000 iterations, one run per
optimiser from the *same* initial weights and the *same* batch order. The notes claim
that AdaGrad, Adam and Momentum learn faster than plain SGD; we measure whether that holds
(mean training loss over the last 10% of iterations, and test accuracy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "the same optimisers training the same MNIST MLP: loss against iterations"

# Learning rates: book 1's defaults where it has them (SGD, Momentum, AdaGrad 0.01; Adam
# 0.001), the usual defaults otherwise (RMSprop 0.001, AdaDelta 1.0 as in PyTorch).
SETTINGS = {
    "SGD": ("SGD", dict(lr=0.01)),
    "Momentum": ("Momentum", dict(lr=0.01, momentum=0.9)),
    "Nesterov": ("Nesterov", dict(lr=0.01, momentum=0.9)),
    "AdaGrad": ("Adagrad", dict(lr=0.01)),
    "RMSprop": ("RMSprop", dict(lr=0.001)),
    "AdaDelta": ("Adadelta", dict(lr=1.0)),
    "Adam": ("Adam", dict(lr=0.001)),
}
COLORS = {"SGD": "tab:red", "Momentum": "tab:blue", "Nesterov": "tab:cyan",
          "AdaGrad": "tab:green", "RMSprop": "tab:purple", "AdaDelta": "tab:brown",
          "Adam": "tab:orange"}
SIZES = [784, 100, 100, 100, 100, 10]


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import models, optim

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, seed=seed)
    steps = 150 if quick else 2000
    batch = 128
    C.seed_all(seed)
    model = models.mlp(SIZES, activation="relu", init="he")
    init_state = model.state_dict()

    curves: dict[str, np.ndarray] = {}
    per: dict[str, dict[str, Any]] = {}
    for name, (cls, kw) in SETTINGS.items():
        model.load_state_dict(init_state)
        opt = getattr(optim, cls)(model.parameters(), **kw)
        t0 = C.Stopwatch()
        losses = C.train_steps(model, opt, xtr, ytr, steps, batch, seed=seed)
        tail = losses[-max(steps // 10, 1):]
        curves[name] = losses
        per[name] = {"optimizer": cls, **kw,
                     "final_loss_mean_last_10pct": float(np.nanmean(tail)),
                     "loss_at_quarter": float(np.nanmean(losses[steps // 4 - 5:steps // 4 + 5])),
                     "test_accuracy": C.accuracy(model, xte, yte),
                     "diverged": bool(np.isnan(losses).any()),
                     "seconds": t0.elapsed()}

    window = 10 if quick else 30
    fig = C.figure((8.0, 5.0))
    ax = fig.add_subplot()
    for name, losses in curves.items():
        it = np.arange(1, steps + 1)
        ax.plot(it, losses, color=COLORS[name], alpha=0.15, lw=0.6)
        ax.plot(it, C.smooth(losses, window), color=COLORS[name], lw=1.6,
                label=f"{name} (lr {SETTINGS[name][1]['lr']:g}): "
                      f"{per[name]['final_loss_mean_last_10pct']:.3f}")
    ax.set_xlabel("iteration (mini-batch of 128)")
    ax.set_ylabel(f"training loss (cross-entropy; bold: mean of {window})")
    ax.set_ylim(0, 2.5)
    ax.set_title(f"Optimisers on MNIST, 784-100-100-100-100-10 ReLU (He init)\n{data_name}")
    ax.legend(title="optimiser: mean loss over the last 10%", fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    files = [C.save(fig, out_dir, "loss_curves.png", dpi=70 if quick else 100)]

    sgd = per["SGD"]["final_loss_mean_last_10pct"]
    faster = {n: per[n]["final_loss_mean_last_10pct"] < sgd for n in ("AdaGrad", "Adam",
                                                                      "Momentum")}
    ranking = sorted(per, key=lambda n: per[n]["final_loss_mean_last_10pct"])
    results = {
        "experiment": "optimizers-mnist", "quick": quick, "seed": seed, "data": data_name,
        "network": SIZES, "iterations": steps, "batch_size": batch,
        "optimizers": per, "ranking_by_final_loss": ranking,
        "claims": {
            "notes_claim_adagrad_adam_momentum_faster_than_sgd": all(faster.values()),
            "faster_than_sgd": faster,
            "adam_below_sgd": per["Adam"]["final_loss_mean_last_10pct"] < sgd,
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"{results['data']}, {results['iterations']} iterations; final training loss "
           f"(mean of last 10%) / test accuracy:"]
    for n, r in results["optimizers"].items():
        out.append(f"  {n:9s} lr {r['lr']:<6g} loss {r['final_loss_mean_last_10pct']:.4f}  "
                   f"test acc {r['test_accuracy']:.4f}")
    c = results["claims"]
    holds = c["notes_claim_adagrad_adam_momentum_faster_than_sgd"]
    out.append(f"notes' claim (AdaGrad, Adam, Momentum faster than SGD): "
               f"{'holds' if holds else 'does not hold'} {c['faster_than_sgd']}")
    return out
