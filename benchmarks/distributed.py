"""Data-parallel training on this machine, and the cost model checked against it.

    python -m benchmarks.distributed [--steps 60] [--configs A,B]

For configs A and B (``benchmarks.common.CONFIGS``), at the config's global batch:

* 1 rank x 2 BLAS threads against 2 ranks x 1 BLAS thread (each rank half the batch, so
  both train the same trajectory): milliseconds per step, and the ratio;
* the gradient all-reduce: its time inside training (which includes waiting for the
  slower rank), the bare collective after a barrier, and the cost model's prediction
  ``2(N-1) alpha + 2(N-1)/N * S / beta`` with alpha and beta measured by ping-pong;
* the cost model for N machines on 1/10/100 Gbit/s networks (see docs/distributed.md).

Each measurement is one ``mpiexec`` subprocess (``--worker``) that prints JSON on rank 0.
Timings on a shared 2-core machine are noisy; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np

from benchmarks.common import CONFIGS

NETWORKS = {"1 Gbit/s": (125e6, 50e-6), "10 Gbit/s": (1.25e9, 20e-6),
            "100 Gbit/s": (12.5e9, 3e-6)}  # bytes/s, per-message latency
MACHINES = (2, 8, 32)


def n_params(sizes: list[int]) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def allreduce_model(nbytes: float, ranks: int, beta: float, alpha: float) -> float:
    """Seconds of a ring (reduce-scatter + all-gather) all-reduce of ``nbytes``."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / beta


def cost_table(name: str, t_sample: float) -> list[str]:
    """Markdown rows: per network and N, comm time, weak-scaling speedup, and the
    smallest per-rank batch keeping communication under 20% of a step."""
    c = CONFIGS[name]
    nbytes = 4 * (n_params(c["sizes"]) + 1)
    b = c["batch_size"]
    rows = [f"config {name}: {nbytes:,} bytes all-reduced per step; compute "
            f"{t_sample * b * 1e3:.2f} ms per step of {b} samples "
            f"({t_sample * 1e6:.1f} µs/sample, 1 core)",
            "", "| network | N | all-reduce (ms) | comm share | speedup (N x batch) "
            "| per-rank batch for comm < 20% |", "| :--- | ---: | ---: | ---: | ---: | ---: |"]
    for net, (beta, alpha) in NETWORKS.items():
        for n in MACHINES:
            t_comm = allreduce_model(nbytes, n, beta, alpha)
            t_comp = t_sample * b
            share = t_comm / (t_comm + t_comp)
            speedup = n * t_comp / (t_comp + t_comm)
            b_min = int(np.ceil(4 * t_comm / t_sample))
            rows.append(f"| {net} | {n} | {t_comm * 1e3:.3f} | {share:.0%} | {speedup:.1f}x "
                        f"| {b_min:,} |")
    return rows


# ------------------------------------------------------------------------------ worker
def worker(name: str, steps: int) -> None:
    import steepest as st
    from steepest import distributed as dist
    from steepest.models import mlp

    s = dist.init()
    c = CONFIGS[name]
    global_b = c["batch_size"]
    st.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((global_b * 8, c["sizes"][0])).astype(np.float32)
    y = rng.integers(0, c["sizes"][-1], len(x))
    model = mlp(c["sizes"])
    params = list(model.parameters())
    opt = st.optim.SGD(params, lr=c["lr"]) if c["optimizer"] == "sgd" else st.optim.Adam(
        params, lr=c["lr"])
    reduce = dist.GradientAllReduce(params, s)
    per_rank = global_b // s.size
    step_t, sync_t = [], []
    for k in range(steps + 5):
        lo = (k % 8) * global_b + s.rank * per_rank
        xb, yb = x[lo:lo + per_rank], y[lo:lo + per_rank]
        t0 = time.perf_counter()
        loss = st.functional.cross_entropy(model(st.tensor(xb)), yb)
        opt.zero_grad()
        loss.backward()
        t1 = time.perf_counter()
        if s.size > 1:
            reduce(per_rank)
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if k >= 5:
            step_t.append(t3 - t0)
            sync_t.append(t2 - t1)
    bare, blocking = [], []
    for _ in range(steps):
        dist.barrier()
        t0 = time.perf_counter()
        reduce(per_rank)
        bare.append(time.perf_counter() - t0)
        s.comm.Barrier()
        t0 = time.perf_counter()
        s.comm.Allreduce(s.MPI.IN_PLACE, reduce.flat)
        blocking.append(time.perf_counter() - t0)
    alpha, beta = ping_pong(s) if s.size > 1 else (0.0, float("inf"))
    if s.rank == 0:
        print(json.dumps({
            "ranks": s.size, "step_ms": 1e3 * float(np.median(step_t)),
            "sync_ms": 1e3 * float(np.median(sync_t)),
            "bare_allreduce_ms": 1e3 * float(np.median(bare)),
            "blocking_allreduce_ms": 1e3 * float(np.median(blocking)),
            "bytes": reduce.nbytes, "alpha_us": alpha * 1e6, "beta_gbs": beta / 1e9,
            "model_ms": 1e3 * allreduce_model(reduce.nbytes, s.size, beta, alpha)}))


def ping_pong(s: Any, reps: int = 50) -> tuple[float, float]:
    """Latency alpha (s) and bandwidth beta (bytes/s) between ranks 0 and 1:
    half a round trip of 8 bytes, and of 1 MiB minus it."""
    times = {}
    for size in (8, 2**20):
        buf = np.zeros(size, dtype=np.uint8)
        s.comm.Barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            if s.rank == 0:
                s.comm.Send(buf, dest=1)
                s.comm.Recv(buf, source=1)
            elif s.rank == 1:
                s.comm.Recv(buf, source=0)
                s.comm.Send(buf, dest=0)
        times[size] = (time.perf_counter() - t0) / reps / 2
    alpha = times[8]
    return alpha, (2**20 - 8) / max(times[2**20] - alpha, 1e-9)


# ------------------------------------------------------------------------------ driver
def run(name: str, ranks: int, threads: int, steps: int) -> dict[str, Any]:
    from steepest.distributed import find_mpiexec

    env = {**os.environ, "OMP_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [find_mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed",
           "--worker", name, "--steps", str(steps)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--configs", default="A,B")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        worker(a.worker, a.steps)
        return 0
    for name in a.configs.split(","):
        one = run(name, 1, 2, a.steps)
        two = run(name, 2, 1, a.steps)
        print(f"\nconfig {name} ({'-'.join(map(str, CONFIGS[name]['sizes']))}, global batch "
              f"{CONFIGS[name]['batch_size']}, {two['bytes']:,} bytes per all-reduce)")
        print(f"  1 rank x 2 threads : {one['step_ms']:.2f} ms/step")
        print(f"  2 ranks x 1 thread : {two['step_ms']:.2f} ms/step "
              f"(of which gradient sync {two['sync_ms']:.2f} ms)   "
              f"speedup {one['step_ms'] / two['step_ms']:.2f}x")
        print(f"  all-reduce alone   : {two['bare_allreduce_ms']:.3f} ms polled, "
              f"{two['blocking_allreduce_ms']:.3f} ms blocking Allreduce; cost model "
              f"{two['model_ms']:.3f} ms (ping-pong alpha {two['alpha_us']:.1f} µs, "
              f"beta {two['beta_gbs']:.2f} GB/s)")
        single = run(name, 1, 1, a.steps)
        t_sample = single["step_ms"] / 1e3 / CONFIGS[name]["batch_size"]
        print("\n".join(["", *cost_table(name, t_sample)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
