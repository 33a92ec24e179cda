"""Normalisation layers as functions: layer_norm, group_norm, and ``normalize`` (divide by
the p-norm).

layer_norm and group_norm share one node, :class:`Normalize` (zero mean, unit biased
variance over some axes), followed by the elementwise affine map. Its backward is the
closed form (g - mean(g) - x̂ · mean(g x̂)) / σ; under ``create_graph`` x̂ and 1/σ are
recomputed from x with ops, so second derivatives flow through them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Function
from ..ops import reduction as _red
from ..ops import reshape
from ..tensor import Tensor
from ._common import dtype_of, shape_of


class Normalize(Function):
    __slots__ = ("axes", "eps", "xhat", "invstd")

    def __init__(self, axes: tuple[int, ...], eps: float) -> None:
        self.axes, self.eps = axes, eps

    def forward(self, x):
        xc = x - x.mean(axis=self.axes, keepdims=True)
        var = np.square(xc).mean(axis=self.axes, keepdims=True)
        invstd = np.sqrt(var + self.eps)
        np.reciprocal(invstd, out=invstd)
        xc *= invstd
        self.xhat, self.invstd = xc, invstd
        return xc.copy()

    def backward(self, gy, y, x):
        axes = self.axes
        if isinstance(x, Tensor):  # create_graph: rebuild x̂ and 1/σ with ops
            xc = x - _red.mean(x, axes, True)
            invstd = (_red.mean(xc * xc, axes, True) + self.eps) ** -0.5
            xhat = xc * invstd
        else:
            xhat, invstd = self.xhat, self.invstd
        m_g = _red.mean(gy, axes, True)
        m_gx = _red.mean(gy * xhat, axes, True)
        return (gy - m_g - xhat * m_gx) * invstd

    has_buffers = True

    def release(self):
        self.xhat = self.invstd = None

    @property
    def name(self) -> str:
        return "normalize"


def _check_affine(name: str, a: Any, want: tuple[int, ...], what: str) -> None:
    if a is not None and tuple(shape_of(a)) != tuple(want):
        raise ValueError(f"{name}: {what} has shape {shape_of(a)}, expected {tuple(want)}")


def layer_norm(input: Any, normalized_shape: Sequence[int] | int,  # noqa: A002
               weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalise over the last ``len(normalized_shape)`` dims, then ``* weight + bias``
    (both of shape ``normalized_shape``, optional), as torch."""
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    xs = shape_of(input)
    k = len(ns)
    if k == 0 or tuple(xs[len(xs) - k:]) != tuple(ns) or k > len(xs):
        raise ValueError(f"layer_norm: normalized_shape {ns} does not match the last dims "
                         f"of input shape {xs}")
    if dtype_of(input).kind != "f":
        raise TypeError(f"layer_norm: input must be floating point, got {dtype_of(input)}")
    _check_affine("layer_norm", weight, ns, "weight")
    _check_affine("layer_norm", bias, ns, "bias")
    y = Normalize(tuple(range(len(xs) - k, len(xs))), float(eps))(input)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5) -> Any:
    """Normalise (N, C, *) over each group of C / num_groups channels (and all of *),
    then ``* weight + bias`` per channel (shape (C,)), as torch."""
    xs = shape_of(input)
    if len(xs) < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got {xs}")
    n, c = xs[0], xs[1]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: {c} channels cannot be split into {num_groups} groups")
    _check_affine("group_norm", weight, (c,), "weight")
    _check_affine("group_norm", bias, (c,), "bias")
    rest = math.prod(xs[2:])
    g = reshape(input, (n, num_groups, (c // num_groups) * rest))
    y = reshape(Normalize((2,), float(eps))(g), xs)
    bshape = (1, c) + (1,) * (len(xs) - 2)
    if weight is not None:
        y = y * reshape(weight, bshape)
    if bias is not None:
        y = y + reshape(bias, bshape)
    return y


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Any:  # noqa: A002
    """input / max(‖input‖_p over ``dim``, eps), as torch.nn.functional.normalize."""
    from ..ops.linalg import vector_norm
    from ..ops.math import clamp_min

    n = vector_norm(input, p, dim, keepdim=True)
    return input / clamp_min(n, float(eps))
