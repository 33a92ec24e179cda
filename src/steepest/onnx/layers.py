"""ONNX converters for convolution, pooling, normalisation and embedding layers.

They are registered by class name, so they apply as soon as those layers exist in
``steepest.nn`` (written by their own modules) and need no import of them here. Each reads
the layer's PyTorch-named attributes (``kernel_size``, ``stride``, ``padding``, ...); a
layer configured in a way a converter does not handle makes it return ``None``, and the
export falls back to the recorded autograd nodes (which raise, naming the op, if they
have no converter either).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .exporter import ExportContext, register_module


def _tuple(v: Any, n: int) -> list[int]:
    if isinstance(v, (int, np.integer)):
        return [int(v)] * n
    return [int(a) for a in v]


def _pads(padding: Any, n: int) -> list[int]:
    p = _tuple(padding, n)
    return p + p  # ONNX: all begins, then all ends


@register_module("Conv1d", "Conv2d", "Conv3d")
def _conv(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any) -> str | None:
    n = args[0].ndim - 2
    if getattr(m, "padding_mode", "zeros") != "zeros":
        return None
    k, d = _tuple(m.kernel_size, n), _tuple(m.dilation, n)
    if m.padding == "valid":
        pads = [0] * (2 * n)
    elif m.padding == "same":  # PyTorch puts the odd extra padding at the end
        total = [di * (ki - 1) for ki, di in zip(k, d)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    else:
        pads = _pads(m.padding, n)
    inputs = [ins[0], ctx.value(m.weight)]
    if m.bias is not None:
        inputs.append(ctx.value(m.bias))
    return ctx.node("Conv", inputs, kernel_shape=k, strides=_tuple(m.stride, n), pads=pads,
                    dilations=d, group=int(m.groups), hint="conv")


@register_module("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _conv_transpose(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                    ) -> str | None:
    n = args[0].ndim - 2
    if isinstance(m.padding, str):
        return None
    inputs = [ins[0], ctx.value(m.weight)]
    if m.bias is not None:
        inputs.append(ctx.value(m.bias))
    return ctx.node("ConvTranspose", inputs, kernel_shape=_tuple(m.kernel_size, n),
                    strides=_tuple(m.stride, n), pads=_pads(m.padding, n),
                    dilations=_tuple(m.dilation, n), group=int(m.groups),
                    output_padding=_tuple(getattr(m, "output_padding", 0), n),
                    hint="conv_transpose")


@register_module("MaxPool1d", "MaxPool2d", "MaxPool3d")
def _max_pool(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
              ) -> str | None:
    if getattr(m, "return_indices", False):
        return None
    n = args[0].ndim - 2
    return ctx.node("MaxPool", [ins[0]], kernel_shape=_tuple(m.kernel_size, n),
                    strides=_tuple(m.stride, n), pads=_pads(m.padding, n),
                    dilations=_tuple(getattr(m, "dilation", 1), n),
                    ceil_mode=int(bool(getattr(m, "ceil_mode", False))), hint="max_pool")


@register_module("AvgPool1d", "AvgPool2d", "AvgPool3d")
def _avg_pool(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
              ) -> str | None:
    if getattr(m, "divisor_override", None) is not None:
        return None
    n = args[0].ndim - 2
    return ctx.node("AveragePool", [ins[0]], kernel_shape=_tuple(m.kernel_size, n),
                    strides=_tuple(m.stride, n), pads=_pads(m.padding, n),
                    ceil_mode=int(bool(getattr(m, "ceil_mode", False))),
                    count_include_pad=int(bool(getattr(m, "count_include_pad", True))),
                    hint="avg_pool")


def _adaptive(op: str, global_op: str) -> Any:
    def convert(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                ) -> str | None:
        if getattr(m, "return_indices", False):
            return None
        spatial = list(args[0].shape[2:])
        target = list(out.shape[2:])
        if all(t == 1 for t in target):
            return ctx.node(global_op, [ins[0]], hint="global_pool")
        if any(s % t for s, t in zip(spatial, target)):
            return None  # uneven windows: no single ONNX pool expresses them
        k = [s // t for s, t in zip(spatial, target)]
        return ctx.node(op, [ins[0]], kernel_shape=k, strides=k, hint="adaptive_pool")

    return convert


register_module("AdaptiveAvgPool1d", "AdaptiveAvgPool2d")(
    _adaptive("AveragePool", "GlobalAveragePool"))
register_module("AdaptiveMaxPool1d", "AdaptiveMaxPool2d")(
    _adaptive("MaxPool", "GlobalMaxPool"))


@register_module("Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")
def _dropout_nd(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any) -> str:
    return ctx.node("Identity", [ins[0]])


@register_module("LayerNorm")
def _layer_norm(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                ) -> str | None:
    if ctx.opset < 17:
        return None  # LayerNormalization is opset 17+; the recorded nodes are used instead
    dt = args[0].dtype
    shape = tuple(m.normalized_shape)
    w = getattr(m, "weight", None)
    b = getattr(m, "bias", None)
    scale = ctx.value(w) if w is not None else ctx.constant(np.ones(shape, dtype=dt))
    inputs = [ins[0], scale]
    if b is not None:
        inputs.append(ctx.value(b))
    return ctx.node("LayerNormalization", inputs, axis=-len(shape), epsilon=float(m.eps),
                    hint="layer_norm")


@register_module("Embedding")
def _embedding(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
               ) -> str | None:
    if getattr(m, "max_norm", None) is not None:
        return None  # renormalises rows in place at lookup time
    idx = ctx.node("Cast", [ins[0]], to=ctx.onnx.TensorProto.INT64)
    return ctx.node("Gather", [ctx.value(m.weight), idx], axis=0, hint="embedding")
