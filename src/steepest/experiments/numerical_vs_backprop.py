"""Experiment 8: numerical differentiation versus backpropagation.

The gradient of a loss with respect to P weights by central differences needs 2P forward
passes, each costing about P multiply-adds for an MLP: O(P²) in all. Backpropagation gets
all P partial derivatives for about the cost of two forward passes: O(P). That gap, the
notes' argument for why backprop made training practical, grows with the network. We time
both for MLPs of growing width and check that they agree (in float64; in float32 the
rounding error of the loss swamps the tiny differences).

For large networks the numerical gradient is timed on a random sample of weights and the
full time extrapolated (drawn with open markers), since evaluating it completely would
take hours.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "time and error of numerical gradients vs backprop as networks grow"


def _problem(width: int, seed: int, dtype: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    from .. import models

    C.seed_all(seed)
    model = models.mlp([20, width, width, 5], "tanh", "xavier", dtype=dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 20)).astype(dtype)
    y = rng.integers(0, 5, 32)
    return model, x, y


def _median_time(fn: Any, min_time: float = 0.05, max_reps: int = 200) -> float:
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < 3 or (time.perf_counter() < t_end and len(times) < max_reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def measure(width: int, seed: int, max_elements: int, dtype: Any = np.float64,
            eps: float = 1e-6) -> dict[str, Any]:
    """Backprop vs central differences for one network width."""
    from .. import functional as F
    from ..autograd import no_grad
    from ..inspect import numerical_gradient
    from ..tensor import Tensor

    model, x, y = _problem(width, seed, dtype)
    params = list(model.parameters())
    n_params = sum(p.data.size for p in params)
    xt = Tensor(x)

    def loss() -> Any:
        return F.cross_entropy(model(xt), y)

    def backprop() -> None:
        model.zero_grad()
        loss().backward()

    t_back = _median_time(backprop)
    backprop()
    g_back = [p.grad.data.astype(np.float64) for p in params]

    with no_grad():
        t_forward = _median_time(loss)

    # Which elements to difference: all, or a random sample spread over the tensors.
    rng = np.random.default_rng(seed)
    sizes = np.array([p.data.size for p in params])
    if n_params <= max_elements:
        elements = [list(np.ndindex(p.data.shape)) for p in params]
        n_eval = n_params
    else:
        flat = rng.choice(n_params, size=max_elements, replace=False)
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        elements = []
        for j, p in enumerate(params):
            mine = flat[(flat >= bounds[j]) & (flat < bounds[j + 1])] - bounds[j]
            elements.append([np.unravel_index(int(k), p.data.shape) for k in mine])
        n_eval = max_elements
    t0 = time.perf_counter()
    g_num = numerical_gradient(loss, params, eps=eps, elements=elements)
    t_num_eval = time.perf_counter() - t0
    t_num = t_num_eval * n_params / n_eval

    num = np.concatenate([g.ravel() for g in g_num])
    back = np.concatenate([g.ravel() for g in g_back])
    mask = np.isfinite(num)
    diff = np.abs(num[mask] - back[mask])
    # Relative error of the (evaluated part of the) gradient vector: ‖num - back‖ / ‖back‖.
    rel = float(np.linalg.norm(diff) / max(float(np.linalg.norm(back[mask])), 1e-300))
    return {"width": width, "n_params": int(n_params), "dtype": np.dtype(dtype).name,
            "backprop_s": t_back, "forward_s": t_forward,
            "numerical_s": t_num, "numerical_extrapolated": n_eval < n_params,
            "elements_evaluated": int(n_eval),
            "ratio": t_num / t_back,
            "max_abs_error": float(diff.max()) if diff.size else float("nan"),
            "rel_error": rel}


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    widths = [2, 4, 8, 16, 32] if quick else [2, 4, 8, 16, 32, 64, 128, 256, 512]
    max_elements = 300 if quick else 3000
    rows = [measure(w, seed, max_elements) for w in widths]
    f32 = [measure(w, seed, max_elements, dtype=np.float32, eps=1e-3)
           for w in widths[:3]]

    P = np.array([r["n_params"] for r in rows], dtype=float)
    tb = np.array([r["backprop_s"] for r in rows])
    tn = np.array([r["numerical_s"] for r in rows])
    ext = np.array([r["numerical_extrapolated"] for r in rows])
    slope_b = float(np.polyfit(np.log(P[-3:]), np.log(tb[-3:]), 1)[0])
    slope_n = float(np.polyfit(np.log(P[-3:]), np.log(tn[-3:]), 1)[0])

    fig = C.figure((12.0, 4.6), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86, wspace=0.25)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.loglog(P, tb, "-o", color="tab:green", label=f"backprop (slope {slope_b:.2f})")
    ax1.loglog(P, tn, "-", color="tab:red")
    ax1.loglog(P[~ext], tn[~ext], "o", color="tab:red",
               label=f"central differences (slope {slope_n:.2f})")
    if ext.any():
        ax1.loglog(P[ext], tn[ext], "o", mfc="white", color="tab:red",
                   label="central differences, extrapolated from a sample")
    for p, b, n in zip(P, tb, tn):
        ax1.annotate(f"×{n / b:.0f}", (p, n), textcoords="offset points", xytext=(-6, 6),
                     fontsize=7, color="tab:red")
    ax1.set_xlabel("number of weights P")
    ax1.set_ylabel("time for one full gradient (s)")
    ax1.set_title("Cost of the gradient: O(P) vs O(P²)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3, which="both")
    ax2.loglog(P, [r["rel_error"] for r in rows], "-o", color="tab:blue",
               label="float64, eps = 1e-6")
    ax2.loglog([r["n_params"] for r in f32], [r["rel_error"] for r in f32], "-s",
               color="tab:orange", label="float32, eps = 1e-3")
    ax2.set_xlabel("number of weights P")
    ax2.set_ylabel("‖numerical − backprop‖ / ‖backprop‖")
    ax2.set_title("Agreement (the difference is the error of the finite differences)",
                  fontsize=10)
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, which="both")
    fig.suptitle("Numerical differentiation vs backpropagation, MLP 20-w-w-5 (tanh), "
                 "batch of 32")
    files = [C.save(fig, out_dir, "time_and_error.png", dpi=60 if quick else 100)]

    results = {
        "experiment": "numerical-vs-backprop", "quick": quick, "seed": seed,
        "network": "20-w-w-5 tanh MLP, batch 32, cross-entropy",
        "float64": rows, "float32": f32,
        "loglog_slope_backprop": slope_b, "loglog_slope_numerical": slope_n,
        "claims": {
            "backprop_matches_numerical_float64": bool(
                max(r["rel_error"] for r in rows) < 1e-6),
            "ratio_grows_with_size": bool(rows[-1]["ratio"] > rows[0]["ratio"]),
            "largest_ratio": rows[-1]["ratio"],
            "numerical_scales_faster": bool(slope_n > slope_b + 0.5),
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = ["weights  backprop   numerical          ratio   relative error (float64)"]
    for r in results["float64"]:
        star = "*" if r["numerical_extrapolated"] else " "
        out.append(f"{r['n_params']:>7d}  {r['backprop_s'] * 1e3:7.3f} ms "
                   f"{r['numerical_s']:10.3f} s{star}  {r['ratio']:>9.0f}  "
                   f"{r['rel_error']:.1e}")
    out.append("(* extrapolated from a sample of weights); log-log slopes: backprop "
               f"{results['loglog_slope_backprop']:.2f}, numerical "
               f"{results['loglog_slope_numerical']:.2f}")
    return out
