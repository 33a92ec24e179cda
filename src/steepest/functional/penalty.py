"""Weight penalties as functions: L1 (Σ|w|), L2 (½Σw²) and the elastic net."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import Function
from ..backend import as_array
from ..tensor import Tensor
from ._common import raw


class _SumAbs(Function):
    __slots__ = ()

    def forward(self, w):
        return as_array(np.abs(w).sum())

    def backward(self, gy, y, w):
        return gy * np.sign(raw(w))


class _HalfSumSquares(Function):
    __slots__ = ()

    def forward(self, w):
        f = w.reshape(-1)
        return as_array(np.dot(f, f) * 0.5).astype(w.dtype, copy=False)

    def backward(self, gy, y, w):
        return gy * w


def _param_list(params: Any, name: str) -> list[Tensor]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Tensor):
        params = [params]
    out = list(params)
    if not out:
        raise ValueError(f"{name}: no parameters given")
    for p in out:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected Tensors (or a Module), got "
                            f"{type(p).__name__}")
    return out


def _total(fn: type, params: list[Tensor]) -> Tensor:
    total = None
    for p in params:
        term = fn()(p)
        total = term if total is None else total + term
    return total


def l1_penalty(params: Iterable[Tensor] | Any) -> Tensor:
    """Σ |w| over all entries of ``params`` (Tensors, or a Module's parameters).

    Add ``lam * l1_penalty(model.parameters())`` to a loss for L1 regularisation (sparse
    weights); its gradient is ``lam * sign(w)``.
    """
    return _total(_SumAbs, _param_list(params, "l1_penalty"))


def l2_penalty(params: Iterable[Tensor] | Any) -> Tensor:
    """½ Σ w² over all entries of ``params`` (Tensors, or a Module's parameters).

    The factor ½ makes the gradient exactly ``w``: adding ``lam * l2_penalty(params)`` to
    the loss is the same as SGD's ``weight_decay=lam`` (PyTorch adds ``lam * w`` to each
    gradient). Note that this equivalence fails for adaptive optimisers such as Adam,
    which is why AdamW applies decoupled weight decay instead.
    """
    return _total(_HalfSumSquares, _param_list(params, "l2_penalty"))


def elastic_net_penalty(params: Iterable[Tensor] | Any, l1_ratio: float = 0.5) -> Tensor:
    """``l1_ratio * l1_penalty + (1 - l1_ratio) * l2_penalty`` (with l2 = ½ Σ w²).

    The same mix as scikit-learn's ElasticNet: l1_ratio=1 is the lasso, 0 is ridge.
    """
    l1_ratio = float(l1_ratio)
    if not 0.0 <= l1_ratio <= 1.0:
        raise ValueError(f"elastic_net_penalty: l1_ratio must be in [0, 1], got {l1_ratio}")
    ps = _param_list(params, "elastic_net_penalty")
    return l1_penalty(ps) * l1_ratio + l2_penalty(ps) * (1.0 - l1_ratio)
