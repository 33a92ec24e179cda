"""Experiment 6: overfitting a deep network on 300 MNIST images, and three remedies.

Book 1's ch06 ``overfit_weight_decay`` / ``overfit_dropout``: a network with 6 hidden
layers of 100 ReLU units (He init) trained on only 300 images with SGD (lr 0.01, batch
100). Training accuracy reaches 100% while test accuracy stalls far below: the network
memorises. Remedies: weight decay (L2 penalty λ/2·‖W‖² on the weights, λ = 0.1 as in the
book), dropout (inverted, p = 0.2), and early stopping (stop when the loss on a held-out
validation set, disjoint from both the 300 training and the test images, has not improved
for a number of epochs, and restore the best weights).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "300 MNIST images: train vs test accuracy, weight decay, dropout, early stopping"

VARIANTS = ("none", "weight decay", "dropout", "early stopping")


def _split(quick: bool, seed: int) -> tuple[Any, ...]:
    xtr, ytr, xte, yte, name = C.mnist_data(quick, seed=seed)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(xtr))
    n_val = 500 if quick else 1000
    tr, va = idx[:300], idx[300:300 + n_val]
    return xtr[tr], ytr[tr], xtr[va], ytr[va], xte, yte, name.split(" ")[0]


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import models, optim
    from ..train import EarlyStopping, evaluate, fit
    from ..train.callbacks import Callback

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xtr, ytr, xva, yva, xte, yte, source = _split(quick, seed)
    epochs = 60 if quick else 200
    lr = 0.05 if quick else 0.01
    patience = 8 if quick else 20
    sizes = [784] + [100] * 6 + [10]

    class Accuracies(Callback):
        """Train and test accuracy in eval mode (dropout off) after every epoch."""

        def __init__(self) -> None:
            self.train: list[float] = []
            self.test: list[float] = []

        def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
            m = trainer.model
            with np.errstate(over="ignore", invalid="ignore"):
                self.train.append(evaluate(m, None, (xtr, ytr), ["accuracy"])["accuracy"])
                self.test.append(evaluate(m, None, (xte, yte), ["accuracy"])["accuracy"])

    out: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        C.seed_all(seed)
        model = models.mlp(sizes, "relu", "he", dropout=0.2 if variant == "dropout" else 0.0)
        if variant == "weight decay":
            named = list(model.named_parameters())
            groups = [{"params": [p for n, p in named if n.endswith("weight")],
                       "weight_decay": 0.1},
                      {"params": [p for n, p in named if not n.endswith("weight")],
                       "weight_decay": 0.0}]
            opt = optim.SGD(groups, lr=lr)
        else:
            opt = optim.SGD(model.parameters(), lr=lr)
        acc = Accuracies()
        callbacks: list[Any] = [acc]
        stopper = None
        if variant == "early stopping":
            stopper = EarlyStopping(monitor="val_loss", patience=patience, restore_best=True)
            callbacks.append(stopper)
        hist = fit(model, "cross_entropy", opt, (xtr, ytr), (xva, yva), epochs=epochs,
                   batch_size=100, callbacks=callbacks, progress=False, seed=seed)
        final_train = C.accuracy(model, xtr, ytr)
        final_test = C.accuracy(model, xte, yte)
        out[variant] = {
            "train_accuracy": acc.train, "test_accuracy": acc.test,
            "val_loss": hist["val_loss"],
            "final_train_accuracy": final_train, "final_test_accuracy": final_test,
            "gap": final_train - final_test,
            "best_test_accuracy": max(acc.test),
            "epochs_run": len(hist),
            "stopped_epoch": hist.stopped_epoch, "best_epoch": hist.best_epoch,
        }

    fig = C.figure((11.0, 7.2), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.9, wspace=0.12,
                        hspace=0.32)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    for ax, variant in zip(axes.ravel(), VARIANTS):
        r = out[variant]
        ep = np.arange(1, len(r["train_accuracy"]) + 1)
        ax.plot(ep, r["train_accuracy"], color="tab:blue", label="train (300 images)")
        ax.plot(ep, r["test_accuracy"], color="tab:orange", label="test")
        title = (f"{variant}: train {r['final_train_accuracy']:.2f}, "
                 f"test {r['final_test_accuracy']:.2f}")
        if variant == "early stopping" and r["stopped_epoch"]:
            ax.axvline(r["stopped_epoch"], color="tab:red", ls="--",
                       label=f"stopped at epoch {r['stopped_epoch']}")
            ax.axvline(r["best_epoch"], color="tab:green", ls=":",
                       label=f"best val loss (restored), epoch {r['best_epoch']}")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, epochs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    fig.suptitle(f"Overfitting: 6×100 ReLU net on 300 {source} images, SGD lr {lr} "
                 f"(weight decay λ=0.1, dropout p=0.2, early-stopping patience {patience})")
    dpi = 60 if quick else 100
    files = [C.save(fig, out_dir, "train_vs_test.png", dpi=dpi)]

    fig = C.figure((7.0, 4.2))
    ax = fig.add_subplot()
    x = np.arange(len(VARIANTS))
    tr = [out[v]["final_train_accuracy"] for v in VARIANTS]
    te = [out[v]["final_test_accuracy"] for v in VARIANTS]
    ax.bar(x - 0.2, tr, 0.4, label="train", color="tab:blue")
    ax.bar(x + 0.2, te, 0.4, label="test", color="tab:orange")
    for i in range(len(VARIANTS)):
        ax.text(x[i], max(tr[i], te[i]) + 0.02, f"gap {tr[i] - te[i]:.2f}", ha="center",
                fontsize=9)
    ax.set_xticks(x, VARIANTS)
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("final accuracy")
    ax.set_title("Train/test gap at the end of training")
    ax.legend(loc="lower right")
    files.append(C.save(fig, out_dir, "final_gap.png", dpi=dpi))

    none = out["none"]
    es = out["early stopping"]
    results = {
        "experiment": "overfitting", "quick": quick, "seed": seed,
        "data": f"{source}: 300 train, {len(xva)} validation, {len(xte)} test",
        "epochs": epochs, "lr": lr, "network": sizes, "variants": out,
        "claims": {
            "no_regularisation_overfits": bool(none["final_train_accuracy"] > 0.98
                                               and none["gap"] > 0.15),
            "weight_decay_shrinks_gap": bool(out["weight decay"]["gap"] < none["gap"]),
            "dropout_shrinks_gap": bool(out["dropout"]["gap"] < none["gap"]),
            "early_stopping_stops_early": bool(es["stopped_epoch"] is not None
                                               and es["stopped_epoch"] < epochs),
            "early_stopping_test_close_to_best": bool(
                es["final_test_accuracy"] >= none["final_test_accuracy"] - 0.03),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    if not math.isfinite(results["elapsed_s"]):  # pragma: no cover
        results["elapsed_s"] = None
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"{results['data']}, {results['epochs']} epochs:"]
    for v, r in results["variants"].items():
        extra = (f", stopped at epoch {r['stopped_epoch']} (best {r['best_epoch']})"
                 if r["stopped_epoch"] else "")
        out.append(f"  {v:15s} train {r['final_train_accuracy']:.3f}  test "
                   f"{r['final_test_accuracy']:.3f}  gap {r['gap']:.3f}{extra}")
    out.append(C.claims_line(results["claims"]))
    return out
