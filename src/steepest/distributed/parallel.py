"""Data-parallel training: identical replicas, one fused gradient all-reduce per step.

Horovod's recipe on MPI: broadcast rank 0's state so every replica starts identical,
average the gradients after each backward with one in-place all-reduce over a flat buffer
(not one call per tensor), step every replica's optimiser with the same gradient, and let
rank 0 alone write files. :class:`DistributedDataParallel` is the wrapper for a loop of
your own; ``fit(..., distributed=True)`` uses :class:`FitSync` and needs nothing else.

Not overlapped with backward: MPICH advances a non-blocking reduction only inside MPI
calls, and the backward walk makes none, so an early start would complete no sooner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import functional as F
from .. import random as _random
from ..data import DataLoader, Subset
from ..nn.layers import BatchNorm1d, Dropout
from ..nn.module import Module
from ..tensor import Tensor
from .comm import (
    DistributedError,
    Session,
    all_reduce,
    broadcast,
    broadcast_bytes,
    gather_bytes,
    init,
)
from .data import ShardView, shard_loader
from .sync_batchnorm import SyncBatchNorm

_DEFAULT_BUCKET_MB = 25.0  # torch's bucket_cap_mb


def broadcast_module(module: Module, src: int = 0) -> None:
    """Overwrite every parameter and buffer with rank ``src``'s values, in place."""
    for _, p in module.named_parameters():
        broadcast(p.data, src)
    for _, b in module.named_buffers():
        if b is not None:
            broadcast(b, src)


class GradientAllReduce:
    """Averages the gradients of ``params`` over ranks through one flat buffer.

    The buffer holds every gradient scaled by this rank's sample count, then the count;
    one in-place ``Iallreduce`` per bucket (one bucket up to ``bucket_cap_mb``, the whole
    model for any MLP here) sums them, and each gradient becomes ``sum / total count``:
    the mean over the global batch even when ranks hold different numbers of samples.
    """

    def __init__(self, params: Sequence[Any], session: Session,
                 bucket_cap_mb: float = _DEFAULT_BUCKET_MB) -> None:
        self.params = [p for p in params if p.requires_grad]
        if not self.params:
            raise ValueError("DistributedDataParallel: the model has no trainable parameters")
        dtypes = {p.data.dtype for p in self.params}
        if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
            raise TypeError(f"DistributedDataParallel: all trainable parameters must share "
                            f"one float dtype to be fused, got {sorted(map(str, dtypes))}")
        self.session = session
        sizes = [p.data.size for p in self.params]
        self.flat = np.zeros(sum(sizes) + 1, dtype=next(iter(dtypes)))
        self.views, start = [], 0
        for p, n in zip(self.params, sizes):
            self.views.append(self.flat[start:start + n].reshape(p.data.shape))
            start += n
        cap = max(int(bucket_cap_mb * 2**20 / self.flat.itemsize), 1)
        self.buckets = [(a, min(a + cap, self.flat.size)) for a in range(0, self.flat.size, cap)]

    @property
    def nbytes(self) -> int:
        """Bytes all-reduced per step."""
        return int(self.flat.nbytes)

    def __call__(self, count: int) -> int:
        """Average the gradients (``count``: samples behind this rank's gradients);
        returns the global sample count."""
        for p, view in zip(self.params, self.views):
            if p.grad is None:
                view[...] = 0
            else:
                np.multiply(p.grad.data, count, out=view)
        self.flat[-1] = count
        s = self.session
        requests = [s.comm.Iallreduce(s.MPI.IN_PLACE, self.flat[a:b], op=s.MPI.SUM)
                    for a, b in self.buckets]
        for request in requests:
            s.wait(request, f"the gradient all-reduce ({self.nbytes:,} bytes)")
        total = float(self.flat[-1])
        if total <= 0:
            raise DistributedError("gradient all-reduce: no rank had a sample in this step")
        for p, view in zip(self.params, self.views):
            p.grad = Tensor(view / total)  # a fresh array: gradients may be shared
        return int(total)


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training under ``mpiexec`` (Horovod-style).

    On construction rank 0's parameters and buffers are broadcast to every rank. The
    forward is the module's. After ``loss.backward()`` call :meth:`sync_gradients` (with
    this rank's batch size when ranks' batches differ) before ``optimizer.step()``: unlike
    ``torch``'s DDP, steepest's autograd has no hooks to do it during backward. State-dict
    keys carry the ``module.`` prefix, as in PyTorch; save ``ddp.module.state_dict()`` on
    rank 0 for a plain model file.
    """

    def __init__(self, module: Module, bucket_cap_mb: float = _DEFAULT_BUCKET_MB) -> None:
        super().__init__()
        session = init()
        self.module = module
        broadcast_module(module)
        self._reduce = GradientAllReduce(list(module.parameters()), session, bucket_cap_mb)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def sync_gradients(self, batch_size: int = 1) -> int:
        """Average gradients over ranks, weighted by ``batch_size``; returns the global
        batch size."""
        return self._reduce(batch_size)


_ROOT_ONLY = ("ProgressBar", "CSVLogger", "ModelCheckpoint")


class DistributedDropout(Dropout):
    """Dropout that applies, to this rank's rows, the rows of the mask one process would
    draw for the whole global batch (every rank draws that mask from the same generator
    state), so distributed training keeps the one-process dropout masks."""

    _shard: ShardView

    def forward(self, x: Any) -> Any:
        shard = self._shard
        if not self.training or self.p == 0.0 or not shard.rows:
            return super().forward(x)
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        mask = F.dropout(np.ones((shard.rows, *data.shape[1:]), dtype=data.dtype), self.p)
        part = mask[shard.rank::shard.world] if shard.count else mask[:1]
        if part.shape != data.shape:  # not a batch of the sharded loader
            return super().forward(x)
        return x * part


def _swap_layers(model: Module, shard: ShardView) -> list[tuple[Module, type]]:
    """Make the Dropout and BatchNorm1d layers distributed for one ``fit``: by class, so
    parameters, buffers, the optimiser's references and hooks stay the same objects."""
    swapped = []
    for m in model.modules():
        new = {Dropout: DistributedDropout, BatchNorm1d: SyncBatchNorm}.get(type(m))
        if new is not None:
            swapped.append((m, type(m)))
            m.__class__ = new
            object.__setattr__(m, "_shard", shard)
    return swapped


