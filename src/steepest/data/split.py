"""Train/validation/test splits and K-fold cross-validation, optionally stratified.

Split sizes are rounded with the largest-remainder method so they always add up to the
number of samples; with ``stratify`` every class is spread over the splits so that each
split's count of each class is within one sample of its exact share, while the split sizes
stay the same as without stratification. Splits are disjoint and cover every sample.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from steepest.random import generator_for

from .dataset import as_array

__all__ = [
    "split_indices",
    "train_val_test_split",
    "train_test_split",
    "KFold",
    "StratifiedKFold",
]


def _apportion(total: int, fractions: Sequence[float]) -> np.ndarray:
    """Integer sizes summing to ``total``, each the floor or ceil of ``total * f``."""
    exact = [total * f for f in fractions]
    sizes = [math.floor(x) for x in exact]
    rest = total - sum(sizes)
    # Largest remainder first; ties go to the earlier split (stable sort).
    order = sorted(range(len(exact)), key=lambda k: -(exact[k] - sizes[k]))
    for k in order[:rest]:
        sizes[k] += 1
    return np.asarray(sizes, dtype=np.int64)


def _check_fractions(fractions: Sequence[float], where: str) -> list[float]:
    try:
        fr = [float(f) for f in fractions]
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: fractions must be a sequence of numbers, got {fractions!r}"
        ) from None
    if not fr:
        raise ValueError(f"{where}: fractions must not be empty")
    if any(not math.isfinite(f) or f < 0 for f in fr):
        raise ValueError(f"{where}: every fraction must be finite and >= 0, got {tuple(fr)}")
    total = math.fsum(fr)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where}: fractions must sum to 1, got {tuple(fr)} (sum {total:g})")
    return [f / total for f in fr]


def _stratified_counts(
    class_counts: np.ndarray, fractions: Sequence[float], totals: np.ndarray
) -> np.ndarray:
    """Matrix ``counts[c, s]`` with row sums ``class_counts``, column sums ``totals``.

    Each entry is the floor or the ceil of ``class_counts[c] * fractions[s]`` (a controlled
    rounding): a greedy pass hands out the missing units to the splits that need most,
    then augmenting paths repair any split left short.
    """
    exact = np.outer(class_counts, np.asarray(fractions, dtype=np.float64))
    base = np.floor(exact + 1e-9).astype(np.int64)
    frac = exact - base
    eligible = frac > 1e-9
    row_need = class_counts - base.sum(axis=1)
    col_need = totals - base.sum(axis=0)
    extra = np.zeros_like(base)
    n_splits = base.shape[1]
    # Greedy: classes with the most units to place first; each unit to the eligible split
    # still needing the most (ties: larger fractional part).
    for c in np.argsort(-row_need, kind="stable"):
        for _ in range(int(row_need[c])):
            cand = [
                s for s in range(n_splits) if eligible[c, s] and not extra[c, s] and col_need[s] > 0
            ]
            if not cand:
                break
            s = max(cand, key=lambda j: (col_need[j], frac[c, j]))
            extra[c, s] = 1
            col_need[s] -= 1
    # Repair: place the units left over by moving others along augmenting paths.
    left = row_need - extra.sum(axis=1)
    for c0 in np.flatnonzero(left > 0):
        for _ in range(int(left[c0])):
            # BFS from class c0 over (class -> split with a free eligible cell) and
            # (split -> class holding a unit there) to a split with col_need > 0.
            parent: dict[tuple[str, int], tuple[str, int] | None] = {("c", int(c0)): None}
            queue = [("c", int(c0))]
            found = None
            while queue and found is None:
                kind, i = queue.pop(0)
                if kind == "c":
                    for s in range(n_splits):
                        if eligible[i, s] and not extra[i, s] and ("s", s) not in parent:
                            parent[("s", s)] = (kind, i)
                            if col_need[s] > 0:
                                found = ("s", s)
                                break
                            queue.append(("s", s))
                else:
                    for c in np.flatnonzero(extra[:, i]):
                        if ("c", int(c)) not in parent:
                            parent[("c", int(c))] = (kind, i)
                            queue.append(("c", int(c)))
            if found is None:
                # Column totals cannot all be met exactly; place the unit anywhere legal.
                free = [s for s in range(n_splits) if eligible[c0, s] and not extra[c0, s]]
                s = free[0] if free else int(np.argmax(frac[c0]))
                extra[c0, s] += 1
                col_need[s] -= 1
                continue
            col_need[found[1]] -= 1
            node: tuple[str, int] | None = found
            while node is not None and parent[node] is not None:
                prev = parent[node]
                assert prev is not None
                if node[0] == "s":  # edge class prev -> split node: add unit
                    extra[prev[1], node[1]] = 1
                else:  # edge split prev -> class node: move unit away from that split
                    extra[node[1], prev[1]] = 0
                node = prev
    return base + extra


def split_indices(
    n: int,
    fractions: Sequence[float],
    stratify: Any = None,
    seed: int | None = None,
    shuffle: bool = True,
) -> list[np.ndarray]:
    """Partition ``range(n)`` into ``len(fractions)`` disjoint index arrays.

    Parameters
    ----------
    n
        Number of samples.
    fractions
        Share of each part; each >= 0, summing to 1. Sizes are rounded by largest
        remainder so they add up to ``n``.
    stratify
        Optional labels (length ``n``): every part then holds each class in proportion,
        within one sample.
    seed
        Seed of the shuffle; ``None`` uses ``steepest.random.generator()``.
    shuffle
        If false, the parts are consecutive ranges in the original order (time series);
        not allowed with ``stratify``.
    """
    where = "split_indices"
    fr = _check_fractions(fractions, where)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{where}: n must be a non-negative integer, got {n!r}")
    n = int(n)
    totals = _apportion(n, fr)
    if stratify is None:
        order = generator_for(seed, where).permutation(n) if shuffle else np.arange(n)
        bounds = np.concatenate([[0], np.cumsum(totals)])
        return [order[bounds[k] : bounds[k + 1]] for k in range(len(fr))]
    if not shuffle:
        raise ValueError(f"{where}: stratify needs shuffle=True (a stratified split reorders)")
    labels = as_array(stratify, "stratify")
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"{where}: stratify must be a 1-D label array of length {n}, got shape {labels.shape}"
        )
    rng = generator_for(seed, where)
    classes, inverse, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    counts = _stratified_counts(class_counts.astype(np.int64), fr, totals)
    # Shuffle all samples once, then stable-sort by class: each class's members end up in a
    # random order, contiguous, so one cut per class and split is enough.
    perm = rng.permutation(n)
    by_class = perm[np.argsort(inverse.ravel()[perm], kind="stable")]
    class_start = np.concatenate([[0], np.cumsum(class_counts)])
    # offsets[c, s]: where split s's block starts inside class c.
    offsets = class_start[:-1, None] + np.concatenate(
        [np.zeros((len(classes), 1), np.int64), np.cumsum(counts, axis=1)[:, :-1]], axis=1
    )
    parts = []
    for s in range(len(fr)):
        starts, sizes = offsets[:, s], counts[:, s]
        # Gather every class's block for split s with one fancy index (no per-sample loop).
        rel = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        idx = by_class[np.repeat(starts, sizes) + rel]
        parts.append(idx[rng.permutation(idx.shape[0])])
    return parts


def _gather(arrays: Sequence[Any], where: str) -> tuple[list[np.ndarray], int]:
    if not arrays:
        raise ValueError(f"{where}: needs at least one array")
    arrs = [as_array(a, where) for a in arrays]
    for k, a in enumerate(arrs):
        if a.ndim == 0:
            raise ValueError(f"{where}: array {k} is a 0-d scalar; it needs a sample axis")
    lengths = [a.shape[0] for a in arrs]
    if len(set(lengths)) != 1:
        raise ValueError(f"{where}: all arrays must have the same length, got lengths {lengths}")
    return arrs, lengths[0]


def train_val_test_split(
    *arrays: Any,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    stratify: Any = None,
    seed: int | None = None,
    shuffle: bool = True,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Split arrays into train, validation and test parts.

    Returns ``(train, val, test)``, each a tuple with one array per input, e.g.
    ``(X_tr, y_tr), (X_va, y_va), (X_te, y_te) = train_val_test_split(X, y, stratify=y)``.
    Fit scalers and choose hyperparameters on train/val only; touch test once at the end.
    See :func:`split_indices` for ``fractions``, ``stratify``, ``seed``, ``shuffle``.
    """
    where = "train_val_test_split"
    if len(fractions) != 3:
        raise ValueError(
            f"{where}: fractions must have 3 entries (train, val, test), got {fractions!r}"
        )
    arrs, n = _gather(arrays, where)
    parts = split_indices(n, fractions, stratify=stratify, seed=seed, shuffle=shuffle)
    tr, va, te = (tuple(np.take(a, idx, axis=0) for a in arrs) for idx in parts)
    return tr, va, te


