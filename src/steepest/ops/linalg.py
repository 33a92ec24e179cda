"""Matrix product (1-D, 2-D and batched, with NumPy's matmul broadcasting rules)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .shape import expand_dims, reshape, sum_to, swapaxes


class MatMul(Function):
    __slots__ = ()
    saved_inputs = (0, 1)
    saves_output = False

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, gy, y, a, b):
        need_a, need_b = self.needs_grad(0), self.needs_grad(1)
        if a.ndim == 2 and b.ndim == 2:
            return (gy @ b.T if need_a else None, a.T @ gy if need_b else None)
        if a.ndim == 1 and b.ndim == 1:
            return (gy * b if need_a else None, gy * a if need_b else None)
        a2 = a if a.ndim > 1 else reshape(a, (1, a.shape[0]))
        b2 = b if b.ndim > 1 else reshape(b, (b.shape[0], 1))
        g2 = gy
        if a.ndim == 1:
            g2 = expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            ga = reshape(sum_to(g2 @ swapaxes(b2, -1, -2), a2.shape), a.shape)
        if need_b:
            gb = reshape(sum_to(swapaxes(a2, -1, -2) @ g2, b2.shape), b.shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Any:
    """Matrix product ``a @ b``; shapes are checked here with a readable message."""
    sa = a.data.shape if isinstance(a, Tensor) else np.shape(a)
    sb = b.data.shape if isinstance(b, Tensor) else np.shape(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} "
                         f"and {sb}")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned ({ka} != {kb})")
    if len(sa) > 2 or len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dimensions of shapes {sa} and {sb} cannot be "
                             f"broadcast together") from None
    return MatMul()(a, b)
