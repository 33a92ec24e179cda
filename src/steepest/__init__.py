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
from .compile import CompiledStep, CompileWarning, compile_step  # noqa: E402
from .data import datasets  # noqa: E402
from .dlpack import from_dlpack  # noqa: E402  (interop: DLPack exchange)
from .quantize import quantize  # noqa: E402
from .serialization import load, save  # noqa: E402
from .verify import verify  # noqa: E402


def save_model(model: object, path: object, **kwargs: object) -> None:
    """Save an ``mlp()`` model so that ``steepest evaluate`` / ``predict`` can read it
    (weights, architecture and task); see :func:`steepest.pipeline.save_model`."""
    from .pipeline import save_model as _save_model

    _save_model(model, path, **kwargs)


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
    "save_model",
    "quantize", "verify",
    "CompiledStep", "CompileWarning", "compile_step",
    "from_dlpack",
    "backend", "cuda", "device",
]

# -- vocabulary: torch's names for creation, math, scans, indexing, shapes, sorting and
# linear algebra (steepest.where follows torch: the one-argument form too).
from . import linalg, utils  # noqa: E402
from .creation import (  # noqa: E402
    arange,
    as_tensor,
    concat,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    inference_mode,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .functional.activation import (  # noqa: E402
    erf,  # noqa: E402
    log_softmax,  # noqa: E402
    relu,
    sigmoid,
    softmax,
)
from .ops import eq, ge, gt, le, lt, ne  # noqa: E402
from .ops.indexing import (  # noqa: E402
    argwhere,
    gather,
    index_add,
    index_fill,
    index_select,
    masked_fill,
    masked_scatter,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    take_along_dim,
    where,  # noqa: F811 - torch's where: the one-argument form too
)
from .ops.layout import (  # noqa: E402
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    column_stack,
    cross,
    diag,
    diag_embed,
    diagonal,
    dstack,
    flip,
    fliplr,
    flipud,
    hstack,
    kron,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    repeat_interleave,
    roll,
    rot90,
    take,
    tile,
    tril,
    triu,
    unbind,
    unflatten,
    vstack,
)
from .ops.linalg import (  # noqa: E402
    addmm,
    addmv,
    baddbmm,
    bmm,
    cdist,
    det,
    dot,
    einsum,
    inv,
    logdet,
    matrix_power,
    mm,
    mv,
    outer,
    slogdet,
    tensordot,
    trace,
)
from .ops.math import (  # noqa: E402
    acos,
    acosh,
    allclose,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,  # noqa: F811 - tensor bounds too
    clamp_max,
    clamp_min,
    clip,  # noqa: F811 - clamp: tensor bounds too
    copysign,
    cos,
    cosh,
    deg2rad,
    equal,
    erfc,
    exp2,
    expm1,
    fix,
    floor,
    floor_divide,
    fmod,
    frac,
    heaviside,
    hypot,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    lerp,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logit,
    nan_to_num,
    nanmean,
    nansum,
    rad2deg,
    reciprocal,
    remainder,
    round,
    rsqrt,
    sgn,
    sign,
    signbit,
    sin,
    sinc,
    sinh,
    square,
    tan,
    tanh,
    trunc,
    xlogy,
)
from .ops.scan import (  # noqa: E402
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    diff,
    logcumsumexp,
)
from .ops.sort import (  # noqa: E402
    argsort,
    bincount,
    bucketize,
    kthvalue,
    median,
    msort,
    searchsorted,
    sort,
    topk,
    unique,
    unique_consecutive,
)

inverse = inv
int8, int16, uint8 = "int8", "int16", "uint8"


def _public_vocabulary() -> None:
    """Lists and arrays in, Tensors out, as in torch (``steepest.sin([1.0])``): wrap every
    top-level op of the vocabulary modules; ops whose later list arguments are dims or
    shifts convert only their first argument, ops taking a list of tensors its items."""
    modules = {"steepest.ops.math", "steepest.ops.scan", "steepest.ops.sort",
               "steepest.ops.indexing", "steepest.ops.layout", "steepest.ops.linalg",
               "steepest.functional.activation"}
    dims_after_first = {"flip", "roll", "tile", "movedim", "moveaxis", "unflatten", "narrow",
                        "rot90", "tensordot", "diag_embed", "repeat_interleave"}
    sequences = {"hstack", "vstack", "dstack", "column_stack"}
    g = globals()
    for name, fn in list(g.items()):
        if callable(fn) and getattr(fn, "__module__", None) in modules and not isinstance(
                fn, type) and name != "meshgrid":  # meshgrid: tensors as varargs or a list
            g[name] = (public(fn, sequence=True) if name in sequences
                       else public(fn, 1 if name in dims_after_first else 8))


_public_vocabulary()

__all__ += [
    "addmv", "atleast_1d", "atleast_2d", "atleast_3d", "baddbmm", "bincount", "block_diag",
    "bucketize", "column_stack", "copysign", "cross", "deg2rad", "dstack", "erfc", "heaviside",
    "kron", "logdet", "matrix_power", "nanmean", "nansum", "rad2deg", "rot90", "searchsorted",
    "signbit", "sinc", "slogdet", "take",
    "add", "addmm", "div", "eq", "erf", "ge", "gt", "le", "logit", "lt", "mul", "nan_to_num",
    "ne", "neg", "permute", "pow", "sgn", "sub", "tensordot", "unbind", "unsqueeze", "xlogy",
    "acos", "acosh", "allclose", "amax", "amin", "arange", "arccos", "arccosh", "arcsin",
    "arcsinh", "arctan", "arctan2", "arctanh", "argsort", "argwhere", "as_tensor", "asin",
    "asinh", "atan", "atan2", "atanh", "bitwise_and", "bitwise_not", "bitwise_or",
    "bitwise_xor", "bmm", "cat", "cdist", "ceil", "clamp", "clamp_max", "clamp_min",
    "concat", "cos", "cosh", "count_nonzero", "cummax", "cummin", "cumprod", "cumsum", "det",
    "diag", "diag_embed", "diagonal", "diff", "dot", "double", "einsum", "empty",
    "empty_like", "equal", "exp2", "expm1", "eye", "fix", "flip", "fliplr", "flipud",
    "float16", "floor", "floor_divide", "fmod", "frac", "from_numpy", "full", "full_like",
    "gather", "half", "hstack", "hypot", "index_add", "index_fill", "index_select",
    "inference_mode", "int16", "int32", "int64", "int8", "inv", "inverse",
    "is_floating_point", "is_tensor", "isclose", "isfinite", "isinf", "isnan", "isneginf",
    "isposinf", "kthvalue", "lerp", "linalg", "linspace", "log10", "log1p", "log2",
    "log_softmax", "logaddexp", "logcumsumexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "logspace", "long", "masked_fill", "masked_scatter", "masked_select",
    "median", "meshgrid", "mm", "moveaxis", "movedim", "msort", "mv", "narrow", "nonzero",
    "numel", "ones", "ones_like", "outer", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "reciprocal", "relu", "remainder", "repeat_interleave", "roll",
    "round", "rsqrt", "scatter", "scatter_add", "sigmoid", "sign", "sin", "sinh", "softmax",
    "sort", "square", "take_along_dim", "tan", "tanh", "tile", "topk", "trace", "tril",
    "triu", "trunc", "uint8", "unflatten", "unique", "unique_consecutive", "utils",
    "vstack", "zeros", "zeros_like",
]
