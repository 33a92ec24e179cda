"""Helpers shared by the functional modules: raw arrays, shapes, dtypes, reductions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import as_array, device_of, is_device_array, to_device
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def raw(x: Any) -> Any:
    """The array behind a Tensor (or the value itself)."""
    return x.data if isinstance(x, Tensor) else x


def shape_of(x: Any) -> tuple[int, ...]:
    return x.data.shape if isinstance(x, Tensor) else np.shape(x)


def dtype_of(x: Any) -> np.dtype:
    return x.data.dtype if isinstance(x, Tensor) else as_array(x).dtype


def on_device_of(arr: Any, x: Any) -> Any:
    """``arr`` (made on the host, e.g. drawn from the host generator) on ``x``'s device:
    random draws are host-side so a seed gives the same numbers on every device."""
    r = raw(x)
    if type(r) is not np.ndarray and is_device_array(r):
        return to_device(arr, device_of(r))
    return arr
