"""The one explicit host/device transfer as a differentiable op: ``x.to("cuda")`` records
it, and the gradient flows back to the source device."""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..backend import device, device_of
from ..backend import to_device as _move


class ToDevice(Function):
    __slots__ = ("dst", "src")
    saved_inputs = ()
    saves_output = False

    def __init__(self, dst: device) -> None:
        self.dst = dst

    def forward(self, x):
        self.src = device_of(x)
        return _move(x, self.dst)

    def backward(self, gy, y, x):
        return ToDevice(self.src)(gy)


def to_device(x: Any, dst: Any) -> Any:
    """Copy ``x`` to device ``dst`` (a Tensor keeps its graph; a raw array is just copied)."""
    return ToDevice(device(dst))(x)
