"""Backpropagation step by step: what the backward walk does at every node of a small graph.

:func:`backprop_trace` walks the graph behind a scalar (a loss) in exactly the order
``backward()`` does (nodes by decreasing generation), and records for every node the
forward value and, when the walk reaches it, the incoming gradient ∂L/∂y, the local
derivative ∂y/∂xᵢ of the op (a number for scalars, a Jacobian for small arrays) and the
outgoing gradients ∂L/∂xᵢ = ∂L/∂y · ∂y/∂xᵢ. A tensor used by two ops is reached by two
paths: its gradient is the *sum* of what both send, and the trace shows each addition.

The trace renders as a text table (:meth:`BackpropTrace.table`), as one picture per step
(:meth:`BackpropTrace.frames`, matplotlib; SVG as well as PNG) and as an animated GIF
(:meth:`BackpropTrace.gif`, needs Pillow). :meth:`BackpropTrace.to_dot` gives the Graphviz
text of a step; :meth:`BackpropTrace.frames` renders it with Graphviz when ``dot`` is
installed (matplotlib draws the frames otherwise, and always for the GIF).

The trace does not touch any ``.grad`` and does not free the graph.
"""

from __future__ import annotations

import heapq
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..ops.shape import sum_to
from ..tensor import Tensor
from . import _plot
from .graph import _INSTALL_HELP, GraphvizNotFoundError, _op_label

__all__ = ["BackpropTrace", "backprop_trace"]

_JACOBIAN_LIMIT = 4096  # entries; larger local derivatives are not formed


def _fmt(a: Any, digits: int = 4) -> str:
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.size == 1:
        return f"{float(a.reshape(-1)[0]):.{digits}g}"
    if a.size <= 8:
        body = np.array2string(a, precision=3, suppress_small=True, separator=", ",
                               max_line_width=60)
        return body.replace("\n", "")
    return f"array{a.shape}"


def _labelled(name: str, value: Any) -> str:
    text = _fmt(value, 3)
    return f"{name} = {text}" if len(text) <= 8 else f"{name} =\n{text}"


@dataclass
class Step:
    """One node of the backward walk."""

    index: int
    op: str
    output: str
    incoming: np.ndarray
    inputs: list[str]
    local: list[np.ndarray | None]
    outgoing: list[np.ndarray | None]
    #: per input: (gradient before this step, gradient after) when it had one already
    accumulated: list[tuple[np.ndarray, np.ndarray] | None] = field(default_factory=list)


