"""Datasets: MNIST / Fashion-MNIST loaders, the IDX format, and synthetic toy sets.

``steepest.datasets`` is an alias of this package.
"""

from .idx import parse_idx, read_idx, read_idx_pair, write_idx
from .mnist import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    DatasetNotFoundError,
    data_home,
    fashion_mnist,
    mnist,
    mnist_small,
)
from .synthetic import (
    linear_features,
    mnist_like,
    notes_regression,
    sine_regression,
    spirals,
    two_moons,
)

__all__ = [
    "read_idx",
    "write_idx",
    "parse_idx",
    "read_idx_pair",
    "mnist",
    "fashion_mnist",
    "mnist_small",
    "data_home",
    "DatasetNotFoundError",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "spirals",
    "two_moons",
    "sine_regression",
    "notes_regression",
    "linear_features",
    "mnist_like",
]
