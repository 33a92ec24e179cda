"""Differentiable primitives, grouped by kind. Every function accepts Tensors (and records
the graph) or raw arrays (and just computes), so backward code can reuse them."""

from . import _axes
from .arithmetic import (
    abs,
    add,
    astype,
    clip,
    clone,
    div,
    eq,
    exp,
    ge,
    gt,
    le,
    log,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    sign,
    sqrt,
    sub,
    where,
)
from .device import to_device
from .linalg import matmul
from .reduction import (
    ValuesIndices,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from .shape import (
    broadcast_to,
    cat,
    chunk,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    permute,
    reshape,
    setitem,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    swapdims,
    transpose,
    unsqueeze,
)

__all__ = [
    "ValuesIndices", "_axes", "abs", "add", "all", "amax", "amin", "any", "argmax", "argmin",
    "astype", "broadcast_to", "cat", "chunk", "clip", "clone", "concatenate", "div", "eq",
    "exp", "expand_dims", "flatten", "ge", "getitem", "gt", "le", "log", "logsumexp", "lt",
    "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "norm",
    "permute", "pow", "prod", "reshape", "setitem", "sign", "split", "sqrt", "squeeze",
    "stack", "std", "sub", "sum", "sum_to", "swapaxes", "swapdims", "to_device", "transpose",
    "unsqueeze", "var", "where",
]