class FitSync:
    """What ``fit(..., distributed=True)`` adds to the single-process loop.

    Built after the loaders: it broadcasts rank 0's weights, buffers, loader seed and RNG
    state, shards the loaders, and for the length of the ``fit`` makes ``Dropout`` layers
    :class:`DistributedDropout` and ``BatchNorm1d`` layers :class:`SyncBatchNorm`, so that
    the run equals one process with the global batch in every respect. Then the loop
    calls :meth:`sync` after every backward, :meth:`reduce_sums` at the end of every epoch,
    :meth:`mean_over_ranks` after validating on :attr:`val_loader`, and :meth:`finish`;
    only rank 0 saves checkpoints.
    """

    def __init__(self, model: Module, loader: Any, val_loader: Any) -> None:
        s = init()
        self.session, self.model = s, model
        broadcast_module(model)
        seed = np.array([0 if loader.seed is None else loader.seed], dtype=np.int64)
        broadcast(seed)
        self.loader = shard_loader(loader, s.rank, s.size, int(seed[0]))
        self.view: ShardView = self.loader.dataset
        self.val_loader = None
        if val_loader is not None:  # validation split as positions r, r + N, ...
            n_val = len(val_loader.dataset)
            if n_val < s.size:
                raise ValueError(f"fit: the validation set ({n_val} samples) is smaller "
                                 f"than the number of ranks ({s.size})")
            part = Subset(val_loader.dataset, np.arange(s.rank, n_val, s.size))
            self.val_loader = DataLoader(part, batch_size=val_loader.batch_size)
        # one generator state on every rank: the global dropout masks stay in step
        _random.set_rng_state(json.loads(broadcast_bytes(
            json.dumps(_random.get_rng_state()).encode())))
        self._reduce = GradientAllReduce(list(model.parameters()), s)
        self._swapped = _swap_layers(model, self.view)

    @property
    def is_root(self) -> bool:
        return self.session.is_root

    def local_callbacks(self, callbacks: Iterable[Any]) -> list[Any]:
        """Callbacks that print or write files run on rank 0 only (their class is one of
        ProgressBar, CSVLogger, ModelCheckpoint, or sets ``rank_zero_only = True``)."""
        if self.is_root:
            return list(callbacks)
        return [cb for cb in callbacks if not (getattr(cb, "rank_zero_only", False) or any(
            k.__name__ in _ROOT_ONLY for k in type(cb).__mro__))]

    def sync(self) -> None:
        """Average this step's gradients over the ranks (after backward, before clipping)."""
        self._reduce(self.view.count)

    def reduce_sums(self, sums: dict[str, float]) -> dict[str, float]:
        """An epoch's running sums (samples, loss, metrics) over all ranks; also hands rank
        0's buffers (BatchNorm running statistics) to every rank."""
        keys = [k for k in sums if k != "time"]  # one order on every rank
        vec = np.array([sums[k] for k in keys], dtype=np.float64)
        all_reduce(vec)
        for _, b in self.model.named_buffers():
            if b is not None:
                broadcast(b)
        return {**sums, **dict(zip(keys, vec.tolist()))}

    def mean_over_ranks(self, local: dict[str, float]) -> dict[str, float]:
        """Validation means of this rank's part (:attr:`val_loader`) combined by sample
        count: every rank gets the one-process numbers."""
        n = len(self.val_loader.dataset)
        keys = list(local)
        vec = np.array([n] + [local[k] * n for k in keys], dtype=np.float64)
        all_reduce(vec)
        return {k: float(v / vec[0]) for k, v in zip(keys, vec[1:])}

    def finish(self) -> None:
        """End of ``fit``: the model's layers get their own classes back."""
        for m, old in self._swapped:
            m.__class__ = old
            object.__delattr__(m, "_shard")
        self._swapped = []

    def state_dict(self) -> dict[str, Any]:
        """Collective: world size and every rank's RNG state, for rank 0's checkpoint."""
        states = gather_bytes(json.dumps(_random.get_rng_state()).encode())
        return {"world_size": self.session.size, "rng": [b.decode() for b in states]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Check a checkpoint's world size and restore this rank's RNG state."""
        s = self.session
        if not isinstance(state, dict) or "world_size" not in state:
            raise DistributedError("resume: the checkpoint was written by a single-process "
                                   "run; resume it without distributed=True (--distributed)")
        saved = int(state["world_size"])
        if saved != s.size:
            raise DistributedError(f"resume: the checkpoint was written by {saved} ranks but "
                                   f"this job has {s.size}; restart with mpiexec -n {saved} "
                                   f"(the batches, and so the result, depend on the number "
                                   f"of ranks)")
        rng = state.get("rng")
        if not isinstance(rng, list) or len(rng) != saved:
            raise DistributedError("resume: the checkpoint's distributed RNG states are "
                                   "missing or damaged")
        _random.set_rng_state(json.loads(rng[s.rank]))
