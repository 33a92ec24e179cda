"""What a small CNN learns on MNIST: first-layer filters, feature maps, receptive fields,
and what max pooling keeps.

A CNN (conv 8 5x5 → ReLU → pool 2 → conv 16 5x5 → ReLU → pool 2 → linear) is trained
briefly. Its first-layer filters turn from noise into stroke and edge detectors; one
digit's feature maps are shown layer by layer. The receptive field of a unit grows with
depth: a conv2 unit sees 5 + (5 − 1)·2 = 14 input pixels across (the pool in between
doubles the step), which the gradient of that unit with respect to the input shows
directly. Max pooling keeps the strongest response in each 2x2 window and drops where it
was: a one-pixel shift of the digit changes the pooled maps less than the conv maps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "A trained CNN's filters, feature maps, receptive fields and what pooling keeps"

#: receptive field (pixels across) after each layer: conv 5, pool 2, conv 5, pool 2
THEORY = {"conv1": 5, "pool1": 6, "conv2": 14, "pool2": 16}


def _model(seed: int) -> Any:
    from .. import nn

    C.seed_all(seed)
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 8, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 10))


def _maps(model: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs after conv1+ReLU, pool1, conv2+ReLU, pool2 for a batch of flat images."""
    from ..autograd import no_grad

    names = {2: "conv1", 3: "pool1", 5: "conv2", 6: "pool2"}
    out: dict[str, np.ndarray] = {}
    h: Any = x
    with no_grad():
        for i, m in enumerate(model):
            h = m(h)
            if i in names:
                out[names[i]] = np.asarray(h.data)
            if i == 6:
                break
    return out


def _effective_rf(model: Any, x: np.ndarray) -> tuple[np.ndarray, int]:
    """|d conv2-unit / d input| for the centre unit of conv2 and its support's width."""
    from .. import grad
    from ..tensor import Tensor

    xt = Tensor(x[:1].copy(), requires_grad=True)
    h: Any = xt
    for m in list(model)[:5]:
        h = m(h)
    c = h.shape[2] // 2
    (g,) = grad(h[0, 0, c, c], [xt])
    g = np.abs(g.data.reshape(28, 28))
    rows, cols = np.nonzero(g > 0)
    width = int(max(rows.max() - rows.min(), cols.max() - cols.min()) + 1) if rows.size else 0
    return g, width


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import optim

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xtr, ytr, xte, yte, source = C.mnist_data(quick, n_test=500 if quick else 2000, seed=seed)
    model = _model(seed)
    w0 = model[1].weight.data.copy()
    opt = optim.Adam(model.parameters(), lr=2e-3)
    C.train_steps(model, opt, xtr, ytr, 150 if quick else 1500, batch_size=64, seed=seed)
    model.eval()
    acc = C.accuracy(model, xte, yte)
    w1 = model[1].weight.data

    dpi = 60 if quick else 100
    fig = C.figure((9.0, 2.8))
    axes = fig.subplots(2, 8)
    lim = float(np.abs(w1).max())
    for j in range(8):
        for r, w in enumerate((w0, w1)):
            ax = axes[r, j]
            ax.imshow(w[j, 0], cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, j].set_title(f"filter {j}", fontsize=8)
    axes[0, 0].set_ylabel("init", fontsize=9)
    axes[1, 0].set_ylabel("trained", fontsize=9)
    fig.suptitle("First-layer 5x5 filters before and after training (red +, blue −)")
    files = [C.save(fig, out_dir, "filters.png", dpi=dpi)]

    digit = xte[:1]
    maps = _maps(model, digit)
    fig = C.figure((12.0, 6.4), layout=None)
    fig.subplots_adjust(left=0.08, right=0.99, top=0.9, bottom=0.02, hspace=0.35)
    grid = fig.subplots(5, 16)
    for ax in grid.ravel():
        ax.axis("off")
    grid[0, 0].imshow(digit.reshape(28, 28), cmap="gray_r")
    grid[0, 0].set_title(f"input (label {int(yte[0])})", fontsize=8, loc="left")
    for r, name in enumerate(("conv1", "pool1", "conv2", "pool2"), start=1):
        m = maps[name][0]
        for j in range(min(16, len(m))):
            grid[r, j].imshow(m[j], cmap="viridis")
        grid[r, 0].set_title(f"{name} {tuple(m.shape)}", fontsize=8, loc="left")
    fig.suptitle("One digit through the network: feature maps after each layer")
    files.append(C.save(fig, out_dir, "feature_maps.png", dpi=dpi))

    g, width = _effective_rf(model, digit)
    fig = C.figure((5.2, 4.6))
    ax = fig.add_subplot()
    ax.imshow(g, cmap="magma")
    c0 = 14 - THEORY["conv2"] // 2
    ax.add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
        (c0 - 0.5 - 1, c0 - 0.5 - 1), THEORY["conv2"], THEORY["conv2"], fill=False,
        color="cyan", lw=1.5, label=f"theory: {THEORY['conv2']}x{THEORY['conv2']}"))
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"|∂ conv2 unit / ∂ input|: support {width} px across")
    files.append(C.save(fig, out_dir, "receptive_field.png", dpi=dpi))

    # what pooling keeps: relative change of the maps when the digits move by one pixel
    xs = xte[:100 if quick else 500]
    shifted = np.roll(xs.reshape(-1, 28, 28), 1, axis=2).reshape(len(xs), -1)
    a, b = _maps(model, xs), _maps(model, shifted)

    def rel(name: str) -> float:
        return float(np.linalg.norm(a[name] - b[name]) / np.linalg.norm(a[name]))

    change = {name: rel(name) for name in ("conv1", "pool1", "conv2", "pool2")}
    fig = C.figure((6.0, 4.0))
    ax = fig.add_subplot()
    ax.bar(list(change), list(change.values()),
           color=["tab:blue", "tab:orange", "tab:blue", "tab:orange"])
    ax.set(ylabel="‖f(shifted) − f(x)‖ / ‖f(x)‖",
           title="A one-pixel shift: pooled maps change less")
    ax.grid(alpha=0.3, axis="y")
    files.append(C.save(fig, out_dir, "pooling_shift.png", dpi=dpi))

    kept = maps["pool1"][0].sum() / max(float(maps["conv1"][0].sum()), 1e-12) * 4
    results = {
        "experiment": "conv-features", "quick": quick, "seed": seed, "data": source,
        "test_accuracy": acc, "receptive_field_theory": THEORY,
        "receptive_field_conv2_measured": width, "shift_relative_change": change,
        "pool1_mean_over_conv1_mean": float(kept),
        "filter_change": float(np.abs(w1 - w0).mean() / np.abs(w0).mean()),
        "claims": {
            "network_learned": bool(acc > (0.8 if quick else 0.95)),
            "filters_moved_from_init": bool(np.abs(w1 - w0).mean() > 0.1 * np.abs(w0).mean()),
            "receptive_field_as_theory": bool(THEORY["conv1"] < width <= THEORY["conv2"]),
            "pooling_more_shift_tolerant": bool(change["pool1"] < change["conv1"]
                                                and change["pool2"] < change["conv2"]),
            "pooling_keeps_the_strong_responses": bool(kept > 1.0),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    ch = results["shift_relative_change"]
    return [
        f"{results['data']}: test accuracy {results['test_accuracy']:.3f}",
        f"  receptive field of a conv2 unit: {results['receptive_field_conv2_measured']} px "
        f"(theory {results['receptive_field_theory']['conv2']})",
        "  1-pixel shift, relative change: " + ", ".join(f"{k} {v:.2f}" for k, v in ch.items()),
        C.claims_line(results["claims"]),
    ]
