"""Time of one optimiser step over a ~1M-parameter model: steepest vs torch.optim.

The parameters have the shapes of a 784-1250-10 MLP with biases (993,760 float32 values);
the gradients are fixed random arrays, so only the update is timed. torch runs in the same
process with 2 threads, both with its default implementation (on CPU tensors that is the
per-tensor for-loop: foreach is only picked by default on CUDA) and with ``foreach=True``.
steepest is timed with its default non-finite gradient check and without it
(``nonfinite="ignore"``, PyTorch's behaviour). Medians over many steps.
Run: ``python -m benchmarks.optimizers [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

SHAPES = [(784, 1250), (1250,), (1250, 10), (10,)]

CONFIGS = {
    "SGD(momentum=0.9)": ("SGD", dict(lr=1e-3, momentum=0.9)),
    "Adam": ("Adam", dict(lr=1e-3)),
    "AdamW": ("AdamW", dict(lr=1e-3, weight_decay=1e-2)),
}


def _interleaved_times(fns: dict[str, Callable[[], object]], steps: int,
                       warmup: int = 5) -> dict[str, tuple[float, float]]:
    """(median, fastest) seconds per call of each function, timed round-robin so that
    background load falls on all of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(steps):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - t0)
    return {k: (statistics.median(v), min(v)) for k, v in samples.items()}


def run(quick: bool = False) -> dict:
    """Time each configuration: {name: {implementation: median ms, implementation_min:
    fastest ms, ratio_vs_torch, ratio_vs_torch_foreach}}, plus n_params and steps."""
    import torch

    import steepest as st
    import steepest.optim as so

    torch.set_num_threads(2)
    steps = 30 if quick else 300
    rng = np.random.default_rng(0)
    params0 = [rng.standard_normal(s).astype(np.float32) * 0.01 for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    n_params = sum(p.size for p in params0)

    results: dict = {"n_params": n_params, "steps": steps}
    for label, (cls_name, kw) in CONFIGS.items():
        fns = {}
        for impl, nonfinite in [("steepest", "raise"), ("steepest_nocheck", "ignore")]:
            ps = [st.Tensor(p.copy(), requires_grad=True) for p in params0]
            for p, g in zip(ps, grads):
                p.grad = st.Tensor(g)
            fns[impl] = getattr(so, cls_name)(ps, nonfinite=nonfinite, **kw).step
        for impl, foreach in [("torch", None), ("torch_foreach", True)]:
            ts = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
            for t, g in zip(ts, grads):
                t.grad = torch.tensor(g)
            fns[impl] = getattr(torch.optim, cls_name)(ts, foreach=foreach, **kw).step
        times = _interleaved_times(fns, steps)
        row = {k: med * 1e3 for k, (med, _) in times.items()}
        row.update({f"{k}_min": best * 1e3 for k, (_, best) in times.items()})
        row["ratio_vs_torch"] = row["steepest"] / row["torch"]
        row["ratio_vs_torch_foreach"] = row["steepest"] / row["torch_foreach"]
        results[label] = row
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    args = p.parse_args(argv)
    r = run(args.quick)
    print(f"one optimiser step over {r['n_params']:,} float32 parameters "
          f"(median of {r['steps']} steps, ms; ratio < 1: steepest is faster)")
    head = (f"{'optimiser':<20}{'steepest':>10}{'(no check)':>12}{'torch':>10}"
            f"{'foreach':>10}{'vs torch':>10}{'vs foreach':>12}")
    print(head)
    print("-" * len(head))
    for label in CONFIGS:
        row = r[label]
        print(f"{label:<20}{row['steepest']:>10.3f}{row['steepest_nocheck']:>12.3f}"
              f"{row['torch']:>10.3f}{row['torch_foreach']:>10.3f}"
              f"{row['ratio_vs_torch']:>10.2f}{row['ratio_vs_torch_foreach']:>12.2f}")
    print("fastest single step (ms), less sensitive to background load:")
    for label in CONFIGS:
        row = r[label]
        print(f"{label:<20}{row['steepest_min']:>10.3f}{row['steepest_nocheck_min']:>12.3f}"
              f"{row['torch_min']:>10.3f}{row['torch_foreach_min']:>10.3f}"
              f"{row['steepest_min'] / row['torch_min']:>10.2f}"
              f"{row['steepest_min'] / row['torch_foreach_min']:>12.2f}")


if __name__ == "__main__":
    main()
