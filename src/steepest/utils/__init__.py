"""Where PyTorch users look: ``steepest.utils.data`` holds Dataset, DataLoader,
TensorDataset, Subset and random_split (aliases of :mod:`steepest.data`)."""

from . import data

__all__ = ["data"]
