"""GPU training throughput: steepest on CuPy against PyTorch CUDA eager, same process.

Two MLPs trained with Adam on synthetic MNIST-shaped data that already lives on the GPU:
the large one (784-4096-4096-10, batch 4096: GEMM-bound) and config B (784-256-256-10,
batch 128: launch-bound). Each step is forward, cross-entropy, backward, Adam; both
libraries are synchronised before the clock starts and stops, steps are warmed up, and the
best of several timed rounds is kept. GPU memory peaks come from CuPy's memory pool
(steepest) and ``torch.cuda.max_memory_allocated`` (torch). Writes ``gpu.json`` and
``gpu.md`` to ``--out``.

Run: ``python -m benchmarks.gpu --out results/`` (needs CuPy and CUDA torch; see
``benchmarks/gpu_run.sh``).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

CONFIGS = {
    "large": {"sizes": [784, 4096, 4096, 10], "batch": 4096, "steps": 20, "target": 0.8},
    "B": {"sizes": [784, 256, 256, 10], "batch": 128, "steps": 200, "target": 0.5},
}


def _data(batch: int, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((batch, n_in)).astype(np.float32),
            rng.integers(0, n_out, batch))


def _time_steps(model: Any, opt: Any, loss_of: Any, sync: Any, batch: int, steps: int,
                rounds: int) -> dict[str, Any]:
    """The best of ``rounds`` timings of ``steps`` training steps after 5 warm-up steps,
    synchronising the GPU before each clock read (kernels run asynchronously)."""

    def step() -> Any:
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        opt.step()
        return loss

    for _ in range(5):
        loss = step()
    sync()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        sync()
        best = min(best, (time.perf_counter() - t0) / steps)
    return {"step_ms": best * 1e3, "samples_per_s": batch / best, "loss": float(loss)}


def _steepest(sizes: list[int], batch: int, steps: int, rounds: int) -> dict[str, Any]:
    import cupy

    import steepest as st
    from steepest import functional as F
    from steepest import nn, optim

    st.manual_seed(0)
    layers: list[Any] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*layers[:-1]).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    xh, yh = _data(batch, sizes[0], sizes[-1])
    x, y = st.tensor(xh, device="cuda"), st.tensor(yh, device="cuda")
    pool = cupy.get_default_memory_pool()

    res = _time_steps(model, opt, lambda: F.cross_entropy(model(x), y), st.cuda.synchronize,
                      batch, steps, rounds)
    return {**res, "memory_peak_mib": pool.total_bytes() / 2**20}


def _torch(sizes: list[int], batch: int, steps: int, rounds: int) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    dev = torch.device("cuda")
    layers: list[Any] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xh, yh = _data(batch, sizes[0], sizes[-1])
    x, y = torch.tensor(xh, device=dev), torch.tensor(yh, device=dev)
    loss_fn = torch.nn.functional.cross_entropy
    torch.cuda.reset_peak_memory_stats()

    res = _time_steps(model, opt, lambda: loss_fn(model(x), y), torch.cuda.synchronize,
                      batch, steps, rounds)
    return {**res, "memory_peak_mib": torch.cuda.max_memory_allocated() / 2**20}


def _device_name() -> str:
    try:
        import torch

        return torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - a name only, for the report
        return "unknown GPU"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=".", help="folder for gpu.json and gpu.md")
    p.add_argument("--quick", action="store_true", help="fewer steps and rounds")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    import cupy
    import torch

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "device": _device_name(), "cupy": cupy.__version__, "torch": torch.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "configs": {},
    }
    for name, cfg in CONFIGS.items():
        steps = max(cfg["steps"] // (4 if args.quick else 1), 2)
        rounds = 1 if args.quick else args.rounds
        ours = _steepest(cfg["sizes"], cfg["batch"], steps, rounds)
        cupy.get_default_memory_pool().free_all_blocks()
        theirs = _torch(cfg["sizes"], cfg["batch"], steps, rounds)
        torch.cuda.empty_cache()
        ratio = ours["samples_per_s"] / theirs["samples_per_s"]
        results["configs"][name] = {**cfg, "steepest": ours, "torch": theirs,
                                    "throughput_vs_torch": ratio,
                                    "meets_target": ratio >= cfg["target"]}
        print(f"{name:>5} {'-'.join(map(str, cfg['sizes']))} batch {cfg['batch']}: "
              f"steepest {ours['step_ms']:.2f} ms/step, torch {theirs['step_ms']:.2f} "
              f"ms/step, throughput {ratio:.2f}x torch (target >= {cfg['target']}); memory "
              f"peak {ours['memory_peak_mib']:.0f} vs {theirs['memory_peak_mib']:.0f} MiB",
              flush=True)
    (out / "gpu.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"GPU benchmark, {results['date']}, {results['device']} (CuPy {results['cupy']}, "
             f"torch {results['torch']})", "",
             "| config | batch | steepest ms/step | torch ms/step | throughput vs torch | "
             "target | memory peak steepest / torch (MiB) |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results["configs"].items():
        lines.append(f"| {name} {'-'.join(map(str, r['sizes']))} | {r['batch']} | "
                     f"{r['steepest']['step_ms']:.2f} | {r['torch']['step_ms']:.2f} | "
                     f"{r['throughput_vs_torch']:.2f}x | >= {r['target']} | "
                     f"{r['steepest']['memory_peak_mib']:.0f} / "
                     f"{r['torch']['memory_peak_mib']:.0f} |")
    (out / "gpu.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
