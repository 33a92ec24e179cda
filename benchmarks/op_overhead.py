"""Per-op overhead: forward + backward of a 10-op chain on tiny arrays.

Prints microseconds per op for steepest, PyTorch eager (same process, same threads) and a
hand-written NumPy forward/backward of the same chain (the floor: no framework at all).
Run: ``python -m benchmarks.op_overhead [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

N_OPS = 10


def _chain_steepest(st, x):
    y = x * 1.5
    y = y + 0.5
    y = y.exp()
    y = y * y
    y = y - 1.0
    y = y / 3.0
    y = y.clip(0.0, 10.0)
    y = y * 2.0
    y = y.sqrt()
    return y.sum()


def _chain_numpy(x):
    a = x * 1.5
    b = a + 0.5
    c = np.exp(b)
    d = c * c
    e = d - 1.0
    f = e / 3.0
    m = (f >= 0.0) & (f <= 10.0)
    g = np.clip(f, 0.0, 10.0)
    h = g * 2.0
    i = np.sqrt(h)
    s = i.sum()
    gi = np.ones_like(i)
    gh = gi / (2.0 * i)
    gg = gh * 2.0
    gf = gg * m
    gd = gf / 3.0
    gc = gd * 2.0 * c
    gb = gc * c
    gx = gb * 1.5
    return s, gx


def _time(fn, repeats: int, inner: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples)


def run(quick: bool = False) -> dict:
    import torch

    import steepest as st

    torch.set_num_threads(2)
    repeats, inner = (5, 200) if quick else (15, 2000)
    data = np.random.default_rng(0).random(8).astype(np.float32)

    xs = st.tensor(data, requires_grad=True)

    def step_st():
        xs.grad = None
        _chain_steepest(st, xs).backward()

    xt = torch.tensor(data, requires_grad=True)

    def step_torch():
        xt.grad = None
        y = xt * 1.5
        y = y + 0.5
        y = y.exp()
        y = y * y
        y = y - 1.0
        y = y / 3.0
        y = y.clamp(0.0, 10.0)
        y = y * 2.0
        y = y.sqrt()
        y.sum().backward()

    def step_np():
        _chain_numpy(data)

    # same answer first
    step_st()
    step_torch()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(xs.grad.numpy(), _chain_numpy(data)[1], rtol=1e-5)

    res = {}
    for name, fn in [("steepest", step_st), ("torch", step_torch), ("numpy", step_np)]:
        fn()
        res[name] = _time(fn, repeats, inner) / N_OPS * 1e6
    res["ratio_steepest_to_torch"] = res["steepest"] / res["torch"]
    return res


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    r = run(args.quick)
    print("per-op overhead, forward+backward of a 10-op chain on 8 floats (microseconds/op)")
    print(f"{'steepest':>10} {'torch':>10} {'numpy':>10} {'steepest/torch':>15}")
    print(f"{r['steepest']:10.2f} {r['torch']:10.2f} {r['numpy']:10.2f} "
          f"{r['ratio_steepest_to_torch']:15.2f}")


if __name__ == "__main__":
    main()