def train_test_split(
    *arrays: Any,
    test_size: float = 0.2,
    stratify: Any = None,
    seed: int | None = None,
    shuffle: bool = True,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Split arrays into ``(train, test)`` tuples; ``test_size`` is the test fraction."""
    where = "train_test_split"
    try:
        ts = float(test_size)
    except (TypeError, ValueError):
        ts = math.nan
    if not 0.0 <= ts <= 1.0:
        raise ValueError(f"{where}: test_size must be a number in [0, 1], got {test_size!r}")
    arrs, n = _gather(arrays, where)
    parts = split_indices(n, (1.0 - ts, ts), stratify=stratify, seed=seed, shuffle=shuffle)
    tr, te = (tuple(np.take(a, idx, axis=0) for a in arrs) for idx in parts)
    return tr, te


class KFold:
    """K-fold cross-validation indices, like ``sklearn.model_selection.KFold``.

    The first ``n % n_splits`` folds get one extra sample. Without shuffling the folds
    are consecutive blocks (identical to scikit-learn's). Index arrays are sorted.
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, seed: int | None = None) -> None:
        name = type(self).__name__
        if (
            isinstance(n_splits, bool)
            or not isinstance(n_splits, (int, np.integer))
            or n_splits < 2
        ):
            raise ValueError(f"{name}: n_splits must be an integer >= 2, got {n_splits!r}")
        if seed is not None and not shuffle:
            raise ValueError(f"{name}: seed has no effect without shuffle=True")
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        self.seed = seed

    def get_n_splits(self, X: Any = None, y: Any = None) -> int:
        """Number of folds."""
        return self.n_splits

    def _n_samples(self, X: Any) -> int:
        n = X if isinstance(X, (int, np.integer)) else len(as_array(X, type(self).__name__))
        if self.n_splits > n:
            raise ValueError(
                f"{type(self).__name__}: cannot make n_splits={self.n_splits} folds from "
                f"{n} samples"
            )
        return int(n)

    def _fold_ids(self, n: int, y: Any) -> np.ndarray:
        order = generator_for(self.seed, "KFold").permutation(n) if self.shuffle else np.arange(n)
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        fold = np.empty(n, dtype=np.int64)
        fold[order] = np.repeat(np.arange(self.n_splits), sizes)
        return fold

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, val_idx)`` for each fold; ``X`` may also be a sample count."""
        n = self._n_samples(X)
        fold = self._fold_ids(n, y)
        for k in range(self.n_splits):
            mask = fold == k
            yield np.flatnonzero(~mask), np.flatnonzero(mask)

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(n_splits={self.n_splits}, shuffle={self.shuffle}, seed={self.seed})"


class StratifiedKFold(KFold):
    """K-fold where every fold keeps the class proportions of ``y`` (within one sample).

    Uses scikit-learn's allocation (sorted labels dealt round-robin to the folds), so fold
    sizes equal scikit-learn's and, without shuffling, so do the folds themselves.
    """

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, val_idx)`` per fold; ``y`` holds the class labels."""
        if y is None:
            raise ValueError("StratifiedKFold.split: needs the labels y")
        yield from super().split(X, y)

    def _fold_ids(self, n: int, y: Any) -> np.ndarray:
        labels = as_array(y, "StratifiedKFold")
        if labels.ndim != 1 or labels.shape[0] != n:
            raise ValueError(
                f"StratifiedKFold.split: y must be 1-D with {n} labels, got shape {labels.shape}"
            )
        # Encode classes in order of first appearance, as scikit-learn does, so that the
        # round-robin allocation (and hence every fold) matches its folds exactly.
        _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
        _, class_perm = np.unique(first, return_inverse=True)
        inverse = class_perm[inv.ravel()]
        counts = np.bincount(inverse)
        k = self.n_splits
        if k > counts.max():
            raise ValueError(
                f"StratifiedKFold: n_splits={k} is greater than the number of members in "
                f"every class (largest class has {counts.max()})"
            )
        if k > counts.min():
            warnings.warn(
                f"StratifiedKFold: the least populated class has only {counts.min()} members, "
                f"fewer than n_splits={k}",
                UserWarning,
                stacklevel=3,
            )
        n_classes = counts.shape[0]
        y_sorted = np.sort(inverse)
        # allocation[f, c]: members of class c in fold f (deal sorted labels round-robin).
        allocation = np.stack([np.bincount(y_sorted[f::k], minlength=n_classes) for f in range(k)])
        rng = generator_for(self.seed, "StratifiedKFold") if self.shuffle else None
        fold = np.empty(n, dtype=np.int64)
        for c in range(n_classes):  # a loop over classes, not samples
            ids = np.repeat(np.arange(k), allocation[:, c])
            if rng is not None:
                rng.shuffle(ids)
            fold[inverse == c] = ids
        return fold
