"""DLPack: exchange arrays with PyTorch, NumPy, JAX, CuPy... without copying.

``steepest.from_dlpack(x)`` wraps any object with ``__dlpack__`` (a torch tensor, a NumPy
array) as a Tensor sharing its memory; ``torch.from_dlpack(t)`` / ``np.from_dlpack(t)`` take
a steepest Tensor the same way (``Tensor.__dlpack__`` delegates to its NumPy array). Memory
is shared, so an in-place change on one side is seen on the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

_CPU = 1  # DLDeviceType kDLCPU


def from_dlpack(x: Any, requires_grad: bool = False) -> Tensor:
    """A Tensor sharing ``x``'s memory (``x`` implements the DLPack protocol).

    Only CPU memory can be shared (steepest computes with NumPy); a tensor on another
    device raises, naming it. A torch tensor that requires grad must be ``.detach()``-ed
    first (torch refuses to export it).
    """
    if isinstance(x, Tensor):
        return Tensor(x.data, requires_grad=requires_grad)
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(x).__name__} does not implement the DLPack "
                        f"protocol (__dlpack__)")
    if hasattr(x, "__dlpack_device__"):
        dev = x.__dlpack_device__()
        if int(dev[0]) != _CPU:
            raise ValueError(f"from_dlpack: the {type(x).__name__} lives on device {dev} "
                             f"(DLPack device type {int(dev[0])}); steepest computes on the "
                             f"CPU: move it there first (e.g. .cpu())")
    try:
        arr = np.from_dlpack(x)
    except (BufferError, RuntimeError, TypeError) as exc:
        raise ValueError(f"from_dlpack: cannot share the memory of the {type(x).__name__} "
                         f"({exc})") from None
    if requires_grad and arr.dtype.kind != "f":
        raise TypeError(f"from_dlpack: only floating-point tensors can require grad, got "
                        f"dtype {arr.dtype}")
    return Tensor(arr, requires_grad=requires_grad)


def to_dlpack(t: Tensor) -> Any:
    """A DLPack capsule of ``t``'s array (for libraries that still take capsules)."""
    return t.data.__dlpack__()
