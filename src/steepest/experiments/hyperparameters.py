"""Experiment 9: random search for learning rate and weight decay, coarse to fine.

Book 1's ch06 ``hyperparameter_optimization``: sample the learning rate as 10^U(-6, -2)
and the weight decay as 10^U(-8, -4) (log scales, because what matters is the order of
magnitude), train a 6×100 network briefly on a small MNIST subset, and score each trial on
a *validation* set carved from the training data (never on the test set, which would make
the test score an optimistic, tuned number). Then narrow the ranges to the best trials
and sample again (coarse to fine). Only the winner is finally scored on the test set.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "random search of lr and weight decay on log scales, coarse to fine"

LR_RANGE = (-6.0, -2.0)
WD_RANGE = (-8.0, -4.0)


def _trial(data: tuple[np.ndarray, ...], sizes: list[int], lr: float, wd: float, epochs: int,
           seed: int) -> dict[str, Any]:
    from .. import models, optim

    xtr, ytr, xva, yva = data
    C.seed_all(seed)
    model = models.mlp(sizes, "relu", "he")
    named = list(model.named_parameters())
    opt = optim.SGD([{"params": [p for n, p in named if n.endswith("weight")],
                      "weight_decay": wd},
                     {"params": [p for n, p in named if not n.endswith("weight")]}], lr=lr)
    batch = 100
    steps = epochs * math.ceil(len(xtr) / batch)
    losses = C.train_steps(model, opt, xtr, ytr, steps, batch, seed=seed)
    diverged = bool(np.isnan(losses).any())
    val = 0.0 if diverged else C.accuracy(model, xva, yva)
    return {"lr": lr, "weight_decay": wd, "val_accuracy": val,
            "train_accuracy": 0.0 if diverged else C.accuracy(model, xtr, ytr),
            "final_loss": float(np.nanmean(losses[-5:])), "diverged": diverged,
            "model": model}


def _narrow(trials: list[dict[str, Any]], top: int) -> tuple[tuple[float, float], ...]:
    """Log-space bounding box of the ``top`` best trials, widened by 10% of its size."""
    best = sorted(trials, key=lambda t: -t["val_accuracy"])[:top]
    boxes = []
    for key in ("lr", "weight_decay"):
        v = np.log10([t[key] for t in best])
        lo, hi = float(v.min()), float(v.max())
        pad = max(0.1 * (hi - lo), 0.05)
        boxes.append((lo - pad, hi + pad))
    return tuple(boxes)  # type: ignore[return-value]


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, seed=seed)
    n_train, n_val = (300, 300) if quick else (1000, 500)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(xtr))
    data = (xtr[idx[:n_train]], ytr[idx[:n_train]], xtr[idx[n_train:n_train + n_val]],
            ytr[idx[n_train:n_train + n_val]])
    sizes = [784, 50, 50, 10] if quick else [784] + [100] * 6 + [10]
    epochs = 8 if quick else 30
    n1, n2 = (12, 8) if quick else (40, 25)

    def sample(n: int, lr_range: tuple[float, float], wd_range: tuple[float, float],
               offset: int) -> list[dict[str, Any]]:
        out = []
        for i in range(n):
            lr = 10 ** rng.uniform(*lr_range)
            wd = 10 ** rng.uniform(*wd_range)
            out.append(_trial(data, sizes, float(lr), float(wd), epochs, seed + offset + i))
        return out

    round1 = sample(n1, LR_RANGE, WD_RANGE, 0)
    top = max(3, n1 // 5)
    lr2, wd2 = _narrow(round1, top)
    round2 = sample(n2, lr2, wd2, 1000)
    everything = round1 + round2
    best = max(everything, key=lambda t: t["val_accuracy"])
    test_acc = C.accuracy(best["model"], xte, yte)

    def strip(ts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in t.items() if k != "model"} for t in ts]

    def median(ts: list[dict[str, Any]]) -> float:
        return float(np.median([t["val_accuracy"] for t in ts]))

    # Scatter: learning rate vs weight decay, coloured by validation accuracy.
    from matplotlib.patches import Rectangle

    fig = C.figure((12.5, 5.6), layout=None)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.24, top=0.88, wspace=0.3)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.25, 1])
    vmax = max(t["val_accuracy"] for t in everything)
    kw = dict(cmap="viridis", vmin=0.0, vmax=vmax, edgecolors="black", linewidths=0.5)
    for ts, marker, label in ((round1, "o", f"round 1 ({n1} trials)"),
                              (round2, "^", f"round 2 ({n2} trials)")):
        sc = ax1.scatter([np.log10(t["lr"]) for t in ts],
                         [np.log10(t["weight_decay"]) for t in ts],
                         c=[t["val_accuracy"] for t in ts], marker=marker, s=55, label=label,
                         **kw)
    fig.colorbar(sc, ax=ax1, label="validation accuracy")
    ax1.add_patch(Rectangle((lr2[0], wd2[0]), lr2[1] - lr2[0], wd2[1] - wd2[0], fill=False,
                            ls="--", color="tab:red", lw=1.5,
                            label=f"round-2 box (top {top} of round 1)"))
    ax1.plot(np.log10(best["lr"]), np.log10(best["weight_decay"]), "*", ms=18,
             color="tab:red", mec="black", label=f"best: val {best['val_accuracy']:.3f}")
    ax1.set_xlim(*LR_RANGE)
    ax1.set_ylim(*WD_RANGE)
    ax1.set_xlabel("log10 learning rate")
    ax1.set_ylabel("log10 weight decay")
    ax1.set_title("Random search on log scales")
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.55, -0.13), ncol=2)
    for ts, marker, color in ((round1, "o", "tab:blue"), (round2, "^", "tab:orange")):
        ax2.semilogx([t["lr"] for t in ts], [t["val_accuracy"] for t in ts], marker,
                     color=color, mec="black", mew=0.5,
                     label=f"round {1 if ts is round1 else 2}: median "
                           f"{median(ts):.3f}, best {max(t['val_accuracy'] for t in ts):.3f}")
    ax2.set_xlabel("learning rate (log scale)")
    ax2.set_ylabel("validation accuracy")
    ax2.set_title("The learning rate decides; weight decay barely matters")
    ax2.legend(fontsize=8, loc="upper left")
    ax2.grid(alpha=0.3, which="both")
    fig.suptitle(f"Hyperparameter search, {len(sizes) - 2}×{sizes[1]} ReLU net, SGD, "
                 f"{epochs} epochs on {n_train} images, scored on {n_val} validation images")
    files = [C.save(fig, out_dir, "search.png", dpi=60 if quick else 100)]

    results = {
        "experiment": "hyperparameters", "quick": quick, "seed": seed, "data": data_name,
        "train_images": n_train, "validation_images": n_val, "epochs": epochs,
        "network": sizes,
        "round1": {"lr_log10_range": LR_RANGE, "wd_log10_range": WD_RANGE,
                   "trials": strip(round1), "median_val_accuracy": median(round1)},
        "round2": {"lr_log10_range": lr2, "wd_log10_range": wd2, "trials": strip(round2),
                   "median_val_accuracy": median(round2)},
        "best": {k: v for k, v in best.items() if k != "model"},
        "best_test_accuracy": test_acc,
        "claims": {
            "round2_median_beats_round1": bool(median(round2) > median(round1)),
            "best_lr_in_top_decade": bool(best["lr"] >= 1e-3),
            "round2_box_narrower": bool(lr2[1] - lr2[0] < LR_RANGE[1] - LR_RANGE[0]),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    r1, r2, b = results["round1"], results["round2"], results["best"]
    return [
        f"round 1: {len(r1['trials'])} trials, lr 10^{r1['lr_log10_range']}, wd "
        f"10^{r1['wd_log10_range']}: median val acc {r1['median_val_accuracy']:.3f}",
        f"round 2: {len(r2['trials'])} trials, lr 10^[{r2['lr_log10_range'][0]:.2f}, "
        f"{r2['lr_log10_range'][1]:.2f}], wd 10^[{r2['wd_log10_range'][0]:.2f}, "
        f"{r2['wd_log10_range'][1]:.2f}]: median val acc {r2['median_val_accuracy']:.3f}",
        f"best: lr {b['lr']:.2e}, weight decay {b['weight_decay']:.2e}: val acc "
        f"{b['val_accuracy']:.3f}, test acc {results['best_test_accuracy']:.3f}",
    ]