@dataclass
class BackpropTrace:
    """Forward values and the backward steps of a small graph (see the module docs)."""

    labels: dict[int, str]
    values: dict[str, np.ndarray]
    kinds: dict[str, str]  # 'input', 'parameter', 'constant', 'intermediate', 'output'
    ops: list[dict[str, Any]]  # forward order: {"op", "inputs", "output", "generation"}
    steps: list[Step]
    grads: dict[str, np.ndarray]  # final gradients of every tensor that got one

    # -- text -----------------------------------------------------------------------------
    def table(self) -> str:
        """The walk as a Markdown table: one row per input of every visited node."""
        rows = ["| step | node | ∂L/∂(output) in | input | local ∂out/∂in | ∂L/∂(input) out "
                "| accumulated |", "|---|---|---|---|---|---|---|"]
        for s in self.steps:
            for i, name in enumerate(s.inputs):
                acc = s.accumulated[i]
                acc_text = (f"{_fmt(acc[0])} + {_fmt(s.outgoing[i])} = {_fmt(acc[1])}"
                            if acc is not None else "")
                first = i == 0
                rows.append(
                    f"| {s.index if first else ''} | {f'{s.op} → {s.output}' if first else ''} "
                    f"| {_fmt(s.incoming) if first else ''} | {name} | {_fmt(s.local[i])} | "
                    f"{_fmt(s.outgoing[i])} | {acc_text} |")
        return "\n".join(rows)

    def forward_table(self) -> str:
        rows = ["| node | kind | value |", "|---|---|---|"]
        for name, v in self.values.items():
            rows.append(f"| {name} | {self.kinds[name]} | {_fmt(v)} |")
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (arrays as nested lists)."""
        def arr(a: Any) -> Any:
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        return {
            "forward": [{"node": n, "kind": self.kinds[n], "value": arr(v)}
                        for n, v in self.values.items()],
            "ops": self.ops,
            "backward": [{
                "step": s.index, "op": s.op, "output": s.output, "incoming": arr(s.incoming),
                "inputs": [{"node": n, "local": arr(s.local[i]), "outgoing": arr(s.outgoing[i]),
                            "accumulated": None if s.accumulated[i] is None else
                            {"before": arr(s.accumulated[i][0]),
                             "after": arr(s.accumulated[i][1])}}
                           for i, n in enumerate(s.inputs)]} for s in self.steps],
            "grads": {n: arr(g) for n, g in self.grads.items()},
        }

    # -- pictures -------------------------------------------------------------------------
    def _layout(self) -> tuple[dict[str, tuple[float, float]], dict[int, tuple[float, float]]]:
        """Columns by depth (tensors and ops alternate), rows spread evenly per column."""
        depth: dict[str, int] = {n: 0 for n in self.values}
        for op in self.ops:
            d = max((depth[i] for i in op["inputs"]), default=0) + 1
            op["_depth"] = d
            depth[op["output"]] = d + 1
        # a leaf is drawn just before the first op that uses it (short edges)
        for n in depth:
            if self.kinds[n] not in ("intermediate", "output"):
                depth[n] = min((op["_depth"] for op in self.ops if n in op["inputs"]),
                               default=1) - 1
        columns: dict[int, list[Any]] = {}
        for n, d in depth.items():
            columns.setdefault(d, []).append(("t", n))
        for k, op in enumerate(self.ops):
            columns.setdefault(op["_depth"], []).append(("f", k))
        tpos: dict[str, tuple[float, float]] = {}
        fpos: dict[int, tuple[float, float]] = {}
        for d, items in columns.items():
            n = len(items)
            for j, (kind, key) in enumerate(items):
                y = (n - 1) / 2 - j
                if kind == "t":
                    tpos[key] = (float(d), float(y))
                else:
                    fpos[key] = (float(d), float(y))
        return tpos, fpos

    def _received(self, k: int) -> dict[str, np.ndarray]:
        """The gradient each value holds after backward step ``k`` (accumulated where
        several paths met)."""
        got: dict[str, np.ndarray] = {}
        for s in self.steps[:k]:
            for i, n in enumerate(s.inputs):
                if s.outgoing[i] is not None:
                    got[n] = s.accumulated[i][1] if s.accumulated[i] is not None else \
                        s.outgoing[i]
        return got

    def _draw(self, k: int, fig: Any) -> None:
        """Frame ``k``: 0 is the forward pass, k >= 1 the state after backward step k."""
        tpos, fpos = self._layout()
        ax = fig.add_axes((0.01, 0.16, 0.98, 0.74))
        ax.set_axis_off()
        got = self._received(k)
        if k >= 1 and self.steps:
            got.setdefault(self.steps[0].output, self.steps[0].incoming)
        current = self.steps[k - 1] if 1 <= k <= len(self.steps) else None
        cur_op = None
        if current is not None:
            cur_op = next(j for j, op in enumerate(self.ops) if op["output"] == current.output)
        for j, op in enumerate(self.ops):
            fx, fy = fpos[j]
            active = j == cur_op
            for i, n in enumerate(op["inputs"]):
                tx, ty = tpos[n]
                ax.annotate("", xy=(fx - 0.18, fy), xytext=(tx + 0.25, ty),
                            arrowprops={"arrowstyle": "->", "lw": 2.0 if active else 1.0,
                                        "color": "tab:red" if active else "#777777"})
                if active and current is not None and current.outgoing[i] is not None:
                    ax.text((fx + tx) / 2, (fy + ty) / 2 + 0.12,
                            f"∂L/∂{n} += {_fmt(current.outgoing[i], 3)}\n"
                            f"(local {_fmt(current.local[i], 3)})", color="tab:red",
                            fontsize=7, ha="center", va="bottom")
            ox, oy = tpos[op["output"]]
            ax.annotate("", xy=(ox - 0.25, oy), xytext=(fx + 0.18, fy),
                        arrowprops={"arrowstyle": "->", "lw": 2.0 if active else 1.0,
                                    "color": "tab:red" if active else "#777777"})
            ax.text(fx, fy, op["label"], ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round", "fc": "#fdd0a2" if not active else "#fc8d59",
                          "ec": "k"})
        colours = {"input": "#eeeeee", "constant": "#eeeeee", "parameter": "#c6dbef",
                   "intermediate": "#ffffff", "output": "#c7e9c0"}
        for n, (x, y) in tpos.items():
            text = _labelled(n, self.values[n])
            if n in got:
                text += "\n" + _labelled(f"∂L/∂{n}", got[n])
            hot = current is not None and (n == current.output or n in current.inputs)
            ax.text(x, y, text, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "ellipse", "fc": colours[self.kinds[n]],
                          "ec": "tab:red" if hot else "k", "lw": 2 if hot else 1})
        xs = [p[0] for p in [*tpos.values(), *fpos.values()]]
        ys = [p[1] for p in [*tpos.values(), *fpos.values()]]
        ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
        ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
        if current is None:
            title = "forward pass: every node's value"
            note = "next: the backward walk starts at the output with ∂L/∂L = 1"
        else:
            title = (f"backward step {k}/{len(self.steps)}: node {current.op} → "
                     f"{current.output}, incoming ∂L/∂{current.output} = "
                     f"{_fmt(current.incoming, 3)}")
            acc = [f"{n}: {_fmt(a[0], 3)} + {_fmt(current.outgoing[i], 3)} = "
                   f"{_fmt(a[1], 3)}" for i, (n, a) in enumerate(
                       zip(current.inputs, current.accumulated)) if a is not None]
            note = ("accumulation (reached by a second path): " + "; ".join(acc)) if acc \
                else "outgoing = incoming × local derivative (chain rule)"
        fig.text(0.5, 0.95, title, ha="center", fontsize=9)
        fig.text(0.5, 0.05, note, ha="center", fontsize=8,
                 color="tab:purple" if "accumulation" in note else "k")

    def frame_count(self) -> int:
        return len(self.steps) + 1

    def figure(self, k: int, figsize: tuple[float, float] | None = None) -> Any:
        """Frame ``k`` as a matplotlib Figure (0: forward values; k: after step k).

        The default size grows with the graph (about an inch per column of nodes)."""
        if not 0 <= k <= len(self.steps):
            raise ValueError(f"BackpropTrace.figure: frame must be in 0..{len(self.steps)}, "
                             f"got {k}")
        if figsize is None:
            tpos, fpos = self._layout()
            pts = [*tpos.values(), *fpos.values()]
            cols = max(p[0] for p in pts) - min(p[0] for p in pts) + 1
            rows = max(p[1] for p in pts) - min(p[1] for p in pts) + 1
            figsize = (max(8.0, 1.05 * cols), max(4.5, 1.4 * rows + 1.5))
        fig = _plot.figure(figsize, layout=None)
        self._draw(k, fig)
        return fig

    def to_dot(self, k: int) -> str:
        """Graphviz DOT text of frame ``k`` (same content as the matplotlib frame)."""
        got = self._received(k)
        current = self.steps[k - 1] if 1 <= k <= len(self.steps) else None
        lines = ["digraph backprop {", "  rankdir=LR;", '  node [fontname="Helvetica", '
                 'fontsize=10];']
        for n, v in self.values.items():
            label = f"{n} = {_fmt(v, 3)}" + (f"\\n∂L/∂{n} = {_fmt(got[n], 3)}" if n in got
                                               else "")
            hot = current is not None and (n == current.output or n in current.inputs)
            lines.append(f'  "t_{n}" [shape=ellipse, label="{label}"'
                         f'{", color=red, penwidth=2" if hot else ""}];')
        for j, op in enumerate(self.ops):
            active = current is not None and op["output"] == current.output
            lines.append(f'  "f{j}" [shape=box, style="rounded,filled", fillcolor='
                         f'"{"#fc8d59" if active else "#fdd0a2"}", label="{op["op"]}"];')
            for i, n in enumerate(op["inputs"]):
                lab = ""
                if active and current.outgoing[i] is not None:
                    lab = f' [color=red, label="{_fmt(current.outgoing[i], 3)}"]'
                lines.append(f'  "t_{n}" -> "f{j}"{lab};')
            lines.append(f'  "f{j}" -> "t_{op["output"]}";')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def frames(self, out_dir: str | os.PathLike, prefix: str = "frame", fmt: str = "png",
               engine: str = "auto", dpi: int = 80) -> list[str]:
        """Write every frame as ``prefix_00.fmt`` ... (PNG or SVG); returns the file names.

        ``engine='auto'`` renders :meth:`to_dot` with Graphviz's ``dot`` when it is on PATH
        and draws with matplotlib otherwise; ``'matplotlib'`` or ``'graphviz'`` choose.
        """
        if fmt not in ("png", "svg"):
            raise ValueError(f"BackpropTrace.frames: fmt must be 'png' or 'svg', got {fmt!r}")
        if engine not in ("auto", "matplotlib", "graphviz"):
            raise ValueError(f"BackpropTrace.frames: engine must be 'auto', 'matplotlib' or "
                             f"'graphviz', got {engine!r}")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        names = []
        dot = shutil.which("dot") if engine != "matplotlib" else None
        if engine == "graphviz" and dot is None:
            raise GraphvizNotFoundError(_INSTALL_HELP.format(fmt=fmt.upper()))
        for k in range(self.frame_count()):
            name = f"{prefix}_{k:02d}.{fmt}"
            if dot is not None:
                subprocess.run([dot, f"-T{fmt}", "-o", str(out / name)],
                               input=self.to_dot(k).encode("utf-8"), check=True,
                               capture_output=True, timeout=60)
            else:
                _plot.save(self.figure(k), out / name, dpi=dpi)
            names.append(name)
        return names

    def gif(self, path: str | os.PathLike, dpi: int = 80, ms_per_frame: int = 1400,
            frames_prefix: str | None = None) -> list[str]:
        """All frames as one animated GIF (Pillow); the last frame is held longer.

        With ``frames_prefix`` each frame is also written as ``PREFIX_NN.png`` next to the
        GIF (each frame is drawn once for both). Returns the written file names.
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from PIL import Image
        except ImportError:  # pragma: no cover - matplotlib brings Pillow
            raise ImportError("the animation needs matplotlib and Pillow: pip install "
                              "'steepest[viz]'") from None
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        images, names = [], []
        for k in range(self.frame_count()):
            fig = self.figure(k)
            fig.set_dpi(dpi)
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            rgb = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy())
            if frames_prefix is not None:
                name = f"{frames_prefix}_{k:02d}.png"
                rgb.save(path.parent / name)
                names.append(name)
            images.append(rgb.quantize(colors=64))
        durations = [ms_per_frame] * (len(images) - 1) + [3 * ms_per_frame]
        images[0].save(path, save_all=True, append_images=images[1:], duration=durations,
                       loop=0, optimize=True)
        return [path.name, *names]


