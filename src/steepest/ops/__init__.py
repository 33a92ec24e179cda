"""Differentiable primitives, grouped by kind. Every function accepts Tensors (and records
the graph) or raw arrays (and just computes), so backward code can reuse them."""

from .arithmetic import (
    abs,
    add,
    astype,
    clip,
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
from .linalg import matmul
from .reduction import max, mean, min, std, sum, var
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    reshape,
    split,
    squeeze,
    stack,
    sum_to,
    swapaxes,
    transpose,
)

__all__ = [
    "abs", "add", "astype", "broadcast_to", "clip", "concatenate", "div", "eq", "exp",
    "expand_dims", "flatten", "ge", "getitem", "gt", "le", "log", "lt", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "ne", "neg", "pow", "reshape", "sign",
    "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "sum_to", "swapaxes",
    "transpose", "var", "where",
]
