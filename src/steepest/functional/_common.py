"""Helpers shared by the functional modules: raw arrays, shapes, dtypes, reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def raw(x: Any) -> Any:
    """The array behind a Tensor (or the value itself)."""
    return x.data if isinstance(x, Tensor) else x


def shape_of(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def dtype_of(x: Any) -> np.dtype:
    return x.data.dtype if isinstance(x, Tensor) else np.asarray(x).dtype
