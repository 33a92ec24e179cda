"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d (PyTorch's parameters, initialisation
and state_dict keys, so weights move between the two libraries as they are)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional.conv import _conv2d, pair
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d"]


class _ConvNd(Module):
    """Shared parameters and initialisation of the convolution layers.

    Initialisation is PyTorch's: weight ~ ``kaiming_uniform_(a=√5)``, i.e.
    U(-1/√fan_in, 1/√fan_in) with fan_in = in_channels/groups · prod(kernel_size) (for a
    transposed convolution, out_channels/groups · prod(kernel_size)), and the bias from
    the same interval.
    """

    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 dtype: Any, output_padding: Any = 0) -> None:
        super().__init__()
        name = type(self).__name__
        nd = self._nd
        for what, v in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name}: {what} must be a positive integer, got {v!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported (only "
                             f"'zeros')")
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"{name}: dtype must be floating point, got {dt}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "kernel_size", name, nd)
        self.stride = pair(stride, "stride", name, nd)
        self.dilation = pair(dilation, "dilation", name, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(f"{name}: padding must be an int, a tuple"
                                 f"{'' if self._transposed else ', same or valid'}, got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding: Any = padding
        else:
            self.padding = pair(padding, "padding", name, nd, minimum=0)
        self.output_padding = pair(output_padding, "output_padding", name, nd, minimum=0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        if self._transposed:
            shape = (self.in_channels, self.out_channels // groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._layer_default_(self.weight, self.bias)

    @property
    def where(self) -> str:
        """How errors name this layer: its type and shape, e.g. Conv2d(1, 32, (3, 3))."""
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size})")

    def _check_channels(self, x: Any) -> None:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        nd = self._nd
        if len(shape) not in (nd + 1, nd + 2):
            layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
            raise ValueError(f"{self.where}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D "
                             f"input {layout}, got shape {shape}")
        c = shape[-nd - 1]
        if c != self.in_channels:
            raise ValueError(f"{self.where}: expected input with {self.in_channels} channels "
                             f"(weight of shape {self.weight.data.shape}), got input of "
                             f"shape {shape} with {c} channels")

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) (see :func:`steepest.functional.conv2d`).

    Parameters as ``torch.nn.Conv2d``: ``in_channels, out_channels, kernel_size,
    stride=1, padding=0`` (int, pair, ``'same'`` or ``'valid'``), ``dilation=1, groups=1``
    (``groups=in_channels`` is a depthwise convolution), ``bias=True``. ``weight`` is
    (out_channels, in_channels/groups, kH, kW). In a ``Sequential``, a Conv2d followed by a
    ReLU runs as one fused node.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = np.float32) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, x: Any) -> Tensor:
        self._check_channels(x)
        return _conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                       self.groups, False, self.where)

    def forward_relu(self, x: Any) -> Tensor:
        """``relu(self(x))`` as one fused node (used by ``Sequential`` for Conv2d → ReLU)."""
        self._check_channels(x)
        return _conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                       self.groups, True, self.where)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L), parameters as ``torch.nn.Conv1d``; weight is
    (out_channels, in_channels/groups, k)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = np.float32) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype)

    def forward(self, x: Any) -> Tensor:
        self._check_channels(x)
        pad = self.padding if isinstance(self.padding, str) else self.padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], pad, self.dilation[0],
                        self.groups, _where=self.where)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of Conv2d: upsampling by ``stride``),
    parameters as ``torch.nn.ConvTranspose2d``; weight is (in_channels,
    out_channels/groups, kH, kW)."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = np.float32
                 ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, dtype, output_padding)

    def forward(self, x: Any) -> Tensor:
        self._check_channels(x)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation,
                                  _where=self.where)
