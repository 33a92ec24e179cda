"""steepest: neural-network training from scratch on NumPy.

The public API: ``Tensor`` and ``tensor``, grad modes (``no_grad``, ``enable_grad``),
``grad`` (gradients without touching ``.grad``), ``gradcheck``, ``detect_anomaly``,
``manual_seed``, the differentiable functions of :mod:`steepest.ops`, ``save``/``load``,
and the sub-packages ``nn``, ``functional``, ``optim``, ``data`` (``datasets``), ``train``.
"""

from . import ops
from .autograd import (
    AnomalyError,
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
)
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .ops import (
    abs,
    broadcast_to,
    clip,
    concatenate,
    exp,
    expand_dims,
    flatten,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    reshape,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    sum_to,
    swapaxes,
    transpose,
    var,
    where,
)
from .random import get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, tensor

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"

# Layers, losses and serialization build on the core above (import order matters).
from . import data, functional, inspect, nn, optim, train  # noqa: E402
from .data import datasets  # noqa: E402
from .dlpack import from_dlpack  # noqa: E402  (interop: DLPack exchange)
from .serialization import load, save  # noqa: E402

__all__ = [
    "AnomalyError", "Function", "GradcheckError", "GradcheckResult", "Tensor", "abs",
    "broadcast_to", "clip", "concatenate", "detect_anomaly", "enable_grad", "exp",
    "expand_dims", "flatten", "get_rng_state", "grad", "gradcheck", "is_grad_enabled", "log",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "no_grad", "ops",
    "reshape", "set_rng_state", "split", "sqrt", "squeeze", "stack", "std", "sum", "sum_to",
    "swapaxes", "tensor", "transpose", "var", "where",
    "data", "datasets", "functional", "inspect", "nn", "optim", "train", "save", "load",
    "from_dlpack",
]
