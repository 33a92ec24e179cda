"""``torch.utils.data`` names: aliases of :mod:`steepest.data`, plus ``random_split``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data import DataLoader, Dataset, Subset, TensorDataset
from ..random import generator_for

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]


def random_split(dataset: Dataset, lengths: Sequence[float], seed: int | None = None
                 ) -> list[Subset]:
    """Split ``dataset`` into random non-overlapping subsets of the given lengths (counts,
    or fractions summing to 1 as torch; leftover items go round-robin to the first ones)."""
    n = len(dataset)
    ls = list(lengths)
    if ls and all(0 <= f <= 1 for f in ls) and abs(sum(ls) - 1) < 1e-9 and sum(ls) != n:
        counts = [int(np.floor(n * f)) for f in ls]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(v) for v in ls]
    if sum(counts) != n or any(c < 0 for c in counts):
        raise ValueError(f"random_split: lengths {ls} do not sum to the dataset length {n}")
    perm = generator_for(seed, "random_split").permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out
