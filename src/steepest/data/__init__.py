"""The data layer: datasets, loaders, splits and transforms (NumPy in, NumPy out).

Data flows one way: arrays -> :class:`TensorDataset` -> :class:`DataLoader` (batches of
NumPy arrays) -> model. Nothing here depends on the autodiff engine.
"""

from . import datasets
from .dataset import Dataset, Subset, TensorDataset
from .loader import DataLoader
from .split import KFold, StratifiedKFold, split_indices, train_test_split, train_val_test_split
from .transforms import Compose, Flatten, MinMaxScaler, StandardScaler, ToFloat, one_hot

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "DataLoader",
    "split_indices",
    "train_val_test_split",
    "train_test_split",
    "KFold",
    "StratifiedKFold",
    "StandardScaler",
    "MinMaxScaler",
    "one_hot",
    "Compose",
    "Flatten",
    "ToFloat",
    "datasets",
]
