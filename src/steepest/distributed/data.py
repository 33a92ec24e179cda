"""Sharding: each rank's part of every global mini-batch.

The rule (what makes N ranks x batch b equal to one process x batch N*b):

* every rank builds the *same* loader over the whole data set with the *global* batch
  size ``B = N * b`` and the same seed, so every rank knows the one-process order of the
  epoch (the permutation of ``(seed, epoch)``) and its global batches;
* of each global batch, rank ``r`` takes positions ``r, r + N, r + 2N, ...`` (the
  interleaving of ``torch.utils.data.DistributedSampler``); the ranks' parts are disjoint
  and together are exactly the global batch;
* nothing is padded and, unless ``drop_last``, nothing is dropped: the last, smaller global
  batch is split the same way, so parts differ by at most one sample, and gradients are
  weighted by each rank's sample count, which gives exactly the global batch's mean.
  When that last batch has fewer samples than ranks, a rank with no sample gets one
  duplicate with weight 0 (its gradient counts for nothing; the epoch's logged training
  loss then includes that sample once).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import DataLoader, Dataset


class ShardView(Dataset):
    """``dataset`` seen by rank ``rank`` of ``world``: ``view[idx]`` gathers only this
    rank's positions of the global batch ``idx``. ``count`` is the true number of samples
    of the last gather (0 for a padded duplicate), ``rows`` the global batch's size."""

    def __init__(self, dataset: Any, rank: int, world: int) -> None:
        self.dataset, self.rank, self.world = dataset, int(rank), int(world)
        self.count = self.rows = 0

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        idx = np.asarray(index)
        mine = idx[self.rank::self.world]
        self.count, self.rows = len(mine), len(idx)
        if not len(mine):  # fewer samples than ranks in the last batch
            mine = idx[:1]
        return self.dataset[mine]


def shard_loader(loader: DataLoader, rank: int, world: int, seed: int) -> DataLoader:
    """The loader of rank ``rank``: global batch ``world * loader.batch_size``, ``seed``
    (the same on every rank), this rank's part of each batch."""
    return DataLoader(ShardView(loader.dataset, rank, world),
                      batch_size=loader.batch_size * world, shuffle=loader.shuffle,
                      drop_last=loader.drop_last, seed=seed)
