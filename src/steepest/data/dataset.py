"""Datasets: indexable collections of samples that return whole batches at once.

A steepest :class:`Dataset` differs from PyTorch's in one deliberate way: ``dataset[idx]``
accepts an *array* of indices and returns the whole batch as a tuple of arrays, gathered
by one fancy index per array. A loader therefore never runs a Python loop over samples
(PyTorch's default ``collate`` stacks samples one by one, which costs more than the model
itself for small networks on NumPy).
"""

from __future__ import annotations

import abc
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Dataset", "TensorDataset", "Subset", "as_array"]

Index = int | np.integer | slice | Sequence[int] | np.ndarray


def as_array(a: Any, name: str = "array") -> np.ndarray:
    """Return ``a`` as an ndarray without copying; a steepest ``Tensor`` gives its ``.data``.

    Anything exposing a ``.data`` ndarray (a Tensor, a Parameter) is unwrapped first, so
    datasets and splits can be built from tensors as well as from arrays.
    """
    data = getattr(a, "data", a)
    if isinstance(data, memoryview):  # ndarray.data is a memoryview: don't unwrap that one
        data = a
    try:
        return np.asarray(data)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name}: cannot convert {type(a).__name__} to an array ({exc})") from exc


class Dataset(abc.ABC):
    """Abstract dataset: a length and batch indexing.

    Subclasses implement ``__len__`` and ``__getitem__``. ``__getitem__`` must accept an
    int (one sample) *and* a 1-D integer index array (a batch) and return a tuple of
    arrays; for a batch every array has the batch as its first axis. Gather the batch
    with one fancy index per array, never a per-sample loop.
    """

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    @abc.abstractmethod
    def __getitem__(self, index: Index) -> tuple[np.ndarray, ...]:
        """Sample ``index`` (int) or the batch ``index`` (index array), as a tuple of arrays."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(len={len(self)})"


def _check_index(index: Index, n: int, owner: str) -> Any:
    """Normalise ``index`` to an int, a slice or an intp array; errors name the dataset."""
    if isinstance(index, slice):
        return index
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        i = operator.index(index)
        if not -n <= i < n:
            raise IndexError(f"{owner}: index {i} is out of range for a dataset of length {n}")
        return i
    idx = np.asarray(index)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise IndexError(f"{owner}: boolean mask must have shape ({n},), got {idx.shape}")
        return np.flatnonzero(idx)
    if idx.size == 0:
        return idx.astype(np.intp).reshape(idx.shape)
    if idx.dtype.kind not in "iu":
        raise IndexError(
            f"{owner}: indices must be integers, a slice or a boolean mask, got dtype {idx.dtype}"
        )
    return idx


class TensorDataset(Dataset):
    """A dataset made of arrays sharing their first axis (e.g. ``TensorDataset(X, y)``).

    Parameters
    ----------
    *arrays
        NumPy arrays, or objects with a ``.data`` ndarray (steepest ``Tensor``). They are
        not copied. All must have the same length (first dimension).

    ``ds[i]`` returns the i-th sample of every array; ``ds[idx]`` with an index array
    returns the batch, gathered with one ``np.take`` per array.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        arrs = tuple(as_array(a, "TensorDataset") for a in arrays)
        for k, a in enumerate(arrs):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: array {k} is a 0-d scalar; every array needs a first "
                    f"(sample) axis"
                )
        lengths = [a.shape[0] for a in arrs]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrs)
            raise ValueError(
                f"TensorDataset: all arrays must have the same length (first dimension), "
                f"got lengths {lengths} (shapes {shapes})"
            )
        self.arrays: tuple[np.ndarray, ...] = arrs
        self._n = lengths[0]

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Index) -> tuple[np.ndarray, ...]:
        idx = _check_index(index, self._n, "TensorDataset")
        if isinstance(idx, (int, slice)):
            return tuple(a[idx] for a in self.arrays)
        try:
            return tuple(np.take(a, idx, axis=0) for a in self.arrays)
        except IndexError:
            bad = idx[(idx >= self._n) | (idx < -self._n)]
            raise IndexError(
                f"TensorDataset: index {int(bad.flat[0])} is out of range for a dataset of "
                f"length {self._n}"
            ) from None

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"TensorDataset(len={self._n}, arrays=[{shapes}])"


class Subset(Dataset):
    """A view of ``dataset`` restricted to ``indices`` (e.g. one fold of a split)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        n = len(dataset)
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise ValueError(
                f"Subset: indices must be a 1-D integer array, got shape {idx.shape} "
                f"dtype {idx.dtype}"
            )
        idx = idx.astype(np.intp, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)][0]
            raise IndexError(
                f"Subset: index {int(bad)} is out of range for a dataset of length {n}"
            )
        self.dataset = dataset
        self.indices = idx

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Index) -> tuple[np.ndarray, ...]:
        idx = _check_index(index, len(self.indices), "Subset")
        return self.dataset[self.indices[idx]]
