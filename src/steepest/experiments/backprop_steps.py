"""Backpropagation step by step on the notes' three small graphs.

* **chain**: y = (2x + 1)² at x = 3 (each node has one input: the chain rule multiplies
  local derivatives along the path, dy/dx = 2(2x + 1)·2 = 28);
* **diamond**: y = a·b with a = x², b = 3x at x = 2 (x is reached by two paths: its
  gradient is the *sum* 24 + 12 = 36 = d(3x³)/dx);
* **2-2-1 MLP**: h = σ(x W₁ + b₁), ŷ = h W₂ + b₂, L = ½ Σ(ŷ − t)², with small fixed
  weights (the backprop lecture's network).

For each, :func:`steepest.inspect.backprop_trace` records the forward values and, in the
order of the backward walk, the incoming gradient, the local derivative and the outgoing
gradients; the experiment writes the frames (PNG), an animated GIF and the tables, and
checks the trace against ``backward()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import _common as C

DESCRIPTION = "backprop step by step: chain, diamond (accumulation), 2-2-1 MLP; frames, GIF"


def _chain() -> tuple[Any, dict[str, float]]:
    from ..tensor import Tensor

    x = Tensor(np.array(3.0), requires_grad=True, dtype=np.float64, name="x")
    a = x * 2.0
    a.name = "a"
    b = a + 1.0
    b.name = "b"
    y = b ** 2
    y.name = "y"
    return y, {"x": 2 * (2 * 3.0 + 1) * 2}


def _diamond() -> tuple[Any, dict[str, float]]:
    from ..tensor import Tensor

    x = Tensor(np.array(2.0), requires_grad=True, dtype=np.float64, name="x")
    a = x ** 2
    a.name = "a"
    b = x * 3.0
    b.name = "b"
    y = a * b
    y.name = "y"
    return y, {"x": 9 * 2.0 ** 2}


def _mlp() -> tuple[Any, dict[str, Any]]:
    from .. import functional as F
    from ..nn import Parameter
    from ..tensor import Tensor

    f64 = np.float64
    x = Tensor(np.array([[0.05, 0.10]], f64), name="x")
    t = Tensor(np.array([[0.01]], f64), name="t")
    w1 = Parameter(np.array([[0.15, 0.25], [0.20, 0.30]], f64))
    b1 = Parameter(np.array([0.35, 0.35], f64))
    w2 = Parameter(np.array([[0.40], [0.45]], f64))
    b2 = Parameter(np.array([0.60], f64))
    for p, n in ((w1, "W1"), (b1, "b1"), (w2, "W2"), (b2, "b2")):
        p.name = n
    z1 = x @ w1
    z1.name = "xW1"
    a1 = z1 + b1
    a1.name = "z1"
    h = F.sigmoid(a1)
    h.name = "h"
    z2 = h @ w2
    z2.name = "hW2"
    out = z2 + b2
    out.name = "ŷ"
    err = out - t
    err.name = "e"
    sq = err ** 2
    sq.name = "e²"
    s = sq.sum()
    s.name = "Σe²"
    loss = s * 0.5
    loss.name = "L"
    # closed form of the same gradients, as a lecture would derive them
    hv = 1 / (1 + np.exp(-(x.data @ w1.data + b1.data)))
    e = hv @ w2.data + b2.data - t.data
    dh = e @ w2.data.T * hv * (1 - hv)
    expected = {"W2": hv.T @ e, "b2": e.sum(0), "W1": x.data.T @ dh, "b1": dh.sum(0)}
    return loss, expected


GRAPHS = {"chain": _chain, "diamond": _diamond, "mlp-2-2-1": _mlp}


def _chain_rule_holds(trace: Any) -> bool:
    """outgoing = incoming · local derivative, at every step and input where both exist."""
    for s in trace.steps:
        for loc, out in zip(s.local, s.outgoing):
            if loc is None or out is None:
                continue
            pred = np.asarray(s.incoming).reshape(-1) @ np.asarray(loc).reshape(
                s.incoming.size, -1)
            if not np.allclose(pred, np.asarray(out).reshape(-1), rtol=1e-12, atol=1e-15):
                return False
    return True


def run(out_dir: Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    from ..atomic import atomic_write_text
    from ..autograd import iter_graph
    from ..inspect import backprop_trace

    C.use_agg()
    out_dir = Path(out_dir)
    watch = C.Stopwatch()
    dpi = 60 if quick else 90
    graphs: dict[str, Any] = {}
    files: list[str] = []
    tables = []
    ok_backward, ok_expected, ok_chain, ok_order = True, True, True, True
    accumulation: dict[str, Any] = {}
    for name, build in GRAPHS.items():
        loss, expected = build()
        trace = backprop_trace(loss)
        # the same graph built again and differentiated by backward(): the leaf gradients
        # must agree with the trace's
        loss2, _ = build()
        leaves = {x.name: x for f in iter_graph(loss2) for x in f.inputs
                  if x.creator is None and x.requires_grad}
        loss2.backward()
        trace_leaves = [n for n, k in trace.kinds.items() if k in ("input", "parameter")]
        agree = all(np.allclose(leaves[n].grad.data, trace.grads[n], rtol=0, atol=1e-14)
                    for n in trace_leaves)
        ok_backward &= bool(agree and set(trace_leaves) == set(leaves))
        ok_expected &= all(np.allclose(trace.grads[n], v, rtol=1e-12, atol=1e-15)
                           for n, v in expected.items())
        ok_chain &= _chain_rule_holds(trace)
        gens = [next(op["generation"] for op in trace.ops if op["output"] == s.output)
                for s in trace.steps]
        ok_order &= gens == sorted(gens, reverse=True)
        acc = [{"step": s.index, "node": n, "before": a[0], "added": s.outgoing[i],
                "after": a[1]} for s in trace.steps
               for i, (n, a) in enumerate(zip(s.inputs, s.accumulated)) if a is not None]
        accumulation[name] = acc
        prefix = name.replace("-", "_")
        write_frames = not quick or name == "diamond"
        files += trace.gif(out_dir / f"{prefix}.gif", dpi=dpi,
                           frames_prefix=f"{prefix}_frame" if write_frames else None)
        tables.append(f"## {name}\n\nForward values\n\n{trace.forward_table()}\n\n"
                      f"Backward walk\n\n{trace.table()}\n")
        graphs[name] = {**trace.to_dict(), "expected": expected, "steps": len(trace.steps)}
    atomic_write_text(out_dir / "tables.md", "\n".join(tables))

    results = {
        "experiment": "backprop-steps", "quick": quick, "seed": seed,
        "graphs": graphs, "accumulation": accumulation,
        "claims": {
            "trace_matches_backward": bool(ok_backward),
            "trace_matches_closed_form": bool(ok_expected),
            "outgoing_is_incoming_times_local": bool(ok_chain),
            "walk_visits_by_decreasing_generation": bool(ok_order),
            "diamond_accumulates_two_paths": bool(
                len(accumulation["diamond"]) == 1
                and float(accumulation["diamond"][0]["after"]) == 36.0),
            "chain_has_no_accumulation": not accumulation["chain"],
        },
        "files": files,
        "elapsed_s": watch.elapsed(),
    }
    return C.write_results(out_dir, results)


def summary(results: dict[str, Any]) -> list[str]:
    out = []
    for name, g in results["graphs"].items():
        grads = ", ".join(f"∂L/∂{n} = {np.round(np.asarray(v), 5).tolist()}"
                          for n, v in g["grads"].items()
                          if any(f["node"] == n and f["kind"] in ("input", "parameter")
                                 for f in g["forward"]))
        out.append(f"{name}: {g['steps']} backward steps; {grads}")
    for a in results["accumulation"]["diamond"]:
        out.append(f"diamond: {a['node']} reached twice: {a['before']} + {a['added']} = "
                   f"{a['after']}")
    out.append("tables: tables.md")
    out.append(C.claims_line(results["claims"]))
    return out
