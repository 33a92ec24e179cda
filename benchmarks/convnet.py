"""Config C, the Keras "simple MNIST convnet": Conv 32 3x3 → ReLU → MaxPool 2 → Conv 64 3x3
→ ReLU → MaxPool 2 → Flatten → Linear 1600→10, batch 128, Adam 1e-3.

Competitors (float32, same threads, same process, epochs timed round-robin):

``steepest``   ``nn.Sequential`` of the layers above, a manual loop (Conv2d→ReLU runs as
               one fused node, as ``Sequential`` does for every user)
``torch``      PyTorch eager, the same loop and weights
``numpy``      :class:`ReferenceConvNet`: a plain hand-written NumPy im2col network in the
               textbook style ("Deep Learning from Scratch" ch. 7: NCHW, im2col by kh·kw
               slice copies, pooling through im2col + argmax), Adam by hand
``gemm``       the GEMM floor: only the matrix products of one training step, timed alone

Peak memory: one subprocess per library runs one warm step and one epoch (``python -m
benchmarks.convnet --peak LIB``) and reports two growths of its peak RSS: over the RSS after
the warm step (``peak_mib``; what the epoch adds to memory the allocators already hold) and
over the RSS after setup, before any step (``peak_total_mib``; all the memory training needs,
including what PyTorch's allocator keeps from the first step).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import interleaved, permutation, summary

CONFIG_C = {"batch_size": 128, "lr": 1e-3, "description": (
    "Conv32 3x3-ReLU-MaxPool2-Conv64 3x3-ReLU-MaxPool2-Flatten-Linear 1600→10, batch 128, "
    "Adam 1e-3")}
LIBS = ("steepest", "torch", "numpy")


def initial_weights(seed: int = 0) -> list[np.ndarray]:
    """steepest's (= torch's default) initialisation of config C, copied to everyone."""
    import steepest

    steepest.manual_seed(seed)
    return [p.data.copy() for p in steepest_model().parameters()]


def steepest_model() -> Any:
    from steepest import nn

    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))


class Competitor:
    def __init__(self, x: np.ndarray, y: np.ndarray, weights: list[np.ndarray], seed: int):
        self.x, self.y, self.seed = x, y, seed
        self.bs = CONFIG_C["batch_size"]

    def batches(self, k: int) -> Any:
        order = permutation(len(self.x), self.seed + k)
        for s in range(0, len(order), self.bs):
            idx = order[s:s + self.bs]
            yield np.take(self.x, idx, axis=0), np.take(self.y, idx)

    def train_epoch(self, k: int) -> None:
        for xb, yb in self.batches(k):
            self.step(xb, yb)

    def step(self, xb: np.ndarray, yb: np.ndarray) -> None:
        raise NotImplementedError

    def logits(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        hits = sum(int((self.logits(x[s:s + 1000]).argmax(axis=1) == y[s:s + 1000]).sum())
                   for s in range(0, len(x), 1000))
        return hits / len(x)


class Steepest(Competitor):
    def __init__(self, x, y, weights, seed) -> None:
        super().__init__(x, y, weights, seed)
        from steepest import optim

        self.model = steepest_model()
        for p, w in zip(self.model.parameters(), weights):
            p.data[...] = w
        self.opt = optim.Adam(self.model.parameters(), lr=CONFIG_C["lr"])

    def step(self, xb, yb) -> None:
        import steepest.functional as F
        from steepest import Tensor

        loss = F.cross_entropy(self.model(Tensor(xb)), yb)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def logits(self, x):
        from steepest import no_grad

        self.model.eval()
        with no_grad():
            out = self.model(x).data
        self.model.train()
        return out


class Torch(Competitor):
    def __init__(self, x, y, weights, seed) -> None:
        super().__init__(x, y, weights, seed)
        import torch

        tn = torch.nn
        self.model = tn.Sequential(tn.Conv2d(1, 32, 3), tn.ReLU(), tn.MaxPool2d(2),
                                   tn.Conv2d(32, 64, 3), tn.ReLU(), tn.MaxPool2d(2),
                                   tn.Flatten(), tn.Linear(1600, 10))
        with torch.no_grad():
            for p, w in zip(self.model.parameters(), weights):
                p.copy_(torch.from_numpy(w))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=CONFIG_C["lr"])

    def step(self, xb, yb) -> None:
        import torch

        loss = torch.nn.functional.cross_entropy(self.model(torch.from_numpy(xb)),
                                                 torch.from_numpy(yb))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()

    def logits(self, x):
        import torch

        with torch.no_grad():
            return self.model(torch.from_numpy(x)).numpy()


# -- the hand-written NumPy reference (textbook im2col) -------------------------------------


def _im2col(x: np.ndarray, k: int, s: int) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    col = np.empty((n, c, k, k, oh, ow), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            col[:, :, i, j] = x[:, :, i:i + s * oh:s, j:j + s * ow:s]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def _col2im(col: np.ndarray, shape: tuple[int, ...], k: int, s: int) -> np.ndarray:
    n, c, h, w = shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    col = col.reshape(n, oh, ow, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    x = np.zeros(shape, dtype=col.dtype)
    for i in range(k):
        for j in range(k):
            x[:, :, i:i + s * oh:s, j:j + s * ow:s] += col[:, :, i, j]
    return x


class ReferenceConvNet(Competitor):
    """Config C written by hand in NumPy, the way the textbooks do it."""

    def __init__(self, x, y, weights, seed) -> None:
        super().__init__(x, y, weights, seed)
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.t = 0

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        w1, b1, w2, b2, w3, b3 = self.params
        cache = []
        for w, b in ((w1, b1), (w2, b2)):
            n, _, h, wd = x.shape
            oc, _, k, _ = w.shape
            oh, ow = h - k + 1, wd - k + 1
            col = _im2col(x, k, 1)
            z = (col @ w.reshape(oc, -1).T + b).reshape(n, oh, ow, oc).transpose(0, 3, 1, 2)
            a = np.maximum(z, 0)
            ph, pw = oh // 2, ow // 2
            pcol = _im2col(a[:, :, :2 * ph, :2 * pw], 2, 2).reshape(-1, 2 * 2)
            arg = pcol.argmax(axis=1)
            p = pcol.max(axis=1).reshape(n, ph, pw, oc).transpose(0, 3, 1, 2)
            cache.append((x.shape, col, z, a.shape, arg, p.shape))
            x = p
        flat = x.reshape(len(x), -1)
        return flat @ w3.T + b3, [cache, flat]

    def step(self, xb, yb) -> None:
        w1, b1, w2, b2, w3, b3 = self.params
        out, (cache, flat) = self._forward(xb)
        e = np.exp(out - out.max(axis=1, keepdims=True))
        prob = e / e.sum(axis=1, keepdims=True)
        prob[np.arange(len(yb)), yb] -= 1.0
        g = prob / np.float32(len(yb))
        grads = [None] * 6
        grads[4], grads[5] = g.T @ flat, g.sum(axis=0)
        gx = (g @ w3).reshape(cache[1][5])
        for li in (1, 0):
            xshape, col, z, ashape, arg, pshape = cache[li]
            w = self.params[2 * li]
            n, oc, ph, pw = pshape
            gp = gx.transpose(0, 2, 3, 1).ravel()
            dcol = np.zeros((gp.size, 4), dtype=gp.dtype)
            dcol[np.arange(gp.size), arg] = gp
            ga = np.zeros(ashape, dtype=gp.dtype)
            ga[:, :, :2 * ph, :2 * pw] = _col2im(dcol.reshape(n * ph * pw, -1),
                                                  (n, oc, 2 * ph, 2 * pw), 2, 2)
            gz = ga * (z > 0)
            gz2 = gz.transpose(0, 2, 3, 1).reshape(-1, oc)
            grads[2 * li] = (gz2.T @ col).reshape(w.shape)
            grads[2 * li + 1] = gz2.sum(axis=0)
            if li:
                gx = _col2im(gz2 @ w.reshape(oc, -1), xshape, w.shape[2], 1)
        self.t += 1
        lr, b1_, b2_, eps = CONFIG_C["lr"], 0.9, 0.999, 1e-8
        c1, c2 = 1 - b1_ ** self.t, 1 - b2_ ** self.t
        for p, gr, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1_
            m += (1 - b1_) * gr
            v *= b2_
            v += (1 - b2_) * gr * gr
            p -= (lr / c1) * m / (np.sqrt(v / c2) + eps)

    def logits(self, x):
        return self._forward(x)[0]


COMPETITORS: dict[str, type[Competitor]] = {"steepest": Steepest, "torch": Torch,
                                            "numpy": ReferenceConvNet}


def gemm_floor(n: int = 128, reps: int = 5) -> float:
    """Seconds of the matrix products alone in one config-C step (forward, dW, dx)."""
    rng = np.random.default_rng(0)

    def r(*s: int) -> np.ndarray:
        return rng.standard_normal(s).astype(np.float32)

    c1, w1, g1 = r(n * 676, 9), r(9, 32), r(n * 676, 32)
    c2, w2, g2 = r(n * 121, 288), r(288, 64), r(n * 121, 64)
    f, w3, g3 = r(n, 1600), r(1600, 10), r(n, 10)

    def step() -> None:
        c1 @ w1, c2 @ w2, f @ w3                       # forward
        g1.T @ c1, c2.T @ g2, g3.T @ f                 # dW (each in its fast orientation)
        g2 @ w2.T, g3 @ w3.T                           # dx (the input needs none)

    step()
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t0) / reps


def _data(synthetic: bool, quick: bool) -> tuple[np.ndarray, ...]:
    from .common import load_data

    d = load_data(synthetic, quick)
    n_train = 1024 if quick else len(d.x_train)
    xtr = d.x_train[:n_train].reshape(-1, 1, 28, 28).astype(np.float32)
    xte = d.x_test[:1000 if quick else None].reshape(-1, 1, 28, 28).astype(np.float32)
    return xtr, d.y_train[:n_train].astype(np.int64), xte, d.y_test[:len(xte)].astype(
        np.int64), d.source


def peak_memory(lib: str, synthetic: bool, quick: bool, threads: int | None
                ) -> dict[str, float]:
    """MiB the peak RSS of a fresh process grows by during one epoch of ``lib``: over the
    RSS after a warm step (``peak_mib``) and over the RSS before it (``peak_total_mib``)."""
    cmd = [sys.executable, "-m", "benchmarks.convnet", "--peak", lib]
    cmd += ["--synthetic"] * synthetic + ["--quick"] * quick
    cmd += ["--threads", str(threads)] if threads else []
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=1800)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: float(r[k]) for k in ("peak_mib", "peak_total_mib")}


def run(synthetic: bool, quick: bool, rounds: int, threads: int | None = None,
        log: Callable[[str], None] = print, memory: bool = True) -> dict[str, Any]:
    """Seconds per epoch (and per step), peak memory and test accuracy of config C."""
    xtr, ytr, xte, yte, source = _data(synthetic, quick)
    weights = initial_weights()
    comps = {name: cls(xtr, ytr, weights, 0) for name, cls in COMPETITORS.items()}
    log(f"  config C on {len(xtr)} samples ({source}), {rounds} timed epochs each")
    t = interleaved({name: c.train_epoch for name, c in comps.items()}, rounds, log=log)
    steps = math.ceil(len(xtr) / CONFIG_C["batch_size"])
    res: dict[str, Any] = {"description": CONFIG_C["description"], "n_train": len(xtr),
                           "steps_per_epoch": steps, "libraries": {}}
    for name, c in comps.items():
        s = summary(t.samples[name])
        res["libraries"][name] = {"seconds_per_epoch": s, "ms_per_step": s["median"] / steps
                                  * 1e3, "test_accuracy": c.accuracy(xte, yte)}
    floor = gemm_floor()
    res["gemm_floor_ms_per_step"] = floor * 1e3
    # paired per-round ratios: each round's pair of epochs saw the same machine load
    res["throughput_vs_torch"] = t.paired_ratio("torch", "steepest")
    res["throughput_vs_numpy_reference"] = t.paired_ratio("numpy", "steepest")
    res["steepest_vs_gemm_floor"] = res["libraries"]["steepest"]["ms_per_step"] / (floor * 1e3)
    if memory:
        for name in comps:
            res["libraries"][name].update(peak_memory(name, synthetic, quick, threads))
    for name, r in res["libraries"].items():
        log(f"  {name:9s} {r['ms_per_step']:7.1f} ms/step  acc {r['test_accuracy']:.4f}"
            + (f"  peak +{r['peak_mib']:.0f} MiB (+{r['peak_total_mib']:.0f} from setup)"
               if "peak_mib" in r else ""))
    log(f"  GEMM floor {floor * 1e3:.1f} ms/step; steepest/torch throughput "
        f"{res['throughput_vs_torch']:.2f}x")
    return res


def render(r: dict[str, Any]) -> list[str]:
    """Markdown lines for the report."""
    lines = [f"\n### Config C: {r['description']}\n",
             "| library | ms/step (median) | s/epoch | test acc | peak RSS growth after a warm "
             "step (MiB) | peak RSS growth from setup (MiB) |",
             "|---|---|---|---|---|---|"]
    for name, v in r["libraries"].items():
        peak = (f"{v['peak_mib']:.0f} | {v['peak_total_mib']:.0f}" if "peak_mib" in v
                else "- | -")
        lines.append(f"| {name} | {v['ms_per_step']:.1f} | "
                     f"{v['seconds_per_epoch']['median']:.2f} | {v['test_accuracy']:.4f} | "
                     f"{peak} |")
    lines.append(f"| GEMM floor | {r['gemm_floor_ms_per_step']:.1f} | - | - | - | - |")
    lines.append(f"\nsteepest / PyTorch throughput: {r['throughput_vs_torch']:.2f}x; "
                 f"steepest / NumPy reference: {r['throughput_vs_numpy_reference']:.2f}x")
    return lines


def _peak_main(lib: str, synthetic: bool, quick: bool, threads: int | None) -> None:
    from .common import peak_rss_mib, reset_peak_rss, rss_mib, set_threads

    set_threads(threads)
    xtr, ytr, *_ = _data(synthetic, quick)
    comp = COMPETITORS[lib](xtr, ytr, initial_weights(), 0)
    setup = rss_mib() or 0.0
    reset_peak_rss()
    comp.step(xtr[:128], ytr[:128])  # warm: lazily allocated state exists
    warm_peak = peak_rss_mib()
    base = rss_mib() or 0.0
    reset_peak_rss()
    comp.train_epoch(1)
    peak = peak_rss_mib()
    print(json.dumps({"peak_mib": peak - base,
                      "peak_total_mib": max(peak, warm_peak) - setup}))


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m benchmarks.convnet")
    p.add_argument("--peak", choices=LIBS, help="print one library's peak memory and exit")
    p.add_argument("--synthetic", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    if a.peak:
        _peak_main(a.peak, a.synthetic, a.quick, a.threads)
    else:
        from .common import set_threads

        set_threads(a.threads)
        print(json.dumps(run(a.synthetic, a.quick, a.rounds, a.threads), indent=2))
