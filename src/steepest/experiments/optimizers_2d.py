"""Experiment 2: optimisers racing on 2-D functions.

SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam and L-BFGS (steepest's own
optimiser classes, on a 2-element parameter) minimise four classic test functions: an
elongated bowl x²/20 + y² (book 1's figure 6-8, from (-7, 2)), Rosenbrock's banana
valley, Beale's function, and the saddle x² - y². Each first-order optimiser gets the
learning rate from a log-spaced grid that makes its loss fall fastest on that function
(mean log gap over the run), so the race compares methods, not one lucky setting. The
saddle has no minimum to tune for: there all use lr 0.01 (AdaDelta its default 1.0) and
we count the steps needed to escape. Also: the notes' step size 0.02 with momentum 0.99,
and book 1's own settings on the bowl.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = ("SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, L-BFGS racing on "
               "2-D functions")

OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta", "Adam",
              "L-BFGS"]
COLORS = dict(zip(OPTIMIZERS, ["tab:red", "tab:blue", "tab:cyan", "tab:green",
                               "tab:purple", "tab:brown", "tab:orange", "black"]))


def _bowl(x: Any, y: Any) -> Any:
    return x ** 2 / 20.0 + y ** 2


def _rosenbrock(x: Any, y: Any) -> Any:
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _beale(x: Any, y: Any) -> Any:
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
            + (2.625 - x + x * y ** 3) ** 2)


def _saddle(x: Any, y: Any) -> Any:
    return x ** 2 - y ** 2


FUNCTIONS: dict[str, dict[str, Any]] = {
    "bowl": dict(f=_bowl, title="elongated bowl  x²/20 + y²", start=(-7.0, 2.0),
                 minimum=(0.0, 0.0), fmin=0.0, xlim=(-10, 10), ylim=(-5, 5),
                 steps=60, quick_steps=30),
    "rosenbrock": dict(f=_rosenbrock, title="Rosenbrock  (1-x)² + 100(y-x²)²",
                       start=(-1.5, 2.0), minimum=(1.0, 1.0), fmin=0.0, xlim=(-2, 2),
                       ylim=(-1, 3), steps=500, quick_steps=80),
    "beale": dict(f=_beale, title="Beale", start=(1.0, 1.5), minimum=(3.0, 0.5), fmin=0.0,
                  xlim=(-0.5, 4.5), ylim=(-1.0, 2.0), steps=300, quick_steps=60),
    "saddle": dict(f=_saddle, title="saddle  x² - y²", start=(-2.0, 1e-3), minimum=None,
                   fmin=None, xlim=(-3, 3), ylim=(-3, 3), steps=300, quick_steps=150),
}

BOOK_BOWL_LRS = {"SGD": 0.95, "Momentum": 0.1, "AdaGrad": 1.5, "Adam": 0.3}
SADDLE_LR = 0.01


def _outside(spec: dict[str, Any], p: np.ndarray) -> bool:
    """Whether ``p`` left the plotted window. A run that jumps out counts as diverged,
    even if it would land well later: on this axis-aligned bowl, per-coordinate methods
    with a huge learning rate can bounce far out and back onto the minimum by luck, and
    the tuning would otherwise pick such settings."""
    (x0, x1), (y0, y1) = spec["xlim"], spec["ylim"]
    return not (x0 <= p[0] <= x1 and y0 <= p[1] <= y1)


def make_optimizer(name: str, params: list[Any], lr: float, momentum: float = 0.9) -> Any:
    from .. import optim

    if name == "SGD":
        return optim.SGD(params, lr=lr)
    if name == "Momentum":
        return optim.Momentum(params, lr=lr, momentum=momentum)
    if name == "Nesterov":
        return optim.Nesterov(params, lr=lr, momentum=momentum)
    if name == "AdaGrad":
        return optim.Adagrad(params, lr=lr)
    if name == "RMSprop":
        return optim.RMSprop(params, lr=lr)
    if name == "AdaDelta":
        return optim.Adadelta(params, lr=lr)
    if name == "Adam":
        return optim.Adam(params, lr=lr)
    if name == "L-BFGS":
        # One iteration per step() call, so that the path shows each iterate; max_eval must
        # be raised too (its default, max_iter * 5 // 4 = 1, leaves no evaluation for the
        # line search, and the point would never move; PyTorch behaves the same).
        return optim.LBFGS(params, lr=lr, max_iter=1, max_eval=25,
                           line_search_fn="strong_wolfe")
    raise ValueError(f"unknown optimizer {name!r}")


def trajectory(fname: str, opt_name: str, lr: float, steps: int, momentum: float = 0.9,
               start: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The path (≤ steps+1, 2) and f values of one optimiser on one function.

    Stops early if the point leaves the plotted window (see :func:`_outside`) or f becomes
    non-finite; then the last entry of f is ``inf`` (the point is kept, for drawing).
    """
    from ..tensor import Tensor

    spec = FUNCTIONS[fname]
    f = spec["f"]
    p = Tensor(np.array(start or spec["start"], dtype=np.float64), requires_grad=True)
    opt = make_optimizer(opt_name, [p], lr, momentum)

    def closure() -> Any:
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        return loss

    path = [p.data.copy()]
    vals = [float(f(*p.data))]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            try:
                if opt_name == "L-BFGS":
                    opt.step(closure)
                else:
                    closure()
                    opt.step()
            except (FloatingPointError, ArithmeticError, RuntimeError, ValueError):
                vals[-1] = math.inf
                break
            v = float(f(*p.data))
            if not (np.isfinite(p.data).all() and math.isfinite(v)) or _outside(spec, p.data):
                path.append(np.nan_to_num(p.data, nan=0.0, posinf=1e6, neginf=-1e6))
                vals.append(math.inf)
                break
            path.append(p.data.copy())
            vals.append(v)
    return np.array(path), np.array(vals)


