"""steepest: neural-network training from scratch on NumPy.

The public API: ``Tensor`` and ``tensor``, grad modes (``no_grad``, ``enable_grad``),
``grad`` (gradients without touching ``.grad``), ``gradcheck``, ``detect_anomaly``,
``manual_seed``, the differentiable functions of :mod:`steepest.ops`, ``save``/``load``,
and the sub-packages ``nn``, ``functional``, ``optim``, ``data`` (``datasets``), ``train``.
"""

from . import backend, cuda, ops
from .autograd import (
    AnomalyError,
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
)
from .backend import device
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .random import get_rng_state, manual_seed, set_rng_state
from .tensor import Device, Tensor, public, tensor

# The top-level functions: PyTorch's names and signatures, always returning Tensors.
abs = public(ops.abs)  # noqa: A001
exp = public(ops.exp)
log = public(ops.log)
sqrt = public(ops.sqrt)
neg = public(ops.neg)
add = public(ops.add, 2)
sub = public(ops.sub, 2)
mul = public(ops.mul, 2)
div = public(ops.div, 2)
pow = public(ops.pow, 2)  # noqa: A001
matmul = public(ops.matmul, 2)
maximum = public(ops.maximum, 2)
minimum = public(ops.minimum, 2)
where = public(ops.where, 3)
clip = clamp = public(ops.clip)
clone = public(ops.clone)
sum = public(ops.sum)  # noqa: A001
mean = public(ops.mean)
prod = public(ops.prod)
max = public(ops.max)  # noqa: A001
min = public(ops.min)  # noqa: A001
amax = public(ops.amax)
amin = public(ops.amin)
var = public(ops.var)
std = public(ops.std)
norm = public(ops.norm)
logsumexp = public(ops.logsumexp)
argmax = public(ops.argmax)
argmin = public(ops.argmin)
any = public(ops.any)  # noqa: A001
all = public(ops.all)  # noqa: A001
reshape = public(ops.reshape)
flatten = public(ops.flatten)
squeeze = public(ops.squeeze)
unsqueeze = public(ops.unsqueeze)
expand_dims = public(ops.expand_dims)
transpose = public(ops.transpose)
permute = public(ops.permute)
swapaxes = public(ops.swapaxes)
swapdims = public(ops.swapdims)
broadcast_to = public(ops.broadcast_to)
sum_to = public(ops.sum_to)
split = public(ops.split)
chunk = public(ops.chunk)
cat = public(ops.cat, sequence=True)
concatenate = public(ops.concatenate, sequence=True)
stack = public(ops.stack, sequence=True)

float16 = half = "float16"
float32 = float = "float32"  # noqa: A001
float64 = double = "float64"
int32 = "int32"
int64 = long = "int64"
bool = "bool"  # noqa: A001

__version__ = "0.1.0"

# Layers, losses and serialization build on the core above (import order matters).
from . import data, functional, inspect, nn, optim, train  # noqa: E402
from .data import datasets  # noqa: E402
from .serialization import load, save  # noqa: E402

__all__ = [
    "AnomalyError", "Device", "Function", "GradcheckError", "GradcheckResult", "Tensor", "abs",
    "broadcast_to", "clip", "concatenate", "detect_anomaly", "enable_grad", "exp",
    "expand_dims", "flatten", "get_rng_state", "grad", "gradcheck", "is_grad_enabled", "log",
    "manual_seed", "matmul", "max", "maximum", "mean", "min", "minimum", "no_grad", "ops",
    "reshape", "set_rng_state", "split", "sqrt", "squeeze", "stack", "std", "sum", "sum_to",
    "swapaxes", "tensor", "transpose", "var", "where",
    "add", "all", "amax", "amin", "any", "argmax", "argmin", "cat", "chunk", "clamp", "clone",
    "div", "logsumexp", "mul", "neg", "norm", "permute", "pow", "prod", "sub", "swapdims",
    "unsqueeze", "public", "float16", "float32", "float64", "int32", "int64",
    "data", "datasets", "functional", "inspect", "nn", "optim", "train", "save", "load",
    "backend", "cuda", "device",
]
