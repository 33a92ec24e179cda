"""``steepest.cuda``: what torch.cuda answers about GPUs (through CuPy, when installed)."""

from __future__ import annotations

from . import backend

__all__ = ["device_count", "is_available", "synchronize"]


def is_available() -> bool:
    """Whether CuPy is installed and sees at least one GPU."""
    return backend.cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not backend.cuda_available():
        return 0
    return int(backend.get_cuda_module().cuda.runtime.getDeviceCount())


def synchronize(device: object = None) -> None:
    """Wait for every queued kernel on ``device`` (default: the current one) to finish:
    GPU work is asynchronous, so time a step only after this."""
    mod = backend.get_cuda_module()
    index = 0 if device is None else (backend.device(device).index or 0)
    with mod.cuda.Device(index) as dev:
        dev.synchronize()