def _score(vals: np.ndarray, fmin: float) -> float:
    """Mean log10 gap over the run (lower = faster); inf for a diverged run."""
    if not np.isfinite(vals).all():
        return math.inf
    return float(np.mean(np.log10(np.maximum(vals - fmin, 1e-12))))


def tune(fname: str, opt_name: str, lrs: np.ndarray, steps: int) -> tuple[float, dict]:
    fmin = FUNCTIONS[fname]["fmin"]
    scores = {}
    for lr in lrs:
        _, vals = trajectory(fname, opt_name, float(lr), steps)
        scores[float(lr)] = _score(vals, fmin)
    best = min(scores, key=lambda k: scores[k])
    return best, scores


def _escape_step(path: np.ndarray, threshold: float = 1.0) -> int | None:
    hit = np.nonzero(np.abs(path[:, 1]) >= threshold)[0]
    return int(hit[0]) if hit.size else None


def _contour(ax: Any, fname: str, n: int) -> None:
    spec = FUNCTIONS[fname]
    xs = np.linspace(*spec["xlim"], n)
    ys = np.linspace(*spec["ylim"], n)
    X, Y = np.meshgrid(xs, ys)
    Z = spec["f"](X, Y)
    if spec["fmin"] is None:
        ax.contour(X, Y, Z, levels=np.linspace(-9, 9, 19), cmap="RdBu_r", linewidths=0.8)
        ax.plot(0, 0, "x", color="black", ms=8, mew=2)
    else:
        z = Z - spec["fmin"]
        lo = max(float(z.min()), 1e-3 if fname != "bowl" else 1e-2)
        levels = np.logspace(np.log10(lo), np.log10(float(z.max())), 16)
        ax.contour(X, Y, z + spec["fmin"], levels=levels + spec["fmin"], cmap="viridis",
                   linewidths=0.7)
    if spec["minimum"] is not None:
        ax.plot(*spec["minimum"], "*", color="gold", mec="black", ms=12, zorder=6)
    ax.set_xlim(*spec["xlim"])
    ax.set_ylim(*spec["ylim"])


