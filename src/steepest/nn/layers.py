"""Layers: Linear, Dropout, BatchNorm1d, Flatten, Identity."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functional as F
from ..functional.layer import Linear as _LinearFn
from ..ops import _axes, flatten
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "Dropout", "Flatten", "Identity", "Linear"]


class Linear(Module):
    """Affine layer y = x Wᵀ + b, one fused graph node (see :func:`steepest.functional.linear`).

    Parameters
    ----------
    in_features, out_features : int
        Input and output widths. ``weight`` has PyTorch's shape (out_features,
        in_features); ``bias`` has shape (out_features,).
    bias : bool
        Learn an additive bias.
    dtype : dtype
        float32 by default; float64 for checks against other libraries.

    Initialisation (the same as PyTorch's, so the two libraries start from the same
    distribution): weight ~ U(-1/√in, 1/√in), which is ``kaiming_uniform_(a=√5)``, and
    bias ~ U(-1/√in, 1/√in). For deep ReLU networks, He initialisation
    (``init.kaiming_normal_(layer.weight, nonlinearity='relu')``) keeps activations from
    shrinking layer by layer; call :meth:`reset_parameters` after changing the recipe in a
    subclass.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {v!r}")
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"Linear: dtype must be floating point, got {dt}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        # (out, in) in column-major memory: the forward's x @ W.T then reads W.T as a
        # C-contiguous (in, out) matrix, which OpenBLAS multiplies ~15% faster
        self.weight = Parameter(np.empty((self.in_features, self.out_features), dtype=dt).T)
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._layer_default_(self.weight, self.bias)

    def forward(self, x: Any) -> Tensor:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"linear: input shape {shape} does not match "
                             f"in_features={self.in_features}")
        b = self.bias
        if b is None:
            return _LinearFn()(x, self.weight)
        return _LinearFn()(x, self.weight, b)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """Inverted dropout with drop probability ``p``.

    In training mode each element is zeroed with probability p and the kept ones are
    scaled by 1/(1 - p); in eval mode the layer is the identity. Some textbooks (e.g.
    "Deep Learning from Scratch") scale by (1 - p) at *test* time instead; both keep the
    expected activation equal, but inverted dropout needs no change at inference. The mask
    comes from ``steepest.random.generator()`` (reproducible with ``manual_seed``).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number in [0, 1], got {type(p).__name__} "
                            f"{p!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Any:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BatchNorm1d(Module):
    """Batch normalisation of (N, C) or (N, C, L) inputs per feature/channel C.

    Training mode normalises with the batch mean and (biased) variance and updates
    ``running_mean``/``running_var`` as ``(1 - momentum) * running + momentum * batch``
    (the unbiased variance is used for ``running_var``); ``momentum=None`` gives the
    cumulative average over all batches seen. Eval mode normalises with the running
    statistics. γ (``weight``) starts at 1 and β (``bias``) at 0. All of this is exactly
    PyTorch's ``BatchNorm1d``, so state dicts carry over (``num_batches_tracked`` included).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: Any = np.float32) -> None:
        super().__init__()
        dt = np.dtype(dtype)
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)):
            raise TypeError(f"BatchNorm1d: num_features must be a positive int, got "
                            f"{type(num_features).__name__} {num_features!r}")
        if num_features <= 0:
            raise ValueError(f"BatchNorm1d: num_features must be positive, got {num_features}")
        for name, v in (("eps", eps), ("momentum", momentum)):
            if v is not None and (isinstance(v, bool) or not isinstance(
                    v, (int, float, np.integer, np.floating))):
                raise TypeError(f"BatchNorm1d: {name} must be a number, got "
                                f"{type(v).__name__} {v!r}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] (or None), got "
                             f"{momentum}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def _check_input(self, shape: tuple[int, ...]) -> None:
        if len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {shape}")

    def forward(self, x: Any) -> Tensor:
        self._check_input(x.data.shape if isinstance(x, Tensor) else np.shape(x))
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if self.momentum is None:
                factor = 1.0 / int(self.num_batches_tracked)
        batch_stats = self.training or not self.track_running_stats
        update = self.training and self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if update or not batch_stats else None,
            self.running_var if update or not batch_stats else None,
            self.weight, self.bias, training=batch_stats, momentum=factor, eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` into one (default: all but the batch dim).

    PyTorch's names; ``start_axis``/``end_axis`` are accepted aliases."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, *, start_axis: Any = None,
                 end_axis: Any = None) -> None:
        super().__init__()
        start_dim = start_dim if start_axis is None else start_axis
        end_dim = end_dim if end_axis is None else end_axis
        self.start_dim = _axes.check_int(start_dim, "Flatten", "start_dim")
        self.end_dim = _axes.check_int(end_dim, "Flatten", "end_dim")

    def forward(self, x: Any) -> Any:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"




class Identity(Module):
    """Returns its input (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x
