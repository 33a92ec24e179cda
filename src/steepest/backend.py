"""Devices and array modules: NumPy on the CPU, CuPy on CUDA GPUs, one seam for both.

An op never asks which device it runs on: NumPy's functions and ufuncs dispatch to CuPy when
given CuPy arrays (NEP 18 ``__array_function__`` and ``__array_ufunc__``), so the same code
serves both. Only code that *creates* an array from nothing needs the module, and asks
:func:`array_module` for it, one type check per call. No data moves between host and device
implicitly: CuPy refuses it, and :func:`check_same_device` names the op when tensors on two
devices meet.

CuPy is optional (``pip install "steepest[gpu]"``) and imported only when a CUDA device is
first asked for. Tests replace it with a CPU stand-in that refuses implicit conversion the
way CuPy does (:func:`set_cuda_module`), so a stray host-only call on the device path fails in
CI, where there is no GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "array_module", "as_array", "check_same_device", "column_major", "device", "device_of",
    "get_cuda_module", "is_device_array", "to_device",
]

_cuda: dict[str, Any] = {"module": None, "error": None}


class device:  # noqa: N801 - named like torch.device
    """Where a tensor lives: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``,
    ``device("cuda", 1)``; compares equal to its string form, like torch's."""

    __slots__ = ("type", "index")

    def __init__(self, spec: Any, index: int | None = None) -> None:
        if isinstance(spec, device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type(spec).__name__}")
        kind, _, num = spec.strip().lower().partition(":")
        if num:
            if index is not None:
                raise ValueError(f"device: index given twice in device({spec!r}, {index})")
            if not num.isdigit():
                raise ValueError(f"device: bad device index in {spec!r}; write 'cuda:0'")
            index = int(num)
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"device: steepest runs on 'cpu' and 'cuda' devices, not "
                               f"{spec!r}")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index < 0):
            raise ValueError(f"device: index must be a non-negative int, got {index!r}")
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"device: the CPU has no index {index}")
        self.type = kind
        self.index = None if kind == "cpu" else index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (TypeError, ValueError, RuntimeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def set_cuda_module(module: Any) -> Any:
    """Use ``module`` (CuPy, or a test stand-in with CuPy's API) for CUDA; returns the old one.

    ``None`` restores the default: CuPy, imported on first use."""
    old = _cuda["module"]
    _cuda["module"], _cuda["error"] = module, None
    return old


def get_cuda_module() -> Any:
    """The CuPy module, or a one-line error saying why CUDA cannot be used here."""
    mod = _cuda["module"]
    if mod is not None:
        return mod
    try:
        import cupy
    except ImportError:
        raise RuntimeError('CUDA: CuPy is not installed; install it with '
                           'pip install "steepest[gpu]" (needs an NVIDIA GPU and CUDA 12)'
                           ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CuPy raises its own runtime errors
        raise RuntimeError(f"CUDA: CuPy is installed but no GPU can be used ({e})") from None
    if count == 0:
        raise RuntimeError("CUDA: CuPy is installed but this machine has no GPU")
    _cuda["module"] = cupy
    return cupy


def cuda_available() -> bool:
    try:
        get_cuda_module()
    except RuntimeError:
        return False
    return True


def is_device_array(a: Any) -> bool:
    """Whether ``a`` is an array of the CUDA module (CuPy, or the registered stand-in)."""
    mod = _cuda["module"]
    return mod is not None and isinstance(a, mod.ndarray)


def column_major(a: Any) -> bool:
    """A matrix in Fortran order that is not also C-ordered (``nn.Linear`` keeps its weight
    so: ``x @ W.T`` then reads contiguous memory). Gradients and flat-buffer views of such
    a matrix keep that order: a product's last bits may depend on the layout."""
    f = a.flags
    return a.ndim == 2 and f.f_contiguous and not f.c_contiguous


def array_module(a: Any) -> Any:
    """``numpy`` for host arrays (and scalars), the CUDA module for device arrays."""
    if type(a) is np.ndarray or not is_device_array(a):
        return np
    return _cuda["module"]


def as_array(a: Any, like: Any = None) -> Any:
    """``a`` as an array of its own module (NumPy scalars become 0-d ndarrays); with
    ``like``, scalars and 0-d host values become arrays on ``like``'s device (the one place a
    Python number may cross to the device, as in torch). Host arrays are never moved."""
    if like is not None and type(like) is not np.ndarray and is_device_array(like):
        if is_device_array(a):
            return a
        if isinstance(a, np.ndarray) and a.ndim:
            raise RuntimeError(f"expected all arrays on {device_of(like)}, got a host array "
                               f"{a.shape}; move it with .to({str(device_of(like))!r})")
        a = np.asarray(a)
        # filled by a kernel, not copied: a host-to-device copy would wait for the GPU
        return _cuda["module"].full((), a[()], dtype=a.dtype)
    if type(a) is np.ndarray or is_device_array(a):
        return a
    return np.asarray(a)


def device_of(a: Any) -> device:
    """The device of an array."""
    if type(a) is np.ndarray or not is_device_array(a):
        return CPU
    dev = getattr(a, "device", None)
    return device("cuda", int(getattr(dev, "id", 0) or 0))


def check_same_device(op: str, *arrays: Any) -> None:
    """Raise naming ``op`` and both devices when arrays on different devices meet."""
    first = None
    for a in arrays:
        if not hasattr(a, "shape"):
            continue
        d = device_of(a)
        if first is None:
            first = d
        elif d != first:
            raise RuntimeError(f"{op}: expected all tensors on the same device, found {first} "
                               f"and {d}; move one with .to({str(first)!r}) or "
                               f".to({str(d)!r})")


def same_place(a: Any, dev: Any) -> bool:
    """Whether array ``a`` is on ``dev`` (``"cuda"`` without an index means GPU 0)."""
    dev, src = device(dev), device_of(a)
    return src.type == dev.type and (dev.index is None or src.index == dev.index)


def to_device(a: Any, dev: Any) -> Any:
    """Copy an array to ``dev`` (a no-op when it is there already): the only explicit
    host/device transfer in steepest."""
    dev = device(dev)
    src = device_of(a)
    if src.type == dev.type and (dev.index is None or src.index == dev.index):
        return a  # already there ("cuda" means the current GPU, 0 here)
    if dev.type == "cpu":
        return a.get()
    mod = get_cuda_module()
    count = mod.cuda.runtime.getDeviceCount()
    index = dev.index or 0
    if index >= count:
        raise RuntimeError(f"to: device {dev} does not exist; this machine has {count} "
                           f"CUDA device(s)")
    with mod.cuda.Device(index):
        if src.type == "cuda":
            return a.copy()
        return mod.asarray(a)