def _draw_path(ax: Any, path: np.ndarray, color: str, label: str | None = None,
               ms: float = 2.5) -> None:
    ax.plot(path[:, 0], path[:, 1], "-o", color=color, ms=ms, lw=1.0, label=label,
            zorder=5)
    ax.plot(path[0, 0], path[0, 1], "s", color="black", ms=5, zorder=6)


def _panel_grid(out_dir: Path, fname: str, runs: dict[str, dict], n_grid: int,
                dpi: int) -> str:
    spec = FUNCTIONS[fname]
    fig = C.figure((13.0, 6.4), layout=None)  # manual layout: constrained is slow here
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.08, top=0.88, wspace=0.08,
                        hspace=0.22)
    axes = fig.subplots(2, 4, sharex=True, sharey=True)
    for ax, name in zip(axes.ravel(), OPTIMIZERS):
        r = runs[name]
        _contour(ax, fname, n_grid)
        _draw_path(ax, r["path"], COLORS[name] if name != "L-BFGS" else "tab:gray")
        if spec["fmin"] is None:
            esc = r["escape_step"]
            what = f"escaped at step {esc}" if esc is not None else "did not escape"
        elif not math.isfinite(r["final_f"]):
            what = "diverged"
        else:
            what = f"f = {r['final_f']:.1e}"
        ax.set_title(f"{name} (lr {r['lr']:.3g}): {what}", fontsize=9)
    for ax in axes[1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("y")
    steps = len(runs["SGD"]["vals"]) - 1 if spec["fmin"] is not None else runs["steps"]
    marks = "square: start, star: minimum" if spec["minimum"] else "square: start, x: saddle point"
    fig.suptitle(f"{spec['title']}: {steps} steps from {spec['start']} ({marks})")
    return C.save(fig, out_dir, f"{fname}_trajectories.png", dpi=dpi)


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    lrs = np.logspace(-3, 2, 6 if quick else 16)
    n_grid = 60 if quick else 240
    dpi = 60 if quick else 100
    files: list[str] = []
    results: dict[str, Any] = {"experiment": "optimizers-2d", "quick": quick, "seed": seed,
                               "lr_grid": lrs, "functions": {}}
    all_runs: dict[str, dict[str, dict]] = {}
    for fname, spec in FUNCTIONS.items():
        steps = spec["quick_steps"] if quick else spec["steps"]
        runs: dict[str, Any] = {"steps": steps}
        for name in OPTIMIZERS:
            if name == "L-BFGS":
                lr = 1.0
            elif spec["fmin"] is None:
                lr = 1.0 if name == "AdaDelta" else SADDLE_LR
            else:
                lr, _ = tune(fname, name, lrs, steps)
            path, vals = trajectory(fname, name, lr, steps)
            r = {"lr": lr, "path": path, "vals": vals, "final_f": float(vals[-1]),
                 "steps_run": len(vals) - 1}
            if spec["minimum"] is not None:
                r["distance"] = float(np.hypot(*(path[-1] - np.array(spec["minimum"]))))
                gap = vals - spec["fmin"]
                hit = np.nonzero(gap < 1e-6)[0]
                r["steps_to_1e-6"] = int(hit[0]) if hit.size else None
            else:
                r["escape_step"] = _escape_step(path)
            runs[name] = r
        all_runs[fname] = runs
        files.append(_panel_grid(out_dir, fname, runs, n_grid, dpi))
        results["functions"][fname] = {
            "title": spec["title"], "start": spec["start"], "minimum": spec["minimum"],
            "steps": steps,
            "optimizers": {n: {k: v for k, v in runs[n].items() if k not in ("path", "vals")}
                           for n in OPTIMIZERS},
        }

    # The race: f - f* against the step, one panel per function.
    fig = C.figure((12.0, 8.0), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.07, top=0.92, wspace=0.22,
                        hspace=0.3)
    axes = fig.subplots(2, 2)
    for ax, (fname, runs) in zip(axes.ravel(), all_runs.items()):
        spec = FUNCTIONS[fname]
        for name in OPTIMIZERS:
            v = runs[name]["vals"]
            if spec["fmin"] is None:
                ax.plot(np.arange(len(v)), v, color=COLORS[name], label=name)
            else:
                ax.semilogy(np.arange(len(v)), np.maximum(v - spec["fmin"], 1e-16),
                            color=COLORS[name], label=f"{name} (lr {runs[name]['lr']:.3g})")
        ax.set_title(spec["title"], fontsize=10)
        ax.set_xlabel("step (L-BFGS: iteration)")
        if spec["fmin"] is None:
            ax.set_ylabel("f(x, y)")
            ax.set_ylim(-10, 5)
        else:
            ax.set_ylabel("f − f* (log scale)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle("The race: loss against steps, each optimiser at its best learning rate")
    files.append(C.save(fig, out_dir, "race.png", dpi=dpi))

    # Book 1's settings on the bowl (its figure 6-8), 30 steps.
    fig = C.figure((10.0, 7.0), layout=None)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.9, wspace=0.08,
                        hspace=0.2)
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    book = {}
    for ax, (name, lr) in zip(axes.ravel(), BOOK_BOWL_LRS.items()):
        path, vals = trajectory("bowl", name, lr, 30)
        book[name] = {"lr": lr, "final_f": float(vals[-1]), "final": path[-1]}
        _contour(ax, "bowl", n_grid)
        _draw_path(ax, path, COLORS[name])
        ax.set_title(f"{name} (lr {lr}): f = {vals[-1]:.2g} after 30 steps", fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("y")
    fig.suptitle("Book 1's settings on x²/20 + y² from (-7, 2)")
    files.append(C.save(fig, out_dir, "bowl_book_settings.png", dpi=dpi))
    results["bowl_book_settings"] = book

    # The notes' example: step size 0.02 with momentum 0.99 (vs 0.9 and none).
    steps = 150 if quick else 300
    heavy = {}
    fig = C.figure((12.0, 4.6), layout=None)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.2)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.4, 1])
    _contour(ax1, "bowl", n_grid)
    for label, name, mom, color in [("SGD", "SGD", 0.0, "tab:red"),
                                    ("momentum 0.9", "Momentum", 0.9, "tab:blue"),
                                    ("momentum 0.99", "Momentum", 0.99, "tab:purple")]:
        path, vals = trajectory("bowl", name, 0.02, steps, momentum=mom)
        signs = np.sign(path[:, 0])
        crossings = int(np.sum(signs[1:] * signs[:-1] < 0))
        heavy[label] = {"lr": 0.02, "momentum": mom, "final_f": float(vals[-1]),
                        "distance": float(np.hypot(*path[-1])),
                        "x_sign_changes": crossings,
                        "max_overshoot_x": float(max(path[:, 0].max(), 0.0))}
        ax1.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.0,
                 label=f"{label}: {crossings} crossings of x = 0")
        ax2.semilogy(np.arange(len(vals)), np.maximum(vals, 1e-16), color=color, label=label)
    ax1.plot(-7, 2, "s", color="black")
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_title(f"lr 0.02 on x²/20 + y², {steps} steps")
    ax1.legend(fontsize=8, loc="lower right")
    ax2.set_xlabel("step")
    ax2.set_ylabel("f (log scale)")
    ax2.set_title("heavy momentum overshoots, oscillates")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3)
    files.append(C.save(fig, out_dir, "momentum_0.99.png", dpi=dpi))
    results["momentum_0.99"] = heavy

    files.append(_gif(out_dir, all_runs["bowl"], n_grid=100 if quick else 160,
                      frames=15 if quick else 45, dpi=60 if quick else 90))

    bowl = results["functions"]["bowl"]["optimizers"]
    rosen = results["functions"]["rosenbrock"]["optimizers"]
    saddle = results["functions"]["saddle"]["optimizers"]
    esc = {n: (saddle[n]["escape_step"] if saddle[n]["escape_step"] is not None else 10 ** 9)
           for n in OPTIMIZERS}
    results["claims"] = {
        "bowl_momentum_and_adam_beat_sgd": bool(
            bowl["Momentum"]["final_f"] < bowl["SGD"]["final_f"]
            and bowl["Adam"]["final_f"] < bowl["SGD"]["final_f"]),
        "lbfgs_solves_rosenbrock": bool(rosen["L-BFGS"]["distance"] < 1e-3),
        "lbfgs_fewer_iterations_than_sgd_on_rosenbrock": bool(
            rosen["L-BFGS"]["final_f"] < rosen["SGD"]["final_f"]),
        "adaptive_escape_saddle_before_sgd": bool(
            esc["Adam"] < esc["SGD"] and esc["RMSprop"] < esc["SGD"]),
        "momentum_0.99_overshoots_more_than_0.9": bool(
            heavy["momentum 0.99"]["x_sign_changes"] > heavy["momentum 0.9"]["x_sign_changes"]),
    }
    results["files"] = files
    results["elapsed_s"] = watch.elapsed()
    return C.write_results(out_dir, results)


