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


def _median_time(fn: Callable[[], object], steps: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def run(quick: bool = False) -> dict:
    """Time each configuration; returns {name: {implementation: ms, ratios...}}."""
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
        row = {}
        for impl, nonfinite in [("steepest", "raise"), ("steepest_nocheck", "ignore")]:
            ps = [st.Tensor(p.copy(), requires_grad=True) for p in params0]
            for p, g in zip(ps, grads):
                p.grad = st.Tensor(g)
            opt = getattr(so, cls_name)(ps, nonfinite=nonfinite, **kw)
            row[impl] = _median_time(opt.step, steps) * 1e3
            assert all(p.data.dtype == np.float32 for p in ps)
        for impl, foreach in [("torch", None), ("torch_foreach", True)]:
            ts = [torch.tensor(p.copy(), requires_grad=True) for p in params0]
            for t, g in zip(ts, grads):
                t.grad = torch.tensor(g)
            topt = getattr(torch.optim, cls_name)(ts, foreach=foreach, **kw)
            row[impl] = _median_time(topt.step, steps) * 1e3
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


if __name__ == "__main__":
    main()