def _local_derivative(f: Any, i: int, y: np.ndarray, xs: list[np.ndarray]) -> np.ndarray | None:
    """∂y/∂x_i: a scalar's derivative, or the Jacobian (y.size, x_i.size) for small arrays."""
    x = xs[i]
    if y.size * x.size > _JACOBIAN_LIMIT:
        return None
    rows = []
    for j in range(y.size):
        e = np.zeros(y.size, dtype=y.dtype)
        e[j] = 1
        g = f.backward(e.reshape(y.shape), y, *xs)
        g = g if isinstance(g, tuple) else (g,)
        gi = g[i]
        if gi is None:
            return None
        gi = np.asarray(gi)
        if gi.shape != x.shape:
            gi = np.asarray(sum_to(gi, x.shape))
        rows.append(gi.reshape(-1))
    jac = np.stack(rows)
    return jac.reshape(()) if jac.size == 1 else jac


def backprop_trace(loss: Tensor, names: dict[str, Tensor] | Any = None) -> BackpropTrace:
    """Trace the backward walk from ``loss`` (see the module docs).

    Parameters
    ----------
    loss : Tensor
        A scalar output that requires grad (its graph is walked, not freed).
    names : dict {label: Tensor} or Module, optional
        Labels for the tensors (a Module labels its parameters ``0.weight``...). Tensors
        with a ``name`` use it; the others are called ``v1, v2, ...`` in forward order.
    """
    from ..autograd import iter_graph

    if not isinstance(loss, Tensor):
        raise TypeError(f"backprop_trace: expected a Tensor, got {type(loss).__name__}")
    if loss.creator is None or not loss.requires_grad:
        raise ValueError("backprop_trace: the tensor has no graph (computed under no_grad, or "
                         "from tensors without requires_grad=True)")
    if loss.data.size != 1:
        raise ValueError(f"backprop_trace: the output must be a scalar (a loss), got shape "
                         f"{loss.data.shape}")
    funcs = sorted(iter_graph(loss), key=lambda f: f.generation)
    for f in funcs:
        if f.inputs is None:
            raise ValueError("backprop_trace: the graph was freed by backward(); trace before "
                             "calling backward() or use backward(retain_graph=True)")
        if f.n_outputs != 1:
            raise ValueError(f"backprop_trace: node {f.name} has {f.n_outputs} outputs; only "
                             f"single-output nodes are traced")
    if names is not None and hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    given = {id(t): str(n) for n, t in (names or {}).items()}
    labels: dict[int, str] = {}
    tensors: dict[int, Tensor] = {}
    counter = [0]

    def label(t: Tensor) -> str:
        if id(t) not in labels:
            if id(t) in given:
                name = given[id(t)]
            elif t.name:
                name = t.name
            else:
                counter[0] += 1
                name = f"v{counter[0]}"
            while name in labels.values():
                name += "'"
            labels[id(t)] = name
            tensors[id(t)] = t
        return labels[id(t)]

    ops = []
    for f in funcs:
        ins = [label(x) for x in f.inputs]
        out = f.outputs[0]()
        if out is None:
            raise ValueError(f"backprop_trace: the output of node {f.name} was freed")
        ops.append({"op": f.name, "label": _op_label(f), "inputs": ins, "output": label(out),
                    "generation": int(f.generation)})
    values = {labels[k]: np.array(t.data, copy=True) for k, t in tensors.items()}
    kinds = {}
    for k, t in tensors.items():
        n = labels[k]
        if t is loss:
            kinds[n] = "output"
        elif t.creator is not None:
            kinds[n] = "intermediate"
        elif not t.requires_grad:
            kinds[n] = "constant"
        elif type(t).__name__ == "Parameter":
            kinds[n] = "parameter"
        else:
            kinds[n] = "input"

    # the walk of autograd.run_backward: a max-heap on generation, ties in queue order
    grads: dict[int, np.ndarray] = {id(loss): np.ones_like(loss.data)}
    heap = [(-loss.creator.generation, 0, loss.creator)]
    queued = {id(loss.creator)}
    steps: list[Step] = []
    while heap:
        f = heapq.heappop(heap)[2]
        out = f.outputs[0]()
        gy = grads[id(out)]
        xs = [x.data for x in f.inputs]
        gxs = f.backward(gy, out.data, *xs)
        gxs = gxs if isinstance(gxs, tuple) else (gxs,)
        step = Step(len(steps) + 1, f.name, labels[id(out)], np.array(gy, copy=True),
                    [labels[id(x)] for x in f.inputs], [], [], [])
        for i, (x, gx) in enumerate(zip(f.inputs, gxs)):
            if gx is None or not x.requires_grad:
                step.local.append(None)
                step.outgoing.append(None)
                step.accumulated.append(None)
                continue
            gx = np.asarray(gx)
            if gx.shape != x.data.shape:
                gx = np.asarray(sum_to(gx, x.data.shape))
            step.local.append(_local_derivative(f, i, out.data, xs))
            step.outgoing.append(np.array(gx, copy=True))
            if id(x) in grads:
                before = grads[id(x)]
                grads[id(x)] = before + gx
                step.accumulated.append((np.array(before, copy=True),
                                         np.array(grads[id(x)], copy=True)))
            else:
                grads[id(x)] = gx
                step.accumulated.append(None)
            if x.creator is not None and id(x.creator) not in queued:
                queued.add(id(x.creator))
                heapq.heappush(heap, (-x.creator.generation, len(queued), x.creator))
        steps.append(step)
    return BackpropTrace(labels, values, kinds, ops, steps,
                         {labels[k]: np.asarray(g) for k, g in grads.items()})