def _gif(out_dir: Path, runs: dict[str, Any], n_grid: int, frames: int, dpi: int = 90) -> str:
    """Animated race on the bowl, kept small (about 100-200 KB).

    The contour background is drawn once and each frame only redraws the paths (blitting
    on the Agg canvas), then Pillow writes the frames as one palette GIF; redrawing the
    whole figure per frame (matplotlib's PillowWriter) is about 20 times slower.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig = C.figure((5.6, 3.6), layout=None)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.09, 0.13, 0.62, 0.77))
    _contour(ax, "bowl", n_grid)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    lines = {}
    for name in OPTIMIZERS:
        (ln,) = ax.plot([], [], "-o", color=COLORS[name], ms=2, lw=1.0, animated=True,
                        label=f"{name} ({runs[name]['lr']:.3g})")
        lines[name] = ln
    fig.legend(handles=list(lines.values()), loc="center right", fontsize=7,
               title="optimiser (lr)", title_fontsize=7)
    title = fig.text(0.4, 0.94, "", ha="center", fontsize=9, animated=True)
    fig.set_dpi(dpi)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    n_steps = max(len(runs[n]["path"]) for n in OPTIMIZERS)
    shown = np.unique(np.linspace(1, n_steps, frames).astype(int))
    images = []
    for k in shown:
        canvas.restore_region(background)
        for name, ln in lines.items():
            p = runs[name]["path"][:k]
            ln.set_data(p[:, 0], p[:, 1])
            ax.draw_artist(ln)
        title.set_text(f"race on x²/20 + y²: step {k - 1}")
        fig.draw_artist(title)
        canvas.blit(fig.bbox)
        rgba = np.asarray(canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()).quantize(colors=64))
    path = Path(out_dir) / "race_bowl.gif"
    durations = [150] * (len(images) - 1) + [1500]  # hold the last frame
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations,
                   loop=0, optimize=True)
    return path.name


def summary(results: dict[str, Any]) -> list[str]:
    out = []
    for fname, fr in results["functions"].items():
        parts = []
        for n, r in fr["optimizers"].items():
            if fr["minimum"] is None:
                parts.append(f"{n} {r['escape_step']}")
            else:
                v = r["final_f"]
                parts.append(f"{n} {v:.1e}" if v is not None else f"{n} diverged")
        what = "escape step" if fr["minimum"] is None else f"f after {fr['steps']} steps"
        out.append(f"{fname} ({what}): " + ", ".join(parts))
    out.append(C.claims_line(results["claims"]))
    return out
