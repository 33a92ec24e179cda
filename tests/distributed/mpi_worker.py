"""Run under ``mpiexec -n N python mpi_worker.py MODE OUT ...`` by test_mpi.py.

Modes: ``fit`` (train MNIST-small, rank 0 saves the weights), ``collectives`` (check
all_reduce / broadcast / barrier / gather_bytes), ``ddp`` (a hand-written loop with
DistributedDataParallel), ``raise`` (rank 1 raises mid-epoch), ``hang`` (rank 1 stops
taking part without dying).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import steepest as st
from steepest import distributed as dist
from steepest.data.datasets import mnist_small
from steepest.models import mlp
from steepest.train import Callback, fit


def data() -> tuple[np.ndarray, np.ndarray]:
    x, y = mnist_small("train")
    return x[:1200], y[:1200]


class RaiseAt(Callback):
    def __init__(self, rank: int, step: int, epoch: int = 1) -> None:
        self.rank, self.step, self.epoch = rank, step, epoch

    def due(self, trainer, step) -> bool:
        return (dist.is_initialized() and dist.rank() == self.rank and step == self.step
                and trainer.epoch == self.epoch)

    def on_batch_end(self, trainer, step, logs):
        if self.due(trainer, step):
            raise RuntimeError(f"injected failure at step {step}")


class HangAt(RaiseAt):
    def on_train_begin(self, trainer):
        dist.init(timeout=5)  # short, but only once the ranks met in fit's broadcasts

    def on_batch_end(self, trainer, step, logs):
        if self.due(trainer, step):
            time.sleep(3600)


def run_fit(a: argparse.Namespace, callbacks=()) -> None:
    st.manual_seed(0)
    x, y = data()
    model = mlp([784, 32, 10], dropout=a.dropout, batch_norm=a.bn)
    kinds = [type(m) for m in model.modules()]
    opt = st.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, "cross_entropy", opt, (x, y), (x[:200], y[:200]), epochs=a.epochs,
        batch_size=a.batch, seed=1, progress=False, metrics=["accuracy"],
        checkpoint=a.checkpoint, resume=a.resume, callbacks=callbacks,
        distributed=a.distributed)
    assert [type(m) for m in model.modules()] == kinds  # fit's layer swap is undone
    if not a.distributed or dist.rank() == 0:
        st.save(model.state_dict(), a.out)


def run_collectives(a: argparse.Namespace) -> None:
    dist.init()
    r, n = dist.rank(), dist.world_size()
    v = np.full(3, r + 1, dtype=np.float32)
    dist.all_reduce(v)
    assert (v == n * (n + 1) / 2).all(), v
    v = np.full(2, r, dtype=np.float64)
    dist.all_reduce(v, op=dist.ReduceOp.AVG)
    assert np.allclose(v, (n - 1) / 2), v
    m = np.array([r], dtype=np.int64)
    dist.all_reduce(m, op="max")
    assert m[0] == n - 1
    t = st.tensor(np.arange(4, dtype=np.float32) * (r + 1))
    dist.broadcast(t, src=n - 1)
    assert (t.data == np.arange(4) * n).all(), t
    dist.barrier()
    got = dist.gather_bytes(f"rank{r}".encode() * (r + 1))
    assert got == [f"rank{k}".encode() * (k + 1) for k in range(n)], got
    assert dist.broadcast_bytes(b"from zero" if r == 0 else b"") == b"from zero"
    if r == 0:
        with open(a.out, "w") as f:
            f.write(f"ok {n}\n")


def run_ddp(a: argparse.Namespace) -> None:
    """A loop of one's own: global batch = ranks' parts, gradients averaged by DDP."""
    st.manual_seed(0)
    x, y = data()
    n = dist.init().size if a.distributed else 1
    model = mlp([784, 16, 10])
    if a.distributed:  # different initial weights: the broadcast must make them rank 0's
        for p in model.parameters():
            p.data += dist.rank()
    net = dist.DistributedDataParallel(model) if a.distributed else model
    opt = st.optim.SGD(model.parameters(), lr=0.1)
    B = a.batch * n
    for start in range(0, len(x), B):
        idx = np.arange(start, min(start + B, len(x)))
        if a.distributed:
            idx = idx[dist.rank()::n]
        out = net(st.tensor(x[idx]))
        loss = st.functional.cross_entropy(out, y[idx])
        opt.zero_grad()
        loss.backward()
        if a.distributed:
            net.sync_gradients(len(idx))
        opt.step()
    if not a.distributed or dist.rank() == 0:
        st.save(model.state_dict(), a.out)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode")
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bn", action="store_true")
    p.add_argument("--fail-epoch", type=int, default=1)
    p.add_argument("--checkpoint")
    p.add_argument("--resume")
    p.add_argument("--single", dest="distributed", action="store_false")
    a = p.parse_args()
    if a.mode == "fit":
        run_fit(a)
    elif a.mode == "collectives":
        run_collectives(a)
    elif a.mode == "ddp":
        run_ddp(a)
    elif a.mode == "raise":
        run_fit(a, [RaiseAt(1, 3, a.fail_epoch)])
    elif a.mode == "hang":
        run_fit(a, [HangAt(1, 3)])


if __name__ == "__main__":
    main()
