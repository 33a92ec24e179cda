"""The built-in ONNX converters: layers (by module type) and autograd nodes (by Function
type). Each is a small function registered with ``register_module`` /
``register_function``; add new ops the same way (see ``docs/interop.md``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .exporter import ExportContext, UnsupportedOperatorError, register_function, register_module

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


# -- modules --------------------------------------------------------------------------------


def _linear(ctx: ExportContext, x: str, w: str, b: str | None, x_ndim: int) -> str:
    if x_ndim == 2:
        return ctx.node("Gemm", [x, w] + ([b] if b is not None else []), transB=1,
                        hint="linear")
    y = ctx.node("MatMul", [x, ctx.node("Transpose", [w], perm=[1, 0])], hint="linear")
    return y if b is None else ctx.node("Add", [y, b], hint="linear")


@register_module("Linear")
def _linear_module(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any) -> str:
    b = None if m.bias is None else ctx.value(m.bias)
    return _linear(ctx, ins[0], ctx.value(m.weight), b, args[0].ndim)


@register_module("Dropout", "Identity")
def _identity_module(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                     ) -> str:
    return ctx.node("Identity", [ins[0]])  # Dropout exports in eval mode: the identity


@register_module("Flatten")
def _flatten_module(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any) -> str:
    shape = args[0].shape
    start, end = m.start_dim, m.end_dim  # torch's names (start_axis/end_axis before)
    if len(shape) >= 2 and start % len(shape) == 1 and end % len(shape) == len(shape) - 1:
        return ctx.node("Flatten", [ins[0]], axis=1)
    return ctx.node("Reshape", [ins[0], ctx.ints(ctx.shape_for(out.shape, shape))])


@register_module("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
def _batch_norm_module(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                       ) -> str | None:
    if getattr(m, "running_mean", None) is None:
        return None  # batch statistics at inference: convert the recorded nodes instead
    dt = args[0].dtype
    c = m.num_features
    scale = ctx.value(m.weight) if m.weight is not None else ctx.constant(np.ones(c, dtype=dt))
    bias = ctx.value(m.bias) if m.bias is not None else ctx.constant(np.zeros(c, dtype=dt))
    prefix = ctx.module_name(m)
    mean = ctx.initializer(m.running_mean.astype(dt, copy=False), f"{prefix}.running_mean")
    var = ctx.initializer(m.running_var.astype(dt, copy=False), f"{prefix}.running_var")
    return ctx.node("BatchNormalization", [ins[0], scale, bias, mean, var],
                    epsilon=float(m.eps), hint="batch_norm")


# -- autograd nodes: layers and activations -------------------------------------------------


@register_function("Linear")
def _linear_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return _linear(ctx, ins[0], ins[1], ins[2] if len(ins) > 2 else None, xs[0].ndim)


@register_function("LinearReLU")
def _linear_relu_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return ctx.node("Relu", [_linear_fn(ctx, f, ins, xs, ys)])


def _unary(op: str, **attrs: Any) -> Any:
    def convert(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
        return ctx.node(op, ins[:1], **{k: v(f) if callable(v) else v for k, v in attrs.items()})

    return convert


for _name, _op in {"ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp",
                   "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Neg": "Neg", "Erf": "Erf"
                   }.items():
    register_function(_name)(_unary(_op))
register_function("LeakyReLU")(_unary("LeakyRelu", alpha=lambda f: float(f.slope)))
register_function("ELU")(_unary("Elu", alpha=lambda f: float(f.alpha)))
register_function("Softmax")(_unary("Softmax", axis=lambda f: int(f.axis)))
register_function("LogSoftmax")(_unary("LogSoftmax", axis=lambda f: int(f.axis)))


@register_function("GELU")
def _gelu_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    x = ins[0]

    def k(v: float) -> str:
        return ctx.scalar(v, xs[0])

    if f.approximate == "tanh":
        cube = ctx.node("Mul", [ctx.node("Mul", [x, x]), x])
        u = ctx.node("Mul", [ctx.node("Add", [x, ctx.node("Mul", [cube, k(0.044715)])]),
                             k(_SQRT_2_PI)])
        phi = ctx.node("Add", [ctx.node("Tanh", [u]), k(1.0)])
    else:
        phi = ctx.node("Add", [ctx.node("Erf", [ctx.node("Mul", [x, k(_SQRT1_2)])]), k(1.0)])
    return ctx.node("Mul", [ctx.node("Mul", [x, phi]), k(0.5)], hint="gelu")


@register_function("Softplus")
def _softplus_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    x = ins[0]
    bx = ctx.node("Mul", [x, ctx.scalar(f.beta, xs[0])]) if f.beta != 1.0 else x
    sp = ctx.node("Softplus", [bx])
    if f.beta != 1.0:
        sp = ctx.node("Div", [sp, ctx.scalar(f.beta, xs[0])])
    lin = ctx.node("Greater", [bx, ctx.scalar(f.threshold, xs[0])])
    return ctx.node("Where", [lin, x, sp], hint="softplus")


def _bshape(ctx: ExportContext, name: str, f: Any) -> str:
    return ctx.node("Reshape", [name, ctx.ints(f.bshape)])


@register_function("BatchNorm")
def _batch_norm_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    x = ins[0]
    if f.training:  # batch statistics (track_running_stats=False)
        axes = list(f.axes)
        xc = ctx.node("Sub", [x, ctx.reduce("ReduceMean", x, axes, True)])
        var = ctx.reduce("ReduceMean", ctx.node("Mul", [xc, xc]), axes, True)
        std = ctx.node("Sqrt", [ctx.node("Add", [var, ctx.scalar(f.eps, xs[0])])])
        y = ctx.node("Div", [xc, std])
    else:
        y = ctx.node("Mul", [ctx.node("Sub", [x, ctx.constant(f.shift)]),
                             ctx.constant(f.invstd)])
    if len(ins) > 1:
        y = ctx.node("Add", [ctx.node("Mul", [y, _bshape(ctx, ins[1], f)]),
                             _bshape(ctx, ins[2], f)], hint="batch_norm")
    return y


# -- autograd nodes: arithmetic ---------------------------------------------------------------


for _name, _op in {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow",
                   "MatMul": "MatMul", "Maximum": "Max", "Minimum": "Min"}.items():
    register_function(_name)(
        lambda ctx, f, ins, xs, ys, _op=_op: ctx.node(_op, ins[:2]))


@register_function("AddScalar", "SubScalar", "MulScalar", "DivScalar", "PowScalar")
def _scalar_right(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    op = {"AddScalar": "Add", "SubScalar": "Add",  # SubScalar holds -c: x + (-c)
          "MulScalar": "Mul", "DivScalar": "Div", "PowScalar": "Pow"}[type(f).__name__]
    return ctx.node(op, [ins[0], ctx.scalar(f.c, xs[0])])


@register_function("RSubScalar", "RDivScalar")
def _scalar_left(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    op = "Sub" if type(f).__name__ == "RSubScalar" else "Div"
    return ctx.node(op, [ctx.scalar(f.c, xs[0]), ins[0]])


@register_function("Clip")
def _clip_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    lo = "" if f.lo is None else ctx.scalar(float(f.lo), xs[0])
    hi = "" if f.hi is None else ctx.scalar(float(f.hi), xs[0])
    return ctx.node("Clip", [ins[0], lo, hi])


@register_function("Where")
def _where_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    cond = np.asarray(f.cond)
    if cond.ndim and cond.shape[0] == ctx.batch and ctx.batch > 1:
        raise UnsupportedOperatorError(
            f"onnx.export: 'where' with a condition of shape {cond.shape} computed from the "
            f"data cannot be exported (steepest records the condition as a constant); use "
            f"relu/clip/maximum, or register a module converter for the layer")
    return ctx.node("Where", [ctx.constant(cond), ins[0], ins[1]])


@register_function("AsType")
def _astype_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return ctx.node("Cast", [ins[0]], to=ctx.onnx.helper.np_dtype_to_tensor_dtype(f.dtype))


# -- autograd nodes: reductions and shapes ------------------------------------------------------


def _reduction(op: str) -> Any:
    def convert(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
        return ctx.reduce(op, ins[0], f.axis, f.keepdims)

    return convert


for _name, _op in {"Sum": "ReduceSum", "Mean": "ReduceMean", "Max": "ReduceMax",
                   "Min": "ReduceMin"}.items():
    register_function(_name)(_reduction(_op))


@register_function("Reshape")
def _reshape_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return ctx.node("Reshape", [ins[0], ctx.ints(ctx.shape_for(ys[0].shape, xs[0].shape))])


@register_function("Transpose")
def _transpose_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    axes = f.axes if f.axes is not None else tuple(reversed(range(xs[0].ndim)))
    return ctx.node("Transpose", [ins[0]], perm=[int(a) for a in axes])


def _dynamic_shape(ctx: ExportContext, target: tuple[int, ...]) -> str:
    """A 1-D shape value equal to ``target`` with axis 0 taken from the input's batch."""
    if not ctx.is_batch(target):
        return ctx.ints(target)
    batch = ctx.node("Slice", [ctx.node("Shape", ["input"]), ctx.ints([0]), ctx.ints([1])])
    return ctx.node("Concat", [batch, ctx.ints(target[1:])], axis=0)


