"""Draw the computational graph that produced a tensor (Graphviz DOT, SVG, PNG).

Tensors are ellipses labelled with their name, shape and dtype (parameters blue, other
inputs grey, the output green); operations are boxes labelled with the op's name and its
scalar settings. Edges follow the data: input → op → output. The DOT text is built by
steepest itself, so it always works; turning it into SVG or PNG needs Graphviz's ``dot``.

Draw before ``backward()`` (or after ``backward(retain_graph=True)``): a plain backward
frees the graph's links, and then only the output is left to draw.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..autograd import Function, iter_graph
from ..tensor import Tensor

__all__ = ["draw_graph", "GraphvizNotFoundError"]

_FORMATS = ("dot", "svg", "png", "pdf")
_INSTALL_HELP = (
    "the Graphviz program 'dot' is not on PATH, so the graph cannot be rendered as {fmt}. "
    "Install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install graphviz; Windows: winget install graphviz), or use "
    "format='dot' to get the DOT text and render it elsewhere (e.g. an online Graphviz "
    "viewer)"
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _op_label(f: Function) -> str:
    lines = [f.name]
    shown = 0
    for cls in type(f).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot in ("inputs", "outputs", "generation", "__weakref__") or shown >= 3:
                continue
            v = getattr(f, slot, None)
            if isinstance(v, (bool, int, float, str)) and not isinstance(v, np.ndarray):
                text = f"{v:.4g}" if isinstance(v, float) else str(v)
                lines.append(f"{slot}={text}")
                shown += 1
    return "\n".join(lines)


def _tensor_label(t: Tensor, name: str | None) -> str:
    head = name or t.name
    desc = f"{_fmt_shape(t.data.shape)} {t.data.dtype}"
    if t.data.size == 1:
        desc += f"\n= {float(t.data.reshape(-1)[0]):.4g}"
    return f"{head}\n{desc}" if head else desc


def _param_names(params: Any) -> dict[int, str]:
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError("draw_graph: params must be a Module or a dict {name: Tensor}")
    return {id(t): str(n) for n, t in params.items()}


def to_dot(tensor: Tensor, params: Any = None, rankdir: str = "TB",
           title: str | None = None) -> str:
    """The Graphviz DOT text of the graph behind ``tensor`` (see :func:`draw_graph`)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"draw_graph: rankdir must be TB, BT, LR or RL, got {rankdir!r}")
    names = _param_names(params)
    nodes: list[str] = []
    edges: list[str] = []
    ids: dict[int, str] = {}  # id(object) -> short node id (t0, f0, ...): stable output
    keep: list[Any] = []  # holds the objects so that their ids stay unique meanwhile
    counts = {"t": 0, "f": 0}

    def short(obj: Any, prefix: str) -> tuple[str, bool]:
        key = id(obj)
        if key in ids:
            return ids[key], False
        keep.append(obj)
        ids[key] = f"{prefix}{counts[prefix]}"
        counts[prefix] += 1
        return ids[key], True

    def tensor_node(t: Tensor) -> str:
        nid, new = short(t, "t")
        if new:
            if t is tensor:
                style = 'style=filled, fillcolor="#c7e9c0"'
            elif t.creator is None and t.requires_grad:
                style = 'style=filled, fillcolor="#c6dbef"'
            elif t.creator is None:
                style = 'style=filled, fillcolor="#eeeeee"'
            else:
                style = 'style=filled, fillcolor="#ffffff"'
            label = _tensor_label(t, names.get(id(t)))
            nodes.append(f"  {nid} [shape=ellipse, {style}, label={_quote(label)}];")
        return nid

    root = tensor_node(tensor)
    for f in iter_graph(tensor):
        fid, _ = short(f, "f")
        nodes.append(f'  {fid} [shape=box, style="rounded,filled", fillcolor="#fdd0a2", '
                     f"label={_quote(_op_label(f))}];")
        for x in f.inputs or ():
            edges.append(f"  {tensor_node(x)} -> {fid};")
        for i, ref in enumerate(getattr(f, "outputs", ()) or ()):
            o = ref()
            if o is None:
                oid = f"{fid}_out{i}"
                nodes.append(f'  {oid} [shape=ellipse, style=dashed, label="(freed)"];')
            else:
                oid = tensor_node(o)
            edges.append(f"  {fid} -> {oid};")
    if tensor.creator is not None and tensor.creator.inputs is None:
        nodes.append(f'  note [shape=note, label="graph freed by backward(); draw before '
                     f'backward or use retain_graph=True"];\n  note -> {root} [style=dotted];')
    head = ["digraph steepest {", f"  rankdir={rankdir};", '  graph [fontname="Helvetica"];',
            '  node [fontname="Helvetica", fontsize=10];', '  edge [color="#555555"];']
    if title:
        head.append(f"  label={_quote(title)}; labelloc=t;")
    return "\n".join(head + nodes + edges + ["}"]) + "\n"


def _render(dot_text: str, fmt: str, path: str) -> None:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(_INSTALL_HELP.format(fmt=fmt.upper()))
    proc = subprocess.run([exe, f"-T{fmt}", "-o", path], input=dot_text.encode("utf-8"),
                          capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"draw_graph: dot failed (exit {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")


def draw_graph(tensor: Tensor, path: str | os.PathLike | None = None,
               format: str | None = None, params: Any = None,  # noqa: A002
               rankdir: str = "TB", title: str | None = None) -> str:
    """The computational graph that produced ``tensor``, as DOT text (and a file).

    Parameters
    ----------
    tensor : Tensor
        Usually a loss. Every op and tensor that contributed to it is drawn.
    path : path, optional
        Where to write the drawing. Without ``path`` only the DOT text is returned.
    format : {'dot', 'svg', 'png', 'pdf'}, optional
        Output format; by default taken from ``path``'s suffix (``.gv`` and unknown
        suffixes mean DOT). SVG/PNG/PDF need Graphviz's ``dot`` program: if it is missing
        a :class:`GraphvizNotFoundError` says how to install it (the DOT text needs
        nothing).
    params : Module or dict, optional
        Names for leaf tensors, e.g. ``params=model`` labels weights as ``0.weight``.
    rankdir : {'TB', 'BT', 'LR', 'RL'}
        Layout direction (top to bottom by default).

    Returns
    -------
    str
        The DOT text.
    """
    dot_text = to_dot(tensor, params=params, rankdir=rankdir, title=title)
    fmt = format
    if fmt is None:
        suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".") if path else ""
        fmt = suffix if suffix in _FORMATS else "dot"
    if fmt not in _FORMATS:
        raise ValueError(f"draw_graph: format must be one of {', '.join(_FORMATS)}, got "
                         f"{fmt!r}")
    if path is None:
        if fmt != "dot":
            raise ValueError(f"draw_graph: format={fmt!r} needs a path to write the drawing "
                             f"to (the DOT text is returned either way)")
        return dot_text
    path = os.fspath(path)
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    if fmt == "dot":
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(dot_text)
    else:
        _render(dot_text, fmt, path)
    return dot_text
