"""Experiment 4: weight initialisation and the distribution of activations.

Book 1's ch06 ``weight_init_activation_histogram``: 1000 random inputs (100 features)
through 5 layers of 100 units, with weights drawn with std 1, std 0.01, Xavier and He,
for sigmoid, tanh and ReLU; then MNIST loss curves per initialisation.

Xavier here is Glorot's std = √(2/(n_in + n_out)); book 1 calls √(1/n) "Xavier", which
is LeCun's. For these square 100×100 layers the two coincide (√(2/200) = √(1/100)), so
the histograms are the same either way; they differ for non-square layers such as
784→100, which the MNIST curves include (LeCun is drawn as its own curve).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = ("activation histograms for std 1, 0.01, Xavier, He (sigmoid/tanh/ReLU); MNIST loss "
               "per init")

INITS = {
    "std = 1": ("normal", 1.0),
    "std = 0.01": ("normal", 0.01),
    "Xavier (Glorot)": ("xavier", None),
    "He": ("he", None),
}
ACTIVATIONS = ("sigmoid", "tanh", "relu")
CURVE_INITS = {
    "std = 0.01": ("normal", 0.01),
    "Xavier (Glorot)": ("xavier", None),
    "LeCun (book 1's 'Xavier')": ("lecun", None),
    "He": ("he", None),
}
CURVE_COLORS = ["tab:red", "tab:blue", "tab:cyan", "tab:green"]


def deep_net(activation: str, scheme: str, std: float | None, n_layers: int = 5,
             width: int = 100) -> Any:
    """``n_layers`` × (Linear(width, width, no bias) → activation), initialised by
    ``scheme`` (book 1's histogram network: activations of every layer are recorded)."""
    from .. import nn
    from ..models import ACTIVATIONS as ACTS
    from ..models import init_weight

    layers: list[Any] = []
    for _ in range(n_layers):
        lin = nn.Linear(width, width, bias=False)
        init_weight(lin.weight, scheme, activation, std if std is not None else 0.01)
        layers += [lin, ACTS[activation]()]
    return nn.Sequential(*layers)


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import models, optim
    from ..inspect import activation_histograms, activation_stats

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    dpi = 60 if quick else 90
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1000, 100)).astype(np.float32)
    files: list[str] = []
    stats: dict[str, dict[str, list[dict[str, Any]]]] = {}
    ranges = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": None}
    for act in ACTIVATIONS:
        nets = []
        stats[act] = {}
        for label, (scheme, std) in INITS.items():
            C.seed_all(seed)
            net = deep_net(act, scheme, std)
            nets.append(net)
            st = activation_stats(net, x)
            stats[act][label] = [{k: s[k] for k in ("mean", "std", "frac_zero",
                                                    "frac_saturated")} for s in st]
        fig = activation_histograms(
            nets, x, labels=list(INITS), value_range=ranges[act], bins=30,
            title=f"{act} activations of 5 layers × 100 units, 1000 random inputs (x axis: "
                  + ("each row its own range)" if ranges[act] is None else f"the range of {act})"))
        files.append(C.save(fig, out_dir, f"histograms_{act}.png", dpi=dpi))

    # Layer-by-layer std, all settings in one chart.
    fig = C.figure((12.0, 3.8))
    axes = fig.subplots(1, 3)
    for ax, act in zip(axes, ACTIVATIONS):
        for (label, rows), color in zip(stats[act].items(),
                                        ["tab:red", "tab:gray", "tab:blue", "tab:green"]):
            ax.semilogy(range(1, 6), [max(r["std"], 1e-30) for r in rows], "-o",
                        color=color, label=label)
        ax.set_xlabel("layer")
        ax.set_ylabel("std of activations (log)")
        ax.set_title(act)
        ax.set_xticks(range(1, 6))
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle("Spread of the activations layer by layer")
    files.append(C.save(fig, out_dir, "activation_std.png", dpi=dpi))

    # MNIST loss curves per initialisation (book 1: 784-100-100-100-100-10 ReLU, SGD 0.01).
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, seed=seed)
    steps = 150 if quick else 2000
    curves: dict[str, np.ndarray] = {}
    mnist: dict[str, dict[str, float]] = {}
    for label, (scheme, std) in CURVE_INITS.items():
        C.seed_all(seed)
        model = models.mlp([784, 100, 100, 100, 100, 10], "relu", scheme,
                           init_std=std if std is not None else 0.01)
        opt = optim.SGD(model.parameters(), lr=0.01)
        losses = C.train_steps(model, opt, xtr, ytr, steps, 128, seed=seed)
        curves[label] = losses
        mnist[label] = {"final_loss_mean_last_10pct":
                        float(np.nanmean(losses[-max(steps // 10, 1):])),
                        "test_accuracy": C.accuracy(model, xte, yte)}
    fig = C.figure((7.5, 4.8))
    ax = fig.add_subplot()
    window = 10 if quick else 30
    for (label, losses), color in zip(curves.items(), CURVE_COLORS):
        ax.plot(np.arange(1, steps + 1), C.smooth(losses, window), color=color,
                label=f"{label}: {mnist[label]['final_loss_mean_last_10pct']:.3f}")
    ax.set_xlabel("iteration (mini-batch of 128)")
    ax.set_ylabel(f"training loss (mean of {window})")
    ax.set_ylim(0, 2.5)
    ax.set_title(f"MNIST, 784-100-100-100-100-10 ReLU, SGD lr 0.01\n{data_name}")
    ax.legend(title="init: mean loss over the last 10%", fontsize=8, title_fontsize=8)
    ax.grid(alpha=0.3)
    files.append(C.save(fig, out_dir, "mnist_loss_by_init.png", dpi=dpi))

    relu = stats["relu"]
    he5, small5, he1 = relu["He"][-1]["std"], relu["std = 0.01"][-1]["std"], relu["He"][0]["std"]
    sig = stats["sigmoid"]
    results = {
        "experiment": "weight-init", "quick": quick, "seed": seed,
        "activation_stats": stats,
        "mnist": {"data": data_name, "iterations": steps, "inits": mnist},
        "claims": {
            "he_keeps_relu_std_in_band": bool(0.3 <= he5 / he1 <= 3.0),
            "he_relu_layer5_std": he5,
            "std001_relu_collapses": bool(small5 < 1e-3 * he5),
            "std001_relu_layer5_std": small5,
            "std1_sigmoid_saturates": bool(sig["std = 1"][-1]["frac_saturated"] > 0.5),
            "xavier_sigmoid_not_saturated": bool(
                sig["Xavier (Glorot)"][-1]["frac_saturated"] < 0.05),
            "he_trains_faster_than_std001":
                mnist["He"]["final_loss_mean_last_10pct"]
                < mnist["std = 0.01"]["final_loss_mean_last_10pct"],
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = []
    for act, by_init in results["activation_stats"].items():
        parts = [f"{label} {rows[-1]['std']:.2g}" for label, rows in by_init.items()]
        out.append(f"{act}: std of layer-5 activations: " + ", ".join(parts))
    m = results["mnist"]
    out.append(f"MNIST ({m['data']}, {m['iterations']} it.), final loss: " + ", ".join(
        f"{k} {v['final_loss_mean_last_10pct']:.3f}" for k, v in m["inits"].items()))
    out.append(C.claims_line({k: v for k, v in results["claims"].items()
                              if isinstance(v, bool)}))
    return out
