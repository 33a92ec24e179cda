"""Experiment 7: vanishing and exploding gradients.

Backprop multiplies the gradient by each layer's Jacobian on its way to the input. In a
deep sigmoid network every factor contains σ'(z) ≤ 1/4, so the gradient shrinks
geometrically toward the first layers, which then barely learn (vanishing gradients);
ReLU (derivative 1 where active) with He initialisation keeps the per-layer gradient norms
of the same order. With weights that are too large the product grows instead (exploding
gradients): one huge step throws the weights to where the loss overflows. Clipping the
global gradient norm bounds every step and tames it.

Networks: 8 hidden layers of 100 units on MNIST, SGD. Per-layer gradient norms come from
:class:`steepest.inspect.GradientNormRecorder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "per-layer gradient norms: vanishing (sigmoid vs ReLU), exploding tamed by clipping"

DEPTH = 8
CLIP = 20.0
EXPLODE_GAIN = 2.0


def _net(activation: str, init: str) -> Any:
    from .. import models

    return models.mlp([784] + [100] * DEPTH + [10], activation, init)


def _weight_norms(recorder: Any, model: Any) -> list[str]:
    """Names of the Linear layers, input side first."""
    return [n.rsplit(".", 1)[0] for n, _ in model.named_parameters() if n.endswith("weight")]


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from .. import optim
    from ..inspect import GradientNormRecorder
    from ..optim import grad_norm

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    dpi = 60 if quick else 100
    xtr, ytr, xte, yte, data_name = C.mnist_data(quick, seed=seed)
    steps = 150 if quick else 1500
    batch = 64
    files: list[str] = []

    # -- vanishing: sigmoid (Xavier) vs ReLU (He) ----------------------------------------
    nets = {"sigmoid (Xavier init)": ("sigmoid", "xavier"), "ReLU (He init)": ("relu", "he")}
    van: dict[str, dict[str, Any]] = {}
    recorders = {}
    for label, (act, init) in nets.items():
        C.seed_all(seed)
        model = _net(act, init)
        rec = GradientNormRecorder(model, per="parameter")
        opt = optim.SGD(model.parameters(), lr=0.1)
        losses = C.train_steps(model, opt, xtr, ytr, steps, batch, seed=seed,
                               before_step=lambda i, rec=rec, model=model: rec.record(model))
        layers = _weight_norms(rec, model)
        arr = np.array([rec.norms[f"{n}.weight"] for n in layers]).T  # (steps, layers)
        at_init = arr[0]
        van[label] = {
            "layers": layers,
            "grad_norm_at_init": at_init,
            "grad_norm_mean_over_training": np.nanmean(arr, axis=0),
            "first_over_last_at_init": float(at_init[0] / at_init[-1]),
            "losses": losses,
            "final_loss": float(np.nanmean(losses[-max(steps // 10, 1):])),
            "test_accuracy": C.accuracy(model, xte, yte),
        }
        recorders[label] = (arr, layers)

    colors = {"sigmoid (Xavier init)": "tab:purple", "ReLU (He init)": "tab:green"}
    fig = C.figure((12.0, 4.4), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.25)
    ax1, ax2 = fig.subplots(1, 2)
    for label, r in van.items():
        idx = np.arange(1, len(r["layers"]) + 1)
        ax1.semilogy(idx, r["grad_norm_at_init"], "-o", color=colors[label],
                     label=f"{label}: first/last = {r['first_over_last_at_init']:.1e}")
        ax2.plot(np.arange(1, steps + 1), C.smooth(r["losses"], 10), color=colors[label],
                 label=f"{label}: test acc {r['test_accuracy']:.2f}")
    ax1.set_xlabel("Linear layer (1 = next to the input)")
    ax1.set_ylabel("‖∂L/∂W‖ at initialisation (log)")
    ax1.set_title(f"Gradient norm per layer, {DEPTH} hidden layers × 100")
    ax1.set_xticks(np.arange(1, DEPTH + 2))
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3, which="both")
    ax2.set_xlabel(f"SGD step (lr 0.1, batch {batch})")
    ax2.set_ylabel("training loss (mean of 10)")
    ax2.set_title("Training: the sigmoid network's early layers barely learn")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    fig.suptitle(f"Vanishing gradients ({data_name})")
    files.append(C.save(fig, out_dir, "vanishing.png", dpi=dpi))

    fig = C.figure((12.0, 4.4), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.88, wspace=0.2)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (label, (arr, layers)) in zip(axes, recorders.items()):
        cmap = _cmap(len(layers))
        for j in range(len(layers)):
            ax.semilogy(np.arange(1, len(arr) + 1), C.smooth(arr[:, j], 5), color=cmap[j],
                        lw=1.0, label=f"layer {j + 1}")
        ax.set_title(label)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("‖∂L/∂W‖ per layer (mean of 5, log)")
    axes[1].legend(fontsize=7, ncol=3, title="layer (1 = input side)", title_fontsize=7)
    fig.suptitle("Per-layer gradient norms during training (GradientNormRecorder)")
    files.append(C.save(fig, out_dir, "grad_norms_training.png", dpi=dpi))

    # -- exploding: weights twice He's scale, with and without clipping -------------------
    explode: dict[str, dict[str, Any]] = {}
    for label, clip in (("no clipping", None), (f"clip_grad_norm_({CLIP:g})", CLIP)):
        C.seed_all(seed)
        model = _net("relu", "he")
        for n, p in model.named_parameters():
            if n.endswith("weight"):
                p.data *= EXPLODE_GAIN
        params = list(model.parameters())
        opt = optim.SGD(params, lr=0.01)
        norms: list[float] = []
        losses = C.train_steps(model, opt, xtr, ytr, steps, batch, seed=seed, clip=clip,
                               before_step=lambda i, params=params, norms=norms:
                               norms.append(grad_norm(params)))
        finite = np.isfinite(losses)
        explode[label] = {
            "clip": clip, "losses": losses, "raw_grad_norms": norms,
            "initial_loss": float(losses[0]),
            "diverged": bool(not finite.all()),
            "diverged_at_step": int(np.argmin(finite)) + 1 if not finite.all() else None,
            "final_loss": float(np.nanmean(losses[-max(steps // 10, 1):]))
            if finite[-1] else None,
            "test_accuracy": C.accuracy(model, xte, yte) if finite.all() else None,
            "max_raw_grad_norm": float(np.nanmax(norms)) if norms else None,
        }

    fig = C.figure((12.0, 4.4), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.25)
    ax1, ax2 = fig.subplots(1, 2)
    for (label, r), color in zip(explode.items(), ["tab:red", "tab:blue"]):
        losses = r["losses"]
        it = np.arange(1, len(losses) + 1)
        extra = (f"diverged (NaN) at step {r['diverged_at_step']}" if r["diverged"]
                 else f"final loss {r['final_loss']:.2f}")
        ax1.semilogy(it, losses, color=color, label=f"{label}: {extra}")
        if r["diverged"]:
            last = int(np.nanargmax(it * np.isfinite(losses)))
            ax1.plot(it[last], losses[last], "x", color=color, ms=12, mew=2)
        n = np.asarray(r["raw_grad_norms"])
        ax2.semilogy(np.arange(1, len(n) + 1), np.where(np.isfinite(n), n, np.nan),
                     color=color, label=label)
    ax2.axhline(CLIP, color="gray", ls="--", label=f"clip threshold {CLIP:g}")
    ax1.set_xlabel("SGD step (lr 0.01)")
    ax1.set_ylabel("training loss (log)")
    ax1.set_title(f"Weights {EXPLODE_GAIN:g}× He's scale, {DEPTH} hidden ReLU layers")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3, which="both")
    ax2.set_xlabel("SGD step")
    ax2.set_ylabel("global gradient norm before clipping (log)")
    ax2.set_title("Exploding gradients, and clipping")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, which="both")
    files.append(C.save(fig, out_dir, "exploding.png", dpi=dpi))

    sig = van["sigmoid (Xavier init)"]["first_over_last_at_init"]
    rel = van["ReLU (He init)"]["first_over_last_at_init"]
    unclipped, clipped = explode["no clipping"], explode[f"clip_grad_norm_({CLIP:g})"]
    results = {
        "experiment": "gradients", "quick": quick, "seed": seed, "data": data_name,
        "depth": DEPTH, "steps": steps,
        "vanishing": {k: {kk: vv for kk, vv in v.items() if kk != "losses"}
                      for k, v in van.items()},
        "exploding": {k: {kk: vv for kk, vv in v.items()
                          if kk not in ("losses", "raw_grad_norms")}
                      for k, v in explode.items()},
        "claims": {
            "sigmoid_gradients_vanish_toward_input": bool(sig < 0.05),
            "relu_he_gradients_same_order": bool(0.1 <= rel <= 10.0),
            "unclipped_diverges": unclipped["diverged"],
            "clipping_tames_it": bool(not clipped["diverged"]
                                      and clipped["final_loss"] < clipped["initial_loss"] / 10),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def _cmap(n: int) -> list[Any]:
    from matplotlib import colormaps

    cm = colormaps["viridis"]
    return [cm(i / max(n - 1, 1) * 0.9) for i in range(n)]


def summary(results: dict[str, Any]) -> list[str]:
    out = []
    for label, r in results["vanishing"].items():
        out.append(f"{label}: gradient norm layer 1 / layer {len(r['layers'])} at init "
                   f"= {r['first_over_last_at_init']:.2e}; test acc {r['test_accuracy']:.3f}")
    for label, r in results["exploding"].items():
        what = (f"diverged at step {r['diverged_at_step']}" if r["diverged"]
                else f"loss {r['initial_loss']:.1f} -> {r['final_loss']:.3f}, test acc "
                     f"{r['test_accuracy']:.3f}")
        out.append(f"exploding, {label}: {what} (max raw gradient norm "
                   f"{r['max_raw_grad_norm']:.3g})")
    out.append(C.claims_line(results["claims"]))
    return out
