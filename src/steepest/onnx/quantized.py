"""QDQ ONNX for :func:`steepest.quantize` models: ``steepest.onnx.export(q, x, path)``.

A :class:`~steepest.quantize.QuantizedLinear` becomes the standard QDQ pattern that
onnxruntime (and TensorRT, OpenVINO) recognise and may fuse into integer kernels::

    x ─ Clip(±qa·s_x) ─ QuantizeLinear(s_x, 0) ─ DequantizeLinear ─┐
    W_q (int8) ───────────────────────────── DequantizeLinear(s_w) ─ Gemm ─ y
    b_q (int32) ──────────────────────── DequantizeLinear(s_x·s_w) ─┘

Weights stay int8 initializers with a per-axis scale (axis 0, one per output row) for
``per_channel`` and one scalar scale for ``per_tensor``; all zero points are 0 (symmetric).
The Clip keeps the codes inside ±(2^(b−1) − 1) as steepest does (QuantizeLinear alone
saturates int8 at −128, and activations of fewer than 8 bits need the narrower range).
The float layers between them (ReLU, Flatten, ...) are exported as usual.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .converters import _linear
from .exporter import ExportContext, register_module


@register_module("QuantizedLinear")
def _quantized_linear(ctx: ExportContext, m: Any, ins: list[str], args: tuple, out: Any
                      ) -> str:
    if ctx.opset < 13:
        raise ValueError(f"onnx.export: QDQ export of QuantizedLinear needs opset >= 13 "
                         f"(per-axis DequantizeLinear), got opset {ctx.opset}")
    prefix = ctx.module_name(m)
    out_f = m.out_features
    s_x = np.float32(m.input_scale)
    s_w = np.asarray(m.weight_scale, dtype=np.float32)
    per_tensor = bool(np.all(s_w == s_w[0]))
    # activations: clip to the symmetric code range, then quantize and dequantize
    qa = float(m._qa)
    lo, hi = ctx.constant(np.float32(-qa * s_x)), ctx.constant(np.float32(qa * s_x))
    x = ctx.node("Clip", [ins[0], lo, hi], hint=f"{prefix}.input_clip")
    sx_name = ctx.initializer(np.asarray(s_x, np.float32), f"{prefix}.input_scale")
    zx_name = ctx.initializer(np.asarray(0, np.int8), f"{prefix}.input_zero_point")
    xq = ctx.node("QuantizeLinear", [x, sx_name, zx_name], hint=f"{prefix}.input_q")
    xd = ctx.node("DequantizeLinear", [xq, sx_name, zx_name], hint=f"{prefix}.input_dq")
    # weights: int8 codes with per-row (axis 0) or one scale
    wq = ctx.initializer(np.asarray(m.weight_q, np.int8), f"{prefix}.weight_q")
    if per_tensor:
        ws = ctx.initializer(np.asarray(s_w[0], np.float32), f"{prefix}.weight_scale")
        wz = ctx.initializer(np.asarray(0, np.int8), f"{prefix}.weight_zero_point")
        wd = ctx.node("DequantizeLinear", [wq, ws, wz], hint=f"{prefix}.weight_dq")
    else:
        ws = ctx.initializer(s_w, f"{prefix}.weight_scale")
        wz = ctx.initializer(np.zeros(out_f, np.int8), f"{prefix}.weight_zero_point")
        wd = ctx.node("DequantizeLinear", [wq, ws, wz], axis=0, hint=f"{prefix}.weight_dq")
    # bias: int32 codes at scale s_x·s_w (what the integer accumulator adds)
    bq = ctx.initializer(np.asarray(m.bias_q, np.int32), f"{prefix}.bias_q")
    bs = ctx.initializer((s_x * s_w).astype(np.float32), f"{prefix}.bias_scale")
    bz = ctx.initializer(np.zeros(out_f, np.int32), f"{prefix}.bias_zero_point")
    bd = ctx.node("DequantizeLinear", [bq, bs, bz], axis=0, hint=f"{prefix}.bias_dq")
    return _linear(ctx, xd, wd, bd, args[0].ndim)
