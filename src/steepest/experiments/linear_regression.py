"""Experiment 1: linear regression on the notes' 7-point table.

Which line fits best? The notes compare three candidate lines by their mean squared error
(MSE); we compute the MSE of y = -0.11x + 2.5 and two other lines, draw the MSE as a
surface over (slope, intercept), and run plain gradient descent on it from a random start.
It ends at the closed-form least-squares solution (the normal equations), and its zigzag
path shows why an elongated valley makes gradient descent slow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "MSE of candidate lines on the notes' 7-point table, MSE surface, GD vs least squares"

# (label, slope, intercept): the notes' line, a nearly flat line and a steeper line drawn
# by eye through the points.
CANDIDATES = [
    ("y = -0.11x + 2.5 (the notes' line)", -0.11, 2.5),
    ("y = 0.05x + 1.8", 0.05, 1.8),
    ("y = 0.3x + 0.9", 0.3, 0.9),
]
NOTES_QUOTED = [0.17, 0.08, 0.02]


def mse(x: np.ndarray, y: np.ndarray, slope: Any, intercept: Any) -> Any:
    """Mean squared error of the line(s) ``slope·x + intercept`` (broadcasts over grids)."""
    slope = np.asarray(slope, dtype=np.float64)[..., None]
    intercept = np.asarray(intercept, dtype=np.float64)[..., None]
    return np.mean((slope * x + intercept - y) ** 2, axis=-1)


def gradient_descent(x: np.ndarray, y: np.ndarray, start: tuple[float, float], lr: float,
                     max_steps: int, tol: float, target: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent on the MSE with steepest's autodiff and ``optim.SGD``.

    Returns the path (steps+1, 2) of (slope, intercept) and the MSE at each point; stops
    once the distance to ``target`` is below ``tol``.
    """
    from .. import optim
    from ..tensor import Tensor

    w = Tensor(np.array(start[0]), requires_grad=True)
    b = Tensor(np.array(start[1]), requires_grad=True)
    xt, yt = Tensor(x), Tensor(y)
    opt = optim.SGD([w, b], lr=lr)
    path, losses = [], []
    for _ in range(max_steps + 1):
        loss = ((w * xt + b - yt) ** 2).mean()
        path.append((float(w.data), float(b.data)))
        losses.append(float(loss.data))
        if np.hypot(path[-1][0] - target[0], path[-1][1] - target[1]) < tol:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return np.array(path), np.array(losses)


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from ..data.datasets import notes_regression

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    xs, ys = notes_regression(dtype=np.float64)
    x, y = xs.ravel(), ys.ravel()

    # Closed form: the normal equations (AᵀA)θ = Aᵀy with A = [x, 1].
    A = np.stack([x, np.ones_like(x)], axis=1)
    theta = np.linalg.solve(A.T @ A, A.T @ y)
    ls_mse = float(mse(x, y, theta[0], theta[1]))

    lines = []
    for (label, a, b), quoted in zip(CANDIDATES, NOTES_QUOTED):
        m = float(mse(x, y, a, b))
        lines.append({"label": label, "slope": a, "intercept": b, "mse": m,
                      "half_mse": m / 2, "notes_quoted": quoted})

    # Gradient descent: the Hessian of the MSE is 2·AᵀA/n; steps must stay below 2/λmax.
    hess = 2.0 * A.T @ A / len(x)
    eig = np.linalg.eigvalsh(hess)
    lr = 0.06
    assert lr < 2.0 / eig[-1]
    rng = np.random.default_rng(seed)
    while True:  # a random start in the plotted window, not too close to the answer
        start = (float(rng.uniform(-0.6, 1.2)), float(rng.uniform(-2.5, 4.5)))
        if np.hypot(start[0] - theta[0], start[1] - theta[1]) > 1.5:
            break
    path, losses = gradient_descent(x, y, start, lr, max_steps=20000, tol=1e-4, target=theta)
    dist = np.hypot(path[:, 0] - theta[0], path[:, 1] - theta[1])
    steps_1e3 = int(np.argmax(dist < 1e-3)) if (dist < 1e-3).any() else None

    files = []
    # 1. data and lines
    fig = C.figure((6.4, 4.6))
    ax = fig.add_subplot()
    ax.scatter(x, y, color="black", zorder=5, label="data (7 points)")
    grid = np.linspace(2.0, 5.4, 50)
    for ln, color in zip(lines, ["tab:red", "tab:orange", "tab:green"]):
        ax.plot(grid, ln["slope"] * grid + ln["intercept"], color=color,
                label=f"{ln['label']}: MSE {ln['mse']:.3f}")
    ax.plot(grid, theta[0] * grid + theta[1], "k--",
            label=f"least squares y = {theta[0]:.3f}x + {theta[1]:.3f}: MSE {ls_mse:.4f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Candidate lines and their mean squared error")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    files.append(C.save(fig, out_dir, "lines.png"))

    # 2. MSE surface with the gradient-descent path
    n_grid = 80 if quick else 300
    w_lo, w_hi = min(path[:, 0].min(), -0.7), max(path[:, 0].max(), 1.3)
    b_lo, b_hi = min(path[:, 1].min(), -3.0), max(path[:, 1].max(), 5.0)
    pad_w, pad_b = 0.05 * (w_hi - w_lo), 0.05 * (b_hi - b_lo)
    ws = np.linspace(w_lo - pad_w, w_hi + pad_w, n_grid)
    bs = np.linspace(b_lo - pad_b, b_hi + pad_b, n_grid)
    W, B = np.meshgrid(ws, bs)
    Z = mse(x, y, W, B)
    levels = np.logspace(np.log10(ls_mse * 1.02), np.log10(Z.max()), 18)
    fig = C.figure((7.2, 5.4))
    ax = fig.add_subplot()
    cs = ax.contour(W, B, Z, levels=levels, cmap="viridis", linewidths=0.9)
    fig.colorbar(cs, ax=ax, label="MSE (log-spaced levels)", format="%.3g")
    ax.plot(path[:, 0], path[:, 1], "-", color="tab:red", lw=0.8, alpha=0.8,
            label=f"gradient descent, lr={lr} ({len(path) - 1} steps)")
    marks = np.unique(np.geomspace(1, len(path) - 1, 25).astype(int))
    ax.plot(path[marks, 0], path[marks, 1], ".", color="tab:red", ms=4,
            label="dots: log-spaced steps 1, 2, 4, ...")
    ax.plot(*start, "o", color="tab:red", ms=8, label=f"random start ({start[0]:.2f}, "
            f"{start[1]:.2f})")
    ax.plot(theta[0], theta[1], "*", color="black", ms=14,
            label=f"least squares ({theta[0]:.3f}, {theta[1]:.3f})")
    for ln, color in zip(lines, ["tab:red", "tab:orange", "tab:green"]):
        ax.plot(ln["slope"], ln["intercept"], "s", color=color, ms=7, mec="black")
    ax.set_xlabel("slope w")
    ax.set_ylabel("intercept b")
    ax.set_title("MSE(w, b) and the path of gradient descent\n(squares: the candidate lines)")
    ax.legend(fontsize=8, loc="upper right")
    files.append(C.save(fig, out_dir, "mse_surface.png"))

    # 3. convergence
    fig = C.figure((6.4, 4.2))
    ax = fig.add_subplot()
    it = np.arange(len(path))
    ax.semilogy(it, np.maximum(losses - ls_mse, 1e-16), label="MSE − least-squares MSE")
    ax.semilogy(it, dist, label="distance to the least-squares (w, b)")
    ax.axhline(1e-3, color="gray", ls=":", label="1e-3")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("gap (log scale)")
    ax.set_title(f"Convergence: condition number of the Hessian = {eig[-1] / eig[0]:.0f}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    files.append(C.save(fig, out_dir, "gd_convergence.png"))

    results = {
        "experiment": "linear-regression", "quick": quick, "seed": seed,
        "data": {"x": x, "y": y},
        "lines": lines,
        "least_squares": {"slope": theta[0], "intercept": theta[1], "mse": ls_mse},
        "gradient_descent": {
            "start": start, "lr": lr, "steps": len(path) - 1,
            "steps_to_1e-3": steps_1e3,
            "final": path[-1], "final_mse": losses[-1],
            "distance_to_least_squares": float(dist[-1]),
            "hessian_eigenvalues": eig, "condition_number": float(eig[-1] / eig[0]),
        },
        "claims": {"gd_reaches_least_squares_within_1e-3": bool(dist[-1] < 1e-3)},
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = [f"{ln['label']}: MSE {ln['mse']:.4f} (notes quote {ln['notes_quoted']})"
           for ln in results["lines"]]
    ls, gd = results["least_squares"], results["gradient_descent"]
    out.append(f"least squares: y = {ls['slope']:.4f}x + {ls['intercept']:.4f}, "
               f"MSE {ls['mse']:.4f}")
    out.append(f"gradient descent from ({gd['start'][0]:.2f}, {gd['start'][1]:.2f}), "
               f"lr {gd['lr']}: {gd['steps']} steps, distance to least squares "
               f"{gd['distance_to_least_squares']:.1e}")
    return out
