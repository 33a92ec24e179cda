"""Post-training quantization: int8 (or fewer bits) weights, calibrated int8 activations.

``steepest.quantize(model, calibration_data)`` turns a trained ``Sequential`` of Linear
layers (with activations, batch norm, dropout, flatten) into a :class:`QuantizedModel`:

* **weights**: symmetric, ``q = round(w / s)`` clipped to ``[-(2^(b-1) - 1), 2^(b-1) - 1]``
  with one scale per output channel (``scheme='per_channel'``, each row its own range) or
  one per tensor (``'per_tensor'``). Batch norm (eval mode) is folded into the Linear
  before it first.
* **activations**: the input of every Linear is quantized the same way with a scale
  calibrated on ``calibration_data``: from the largest magnitude seen (``'minmax'``) or a
  high percentile of the magnitudes (``'percentile'``, which ignores rare outliers).
* **inference**: ``acc = x_q · W_qᵀ + b_q`` in integers (the bias quantized to int32 at
  scale ``s_x·s_w``), then ``y = acc · s_x · s_w`` in float32. NumPy's integer matmul has no
  BLAS, so by default (``accumulate='auto'``) the integer-valued operands are multiplied
  as float32, which is *exact* while ``q_x·q_w·in_features < 2^24`` (float32 represents
  every integer below that): the fake-quantized float GEMM then gives the int32 result
  bit for bit, at BLAS speed. Wider layers use float64 (exact below 2^53).
  ``accumulate='int32'`` forces the integer path.
* **files**: ``save``/``load`` store int8 weights, int32 biases and float32 scales in
  steepest's safe ``.npz`` format, about 4x smaller than the float32 model (weights with
  fewer bits are still stored one per byte).
* **ONNX**: ``steepest.onnx.export(q, example_input, path)`` writes QuantizeLinear /
  DequantizeLinear (QDQ) ONNX that onnxruntime runs (see :mod:`steepest.onnx.quantized`).

Layers other than Linear (activations, Flatten) run in float32 on the dequantized values.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from . import nn
from .serialization import load as _load
from .serialization import save as _save
from .tensor import Tensor

__all__ = ["QuantizedLinear", "QuantizedModel", "quantize", "load_quantized"]

FORMAT = "steepest-quantized-v1"
SCHEMES = ("per_channel", "per_tensor")
CALIBRATIONS = ("minmax", "percentile")
_ACTIVATIONS = {"ReLU": (), "Sigmoid": (), "Tanh": (), "LeakyReLU": ("negative_slope",),
                "ELU": ("alpha",), "GELU": ("approximate",), "Softplus": ("beta", "threshold"),
                "Flatten": ()}


def _qmax(bits: int, what: str) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
        raise ValueError(f"quantize: {what} must be an integer from 2 to 8, got {bits!r}")
    return 2 ** (int(bits) - 1) - 1


def quantize_weight(w: np.ndarray, bits: int = 8, scheme: str = "per_channel"
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization of a (out, in) weight: (int8 codes, float32 scale per row).

    A per-tensor scale is returned repeated per row, so both schemes dequantize alike.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"quantize: scheme must be one of {', '.join(SCHEMES)}, got "
                         f"{scheme!r}")
    qmax = _qmax(bits, "bits")
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise ValueError(f"quantize: weight must be 2-D (out, in), got shape {w.shape}")
    amax = np.abs(w).max(axis=1) if scheme == "per_channel" else np.full(
        len(w), np.abs(w).max() if w.size else 0.0)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.rint(w / scale[:, None]), -qmax, qmax).astype(np.int8)
    return q, scale.astype(np.float32)


class QuantizedLinear(nn.Module):
    """y = (x_q W_qᵀ + b_q) s_x s_w with int8 codes; inference only (no gradients)."""

    def __init__(self, weight_q: np.ndarray, weight_scale: np.ndarray, bias_q: np.ndarray,
                 input_scale: float, bits: int = 8, activation_bits: int = 8,
                 accumulate: str = "auto") -> None:
        super().__init__()
        if accumulate not in ("auto", "int32"):
            raise ValueError(f"QuantizedLinear: accumulate must be 'auto' or 'int32', got "
                             f"{accumulate!r}")
        out, inp = weight_q.shape
        if weight_q.dtype != np.int8 or weight_scale.shape != (out,) or bias_q.shape != (out,):
            raise ValueError(f"QuantizedLinear: expected int8 weight (out, in), scale (out,) "
                             f"and bias (out,), got {weight_q.dtype} {weight_q.shape}, "
                             f"{weight_scale.shape}, {bias_q.shape}")
        self.in_features, self.out_features = int(inp), int(out)
        self.bits, self.activation_bits, self.accumulate = int(bits), int(activation_bits), \
            accumulate
        self._qw, self._qa = _qmax(bits, "bits"), _qmax(activation_bits, "activation_bits")
        if np.abs(weight_q.astype(np.int16)).max(initial=0) > self._qw:
            raise ValueError(f"QuantizedLinear: weight codes exceed ±{self._qw} for "
                             f"{bits} bits")
        self.register_buffer("weight_q", weight_q)
        self.register_buffer("weight_scale", weight_scale.astype(np.float32))
        self.register_buffer("bias_q", bias_q.astype(np.int32))
        self.register_buffer("input_scale", np.asarray(input_scale, dtype=np.float32))
        # float GEMM on integer codes is exact while every partial sum is below 2^mantissa
        bound = self._qw * self._qa * max(inp, 1)
        self._float_dtype = np.float32 if bound < 2 ** 24 else np.float64
        self._wf = weight_q.T.astype(self._float_dtype)

    def forward(self, x: Any) -> Tensor:
        a = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)
        s_x = np.float32(self.input_scale)
        xq = np.divide(a, s_x)
        np.rint(xq, out=xq)
        np.clip(xq, -self._qa, self._qa, out=xq)
        if self.accumulate == "int32":
            acc = (xq.astype(np.int32) @ self.weight_q.T.astype(np.int32) + self.bias_q
                   ).astype(np.float32)
        else:
            # exact integer sums; adding the bias rounds once, like the int32 path's cast
            acc = xq.astype(self._float_dtype, copy=False) @ self._wf
            acc += self.bias_q
            acc = acc.astype(np.float32, copy=False)
        acc *= s_x * self.weight_scale
        return Tensor(acc)

    def dequantized_weight(self) -> np.ndarray:
        """The float32 weight these codes stand for (for histograms and error analysis)."""
        return self.weight_q.astype(np.float32) * self.weight_scale[:, None]

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bits={self.bits}, activation_bits={self.activation_bits}")


class QuantizedModel(nn.Sequential):
    """A quantized ``Sequential``: QuantizedLinear layers and float activations."""

    def save(self, path: str | os.PathLike) -> None:
        """Write the model (int8 codes, int32 biases, float32 scales) to an ``.npz`` file."""
        spec = []
        for name, m in self.named_children():
            kind = type(m).__name__
            if isinstance(m, QuantizedLinear):
                spec.append({"kind": "QuantizedLinear", "name": name, "bits": m.bits,
                             "activation_bits": m.activation_bits})
            elif kind in _ACTIVATIONS:
                spec.append({"kind": kind, "name": name,
                             **{a: getattr(m, a) for a in _ACTIVATIONS[kind]}})
            else:
                raise ValueError(f"QuantizedModel.save: layer {name} ({kind}) cannot be saved "
                                 f"(supported: QuantizedLinear, {', '.join(_ACTIVATIONS)})")
        _save({"format": FORMAT, "spec": spec, "state": self.state_dict()}, path)


def load_quantized(path: str | os.PathLike) -> QuantizedModel:
    """Read a :meth:`QuantizedModel.save` file, checking its structure before use."""
    obj = _load(path)
    where = f"load_quantized({os.fspath(path)!r})"
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"{where}: not a steepest quantized model file")
    spec, state = obj.get("spec"), obj.get("state")
    if not isinstance(spec, list) or not isinstance(state, dict):
        raise ValueError(f"{where}: malformed file (spec/state missing)")
    layers: list[nn.Module] = []
    for entry in spec:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"{where}: malformed layer entry {entry!r}")
        kind, name = entry.get("kind"), entry["name"]
        if kind == "QuantizedLinear":
            try:
                arrays = [np.asarray(state[f"{name}.{k}"]) for k in
                          ("weight_q", "weight_scale", "bias_q", "input_scale")]
            except KeyError as exc:
                raise ValueError(f"{where}: layer {name} lacks {exc.args[0]!r}") from None
            wq, ws, bq, sx = arrays
            if wq.dtype != np.int8 or bq.dtype != np.int32 or ws.dtype != np.float32:
                raise ValueError(f"{where}: layer {name} has dtypes {wq.dtype}/{ws.dtype}/"
                                 f"{bq.dtype}, expected int8/float32/int32")
            if sx.shape != () or not (np.isfinite(ws).all() and np.isfinite(sx)) or (
                    ws <= 0).any() or sx <= 0:
                raise ValueError(f"{where}: layer {name} has invalid scales")
            layers.append(QuantizedLinear(wq, ws, bq, float(sx), int(entry.get("bits", 8)),
                                          int(entry.get("activation_bits", 8))))
        elif kind in _ACTIVATIONS:
            cls = getattr(nn, kind)
            layers.append(cls(**{a: entry[a] for a in _ACTIVATIONS[kind]}))
        else:
            raise ValueError(f"{where}: unknown layer kind {kind!r}")
    return QuantizedModel(*layers)


def _calibration_inputs(data: Any) -> np.ndarray:
    if isinstance(data, (tuple, list)) and len(data) == 2:
        data = data[0]
    x = np.asarray(data.data if isinstance(data, Tensor) else data)
    if x.dtype.kind != "f" or x.ndim < 2 or len(x) == 0:
        raise ValueError(f"quantize: calibration_data must be a non-empty float array of "
                         f"inputs (N, ...) or an (X, y) pair, got {x.dtype} {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("quantize: calibration_data contains NaN or inf")
    return x


def _fold_batch_norm(w: np.ndarray, b: np.ndarray, bn: Any) -> tuple[np.ndarray, np.ndarray]:
    """Linear then eval-mode BatchNorm as one Linear: W' = γ/σ · W, b' = γ/σ (b − μ) + β."""
    inv = 1.0 / np.sqrt(np.asarray(bn.running_var, np.float64) + bn.eps)
    g = inv * (np.asarray(bn.weight.data, np.float64) if bn.affine else 1.0)
    beta = np.asarray(bn.bias.data, np.float64) if bn.affine else 0.0
    return w * g[:, None], (b - np.asarray(bn.running_mean, np.float64)) * g + beta


def quantize(model: Any, calibration_data: Any, scheme: str = "per_channel", bits: int = 8,
             *, activation_bits: int = 8, calibration: str = "minmax",
             percentile: float = 99.99, accumulate: str = "auto") -> QuantizedModel:
    """Post-training quantization of a trained ``Sequential`` MLP (see the module docs).

    Parameters
    ----------
    model : nn.Sequential
        Linear layers with activations, BatchNorm1d (folded), Dropout (dropped), Flatten.
    calibration_data : array (N, features) or (X, y)
        Typical inputs; the range of every Linear's input is measured on them.
    scheme : {'per_channel', 'per_tensor'}
        One weight scale per output row, or one for the whole matrix.
    bits : int
        Weight bits, 2..8 (8 = int8; fewer bits still use int8 storage).
    activation_bits : int
        Bits of the quantized Linear inputs (8 by default).
    calibration : {'minmax', 'percentile'}
        Activation range from the largest magnitude, or from the ``percentile``-th
        percentile of the magnitudes (clips rare outliers, finer steps for the rest).
    accumulate : {'auto', 'int32'}
        ``'auto'``: exact float GEMM on the integer codes (fast); ``'int32'``: integer matmul.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"quantize: scheme must be one of {', '.join(SCHEMES)}, got "
                         f"{scheme!r}")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"quantize: calibration must be one of {', '.join(CALIBRATIONS)}, "
                         f"got {calibration!r}")
    if not 0.0 < float(percentile) <= 100.0:
        raise ValueError(f"quantize: percentile must be in (0, 100], got {percentile}")
    qa = _qmax(activation_bits, "activation_bits")
    _qmax(bits, "bits")
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"quantize: expected an nn.Sequential, got {type(model).__name__}")
    x = _calibration_inputs(calibration_data)
    children = list(model.named_children())
    for name, m in children:
        kind = type(m).__name__
        if kind not in ("Linear", "BatchNorm1d", "Dropout") and kind not in _ACTIVATIONS:
            raise ValueError(f"quantize: layer {name} ({kind}) is not supported (Linear, "
                             f"BatchNorm1d, Dropout, {', '.join(_ACTIVATIONS)})")
    was_training = model.training
    model.eval()
    layers: list[nn.Module] = []
    try:
        from .autograd import no_grad

        with no_grad():
            h = Tensor(x.astype(np.float32, copy=False))
            i = 0
            while i < len(children):
                name, m = children[i]
                kind = type(m).__name__
                if kind == "Linear":
                    mag = np.abs(h.data)
                    amax = float(mag.max()) if calibration == "minmax" else float(
                        np.percentile(mag, percentile))
                    s_x = amax / qa if amax > 0 else 1.0
                    w = np.asarray(m.weight.data, np.float64)
                    b = (np.asarray(m.bias.data, np.float64) if m.bias is not None
                         else np.zeros(len(w)))
                    nxt = children[i + 1][1] if i + 1 < len(children) else None
                    if type(nxt).__name__ == "BatchNorm1d":
                        w, b = _fold_batch_norm(w, b, nxt)
                        h = nxt(m(h))
                        i += 1
                    else:
                        h = m(h)
                    wq, ws = quantize_weight(w, bits, scheme)
                    bq = np.rint(b / (s_x * ws.astype(np.float64)))
                    bq = np.clip(bq, -(2 ** 31 - 1), 2 ** 31 - 1).astype(np.int32)
                    layers.append(QuantizedLinear(wq, ws, bq, s_x, bits, activation_bits,
                                                  accumulate))
                elif kind == "BatchNorm1d":
                    raise ValueError(f"quantize: BatchNorm1d {name} does not follow a Linear "
                                     f"layer, so it cannot be folded")
                elif kind == "Dropout":
                    h = m(h)  # identity in eval mode; dropped from the quantized model
                else:
                    h = m(h)
                    layers.append(m)
                i += 1
    finally:
        model.train(was_training)
    return QuantizedModel(*layers)


def weight_error(model: Any, qmodel: QuantizedModel) -> float:
    """Largest relative weight error max|W - Ŵ| / max|W| over the Linear layers (no BN)."""
    lins = [m for m in model.children() if type(m).__name__ == "Linear"]
    qs = [m for m in qmodel.children() if isinstance(m, QuantizedLinear)]
    worst = 0.0
    for lin, q in zip(lins, qs):
        w = np.asarray(lin.weight.data, np.float64)
        worst = max(worst, float(np.abs(w - q.dequantized_weight()).max() / max(
            np.abs(w).max(), math.ulp(1.0))))
    return worst
