"""Experiment 10: slices of a trained network's loss landscape.

Train an MLP on MNIST, then evaluate the loss at θ* + α·d (1-D) and θ* + α·d₁ + β·d₂ (2-D)
for random directions d, each row of every weight matrix rescaled to the norm of the same
row of θ* ("filter normalisation", Li et al. 2018), so α = 1 is a perturbation as large as
the weights themselves. Also the straight line from the initial to the trained weights
(Goodfellow et al. 2015): often the loss falls monotonically along it. The trained weights
sit at the bottom of a basin: the loss rises in every random direction, slowly at first
(a flat region) and then steeply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "1-D and 2-D slices of a trained net's loss along random normalised directions"


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import models, optim
    from ..inspect import (
        direction_between,
        evaluate_loss,
        loss_along,
        loss_surface,
        random_direction,
    )

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    n_train = 1000 if quick else 10000
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, n_train=n_train, seed=seed)
    sizes = [784, 32, 10] if quick else [784, 100, 100, 10]
    C.seed_all(seed)
    model = models.mlp(sizes, "relu", "he")
    init_state = model.state_dict()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    epochs = 10 if quick else 15
    steps = epochs * (n_train // 100)
    C.train_steps(model, opt, xtr, ytr, steps, 100, seed=seed)

    n_eval = 500 if quick else 2000
    xe, ye = xtr[:n_eval], ytr[:n_eval]
    xt, yt = xte[:n_eval], yte[:n_eval]
    base_train = evaluate_loss(model, "cross_entropy", xe, ye)
    base_test = evaluate_loss(model, "cross_entropy", xt, yt)

    n1 = 21 if quick else 61
    alphas = np.linspace(-1.0, 1.0, n1)
    slices = []
    for k in range(3):
        d = random_direction(model, seed=seed + k)
        slices.append({"direction_seed": seed + k,
                       "train": loss_along(model, "cross_entropy", xe, ye, d, alphas),
                       "test": loss_along(model, "cross_entropy", xt, yt, d, alphas)})
    to_init = direction_between(model, init_state)
    betas_line = np.linspace(-0.25, 1.25, n1)
    interp = loss_along(model, "cross_entropy", xe, ye, to_init, betas_line)

    n2 = 9 if quick else 31
    grid = np.linspace(-1.0, 1.0, n2)
    d1 = random_direction(model, seed=seed + 100)
    d2 = random_direction(model, seed=seed + 101)
    Z = loss_surface(model, "cross_entropy", xe[:n_eval // 2], ye[:n_eval // 2], d1, d2,
                     grid, grid)

    dpi = 60 if quick else 100
    files = []
    fig = C.figure((12.0, 4.6), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.22)
    ax1, ax2 = fig.subplots(1, 2)
    for k, (s, color) in enumerate(zip(slices, ["tab:blue", "tab:orange", "tab:green"])):
        ax1.plot(alphas, s["train"], "-", color=color, label=f"direction {k + 1}: train")
        ax1.plot(alphas, s["test"], "--", color=color, alpha=0.7, label=f"direction {k + 1}: test")
    ax1.axvline(0, color="gray", lw=0.8)
    ax1.set_yscale("log")
    ax1.set_xlabel("α (step along a filter-normalised random direction)")
    ax1.set_ylabel("cross-entropy loss (log)")
    ax1.set_title("1-D slices through the trained weights (α = 0)")
    ax1.legend(fontsize=7, ncol=2)
    ax1.grid(alpha=0.3, which="both")
    ax2.plot(betas_line, interp, color="tab:purple")
    ax2.axvline(0, color="gray", lw=0.8)
    ax2.axvline(1, color="gray", lw=0.8)
    ax2.annotate("trained", (0, interp[np.argmin(np.abs(betas_line))]),
                 textcoords="offset points", xytext=(5, 10), fontsize=9)
    ax2.annotate("initial", (1, interp[np.argmin(np.abs(betas_line - 1))]),
                 textcoords="offset points", xytext=(-45, 10), fontsize=9)
    ax2.set_xlabel("t: θ* + t·(θ_init − θ*)")
    ax2.set_ylabel("training loss")
    ax2.set_title("Straight line from the trained (t=0) to the initial weights (t=1)")
    ax2.grid(alpha=0.3)
    fig.suptitle(f"Loss landscape of a {'-'.join(map(str, sizes))} ReLU MLP trained with Adam "
                 f"({data_name.split(' ')[0]}, {n_train} images)")
    files.append(C.save(fig, out_dir, "slices_1d.png", dpi=dpi))

    fig = C.figure((11.0, 4.8), layout=None)
    fig.subplots_adjust(left=0.06, right=0.97, bottom=0.1, top=0.88, wspace=0.15)
    ax1 = fig.add_subplot(1, 2, 1)
    A, B = np.meshgrid(grid, grid)
    levels = np.geomspace(Z.min(), Z.max(), 20)
    cs = ax1.contour(A, B, Z, levels=levels, cmap="viridis", linewidths=0.9)
    ax1.clabel(cs, cs.levels[::3], fmt="%.2g", fontsize=7)
    ax1.plot(0, 0, "*", color="tab:red", ms=14, mec="black", label="trained weights")
    ax1.set_xlabel("α (direction 1)")
    ax1.set_ylabel("β (direction 2)")
    ax1.set_title("2-D slice: log-spaced loss contours")
    ax1.legend(fontsize=8, loc="upper right")
    ax1.set_aspect("equal")
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    ax3.plot_surface(A, B, np.log10(Z), cmap="viridis", linewidth=0, antialiased=True)
    ax3.set_xlabel("α")
    ax3.set_ylabel("β")
    ax3.set_zlabel("log10 loss")
    ax3.set_title("the same slice as a surface")
    fig.suptitle("Loss around the trained weights along two random filter-normalised "
                 "directions")
    files.append(C.save(fig, out_dir, "surface_2d.png", dpi=dpi))

    centre = n1 // 2
    at_zero = [float(s["train"][centre]) for s in slices]
    mins = [float(np.min(s["train"])) for s in slices]
    argmins = [float(alphas[int(np.argmin(s["train"]))]) for s in slices]
    ends = [float(max(s["train"][0], s["train"][-1])) for s in slices]
    diffs = np.diff(interp[(betas_line >= 0) & (betas_line <= 1)])
    results = {
        "experiment": "loss-landscape", "quick": quick, "seed": seed, "data": data_name,
        "network": sizes, "train_steps": steps,
        "loss_at_trained": {"train": base_train, "test": base_test},
        "alphas": alphas,
        "slices_1d": slices,
        "interpolation": {"t": betas_line, "loss": interp,
                          "monotone_from_init": bool(np.all(diffs >= -1e-6))},
        "surface_2d": {"grid": grid, "loss": Z, "min": float(Z.min()),
                       "at_centre": float(Z[n2 // 2, n2 // 2])},
        "slice_minima": {"alpha": argmins, "loss": mins},
        "claims": {
            # Training stops short of the exact minimum (mini-batch noise), so the lowest
            # point of a slice may sit a hair away from α = 0, a few percent lower.
            "trained_point_is_near_minimum_of_1d_slices": bool(
                all(abs(a) <= 0.1 and z <= 1.05 * m for a, z, m in zip(argmins, at_zero, mins))),
            "loss_rises_at_alpha_1": bool(all(e > 2 * z for e, z in zip(ends, at_zero))),
            "centre_is_near_minimum_of_2d_slice": bool(
                Z[n2 // 2, n2 // 2] <= 1.05 * Z.min()),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    s = results["slices_1d"]
    a = np.asarray(results["alphas"])
    i1 = int(np.argmin(np.abs(a - 1.0)))
    i05 = int(np.argmin(np.abs(a - 0.5)))
    out = [f"trained: train loss {results['loss_at_trained']['train']:.4f}, test loss "
           f"{results['loss_at_trained']['test']:.4f}"]
    for k, sl in enumerate(s):
        out.append(f"direction {k + 1}: loss at α=0.5 {sl['train'][i05]:.3f}, at α=1 "
                   f"{sl['train'][i1]:.3f}")
    out.append(f"loss falls monotonically from init to trained: "
               f"{results['interpolation']['monotone_from_init']}")
    out.append(C.claims_line(results["claims"]))
    return out