@register_function("BroadcastTo")
def _broadcast_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return ctx.node("Expand", [ins[0], _dynamic_shape(ctx, tuple(f.shape))])


@register_function("SumTo")
def _sum_to_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    src, shape = xs[0].shape, tuple(f.shape)
    lead = len(src) - len(shape)
    axes = list(range(lead)) + [i + lead for i, s in enumerate(shape)
                                if s == 1 and src[i + lead] != 1]
    y = ctx.reduce("ReduceSum", ins[0], axes, True) if axes else ins[0]
    return ctx.node("Reshape", [y, ctx.ints(ctx.shape_for(shape, src))]) if lead else y


@register_function("Concatenate")
def _concat_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    return ctx.node("Concat", ins, axis=int(f.axis))


@register_function("Split")
def _split_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> list[str]:
    edges = [0, *f.bounds, xs[0].shape[f.axis]]
    sizes = [b - a for a, b in zip(edges[:-1], edges[1:])]
    return ctx.node("Split", [ins[0], ctx.ints(sizes)], n_outputs=len(sizes),
                    axis=int(f.axis))


@register_function("GetItem")
def _getitem_fn(ctx: ExportContext, f: Any, ins: list[str], xs: list, ys: list) -> str:
    index = f.index if isinstance(f.index, tuple) else (f.index,)
    shape = xs[0].shape
    if not all(i is None or i is Ellipsis or isinstance(i, (int, slice, np.integer))
               for i in index):
        raise UnsupportedOperatorError(
            f"onnx.export: indexing a tensor of shape {shape} with arrays (advanced "
            f"indexing) has no ONNX converter yet; only ints, slices, None and ... are "
            f"supported")
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = index[:at] + (slice(None),) * (len(shape) - n_real) + index[at + 1:]
    index = index + (slice(None),) * (len(shape) - n_real - 0)
    starts, ends, axes, steps, take, new = [], [], [], [], [], []
    axis = out_axis = 0
    for i in index:
        if i is None:
            new.append(out_axis)
            out_axis += 1
            continue
        if axis >= len(shape):
            break
        if isinstance(i, slice):
            s, e, st = i.indices(shape[axis])
            if (s, e, st) != (0, shape[axis], 1):
                if st < 0 and e < 0:
                    e = -(2 ** 63)
                starts.append(s)
                ends.append(e)
                axes.append(axis)
                steps.append(st)
            out_axis += 1
        else:
            take.append((axis, int(i) % shape[axis]))
        axis += 1
    y = ins[0]
    if axes:
        y = ctx.node("Slice", [y, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes),
                               ctx.ints(steps)])
    for ax, k in reversed(take):
        y = ctx.node("Gather", [y, ctx.constant(np.asarray(k, dtype=np.int64))], axis=ax)
    if new:
        y = ctx.node("Unsqueeze", [y, ctx.ints(new)])
    return y
