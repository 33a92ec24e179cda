"""Restricted architectures: an MLP and a CNN of about the same size on growing MNIST subsets.

The backprop notes end on why MLPs are not enough: a dense layer treats every pixel as
unrelated to its neighbours, so it must learn from data what a convolution assumes
(locality, weights shared across positions). The restricted architecture's hypothesis
space is smaller and closer to the true solution, so it should generalise better when data
is scarce, and the advantage should shrink as data grows. Both networks here have about
18,000 parameters: a 784-23-10 MLP and a CNN (conv 16 5x5 → pool → conv 32 5x5 → pool →
linear), trained with Adam on 100 ... 60,000 images and scored on the test set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "MLP vs CNN of equal size on 100..60,000 MNIST images: who generalises better"

SIZES = (100, 300, 1000, 3000, 10000, 60000)
QUICK_SIZES = (100, 300, 1000)


def models_of_equal_size(seed: int) -> tuple[Any, Any]:
    """(mlp, cnn), both about 18k parameters, PyTorch's default initialisation."""
    from .. import nn

    C.seed_all(seed)
    mlp = nn.Sequential(nn.Linear(784, 23), nn.ReLU(), nn.Linear(23, 10))
    cnn = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(512, 10))
    return mlp, cnn


def _steps(n: int, quick: bool) -> int:
    """Enough steps to fit a small set (~30 epochs), capped for the large ones."""
    if quick:
        return 100
    return int(min(max(30 * n / 64, 400), 4000))


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import optim

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xtr, ytr, xte, yte, source = C.mnist_data(quick, n_test=500 if quick else None, seed=seed)
    sizes = [n for n in (QUICK_SIZES if quick else SIZES) if n <= len(xtr)]
    order = np.random.default_rng(seed).permutation(len(xtr))
    rows: dict[str, list[float]] = {"mlp": [], "cnn": []}
    params: dict[str, int] = {}
    for n in sizes:
        idx = order[:n]
        for name, model in zip(("mlp", "cnn"), models_of_equal_size(seed)):
            params[name] = model.num_parameters()
            opt = optim.Adam(model.parameters(), lr=2e-3 if quick else 1e-3)
            C.train_steps(model, opt, xtr[idx], ytr[idx], _steps(n, quick),
                          batch_size=min(64, n), seed=seed)
            model.eval()
            rows[name].append(C.accuracy(model, xte, yte))
    gap = [c - m for m, c in zip(rows["mlp"], rows["cnn"])]

    fig = C.figure((10.5, 4.2))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(sizes, rows["mlp"], "o-", label=f"MLP 784-23-10 ({params['mlp']:,} params)")
    ax1.plot(sizes, rows["cnn"], "s-", label=f"CNN 2 conv layers ({params['cnn']:,} params)")
    ax1.set(xscale="log", xlabel="training images", ylabel="test accuracy",
            title="Test accuracy against training-set size")
    ax1.grid(alpha=0.3)
    ax1.legend()
    ax2.bar([str(n) for n in sizes], gap, color="tab:green")
    ax2.axhline(0, color="k", lw=0.8)
    ax2.set(xlabel="training images", ylabel="CNN − MLP test accuracy",
            title="The restricted architecture's advantage")
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle(f"Restricted architectures on {source.split(' ')[0]}: same size, "
                 f"different inductive bias")
    files = [C.save(fig, out_dir, "accuracy_vs_size.png", dpi=60 if quick else 100)]

    results = {
        "experiment": "restricted-architectures", "quick": quick, "seed": seed,
        "data": source, "sizes": sizes, "parameters": params,
        "test_accuracy": rows, "cnn_minus_mlp": gap,
        "claims": {
            "cnn_better_when_data_is_scarce": bool(gap[0] > 0),
            "cnn_at_least_as_good_everywhere": bool(min(gap) > -0.01),
            "gap_shrinks_as_data_grows": bool(gap[-1] < max(gap[:-1] or gap)),
            "both_improve_with_data": bool(rows["mlp"][-1] > rows["mlp"][0]
                                           and rows["cnn"][-1] > rows["cnn"][0]),
            "similar_parameter_counts": bool(abs(params["mlp"] - params["cnn"])
                                             < 0.05 * params["cnn"]),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"{results['data']}; parameters: MLP {results['parameters']['mlp']:,}, CNN "
           f"{results['parameters']['cnn']:,}"]
    for n, m, c in zip(results["sizes"], results["test_accuracy"]["mlp"],
                       results["test_accuracy"]["cnn"]):
        out.append(f"  {n:6d} images: MLP {m:.3f}  CNN {c:.3f}  gap {c - m:+.3f}")
    out.append(C.claims_line(results["claims"]))
    return out
