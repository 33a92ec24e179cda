"""Weight initialisers: fill a Tensor (or NumPy array) in place and return it.

All draws come from ``steepest.random.generator()``, so ``steepest.manual_seed(s)`` makes
them reproducible. Each function exists with and without PyTorch's trailing underscore
(``xavier_uniform_`` and ``xavier_uniform``).

Formulas (fan_in = in_features, fan_out = out_features for a (out, in) weight):

===================  ==================================================================
xavier (Glorot)      std = gain · sqrt(2 / (fan_in + fan_out)); uniform bound = std·√3
kaiming (He)         std = gain / sqrt(fan);    fan = fan_in or fan_out (``mode``)
lecun_normal         std = 1 / sqrt(fan_in)
===================  ==================================================================

Glorot's variance is 2/(fan_in + fan_out), *not* 1/fan_in: "Deep Learning from Scratch"
calls sqrt(1/n) "Xavier", but that is LeCun's initialisation (:func:`lecun_normal_`).
The gain depends on the nonlinearity that follows (:func:`calculate_gain`): He's √2 for
ReLU compensates for ReLU zeroing half of its inputs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import device_of, is_device_array, to_device
from ..random import generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "constant", "constant_", "kaiming_normal", "kaiming_normal_",
    "kaiming_uniform", "kaiming_uniform_", "lecun_normal", "lecun_normal_", "normal",
    "normal_", "ones", "ones_", "trunc_normal", "trunc_normal_", "uniform", "uniform_",
    "xavier_normal", "xavier_normal_", "xavier_uniform", "xavier_uniform_", "zeros", "zeros_",
]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's values).

    linear/identity/conv/sigmoid: 1; tanh: 5/3; relu: √2;
    leaky_relu: √(2 / (1 + slope²)) with slope ``param`` (default 0.01); selu: 3/4.
    """
    linear = {"linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
              "conv_transpose2d", "conv_transpose3d", "sigmoid"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative slope {param!r} is not a number")
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _array(t: Any, name: str) -> np.ndarray:
    a = t.data if isinstance(t, Tensor) else t
    if not isinstance(a, np.ndarray) and not is_device_array(a):
        raise TypeError(f"{name}: expected a Tensor or NumPy array, got {type(t).__name__}")
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: can only fill floating-point tensors, got dtype {a.dtype}")
    return a


def _on(arr: Any, values: np.ndarray) -> Any:
    """Host draws for a device array: drawn from the host generator, then copied, so one
    seed gives the same initial weights on every device."""
    return values if type(arr) is np.ndarray else to_device(values, device_of(arr))


def _fans(a: np.ndarray, name: str) -> tuple[int, int]:
    """fan_in, fan_out of a weight (out, in, *kernel) as PyTorch computes them."""
    if a.ndim < 2:
        raise ValueError(f"{name}: fan in and fan out can not be computed for a tensor with "
                         f"fewer than 2 dimensions (shape {a.shape})")
    receptive = math.prod(a.shape[2:])
    return a.shape[1] * receptive, a.shape[0] * receptive


def _fan(a: np.ndarray, mode: str, name: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(a, name)
    return fan_in if mode == "fan_in" else fan_out


def _draw_dtype(a: np.ndarray) -> Any:
    return a.dtype if a.dtype in (np.float32, np.float64) else np.float64


def uniform_(t: Any, a: float = 0.0, b: float = 1.0) -> Any:
    """Fill with U(a, b)."""
    arr = _array(t, "uniform_")
    u = generator().random(arr.shape, dtype=_draw_dtype(arr))
    arr[...] = _on(arr, u * (float(b) - float(a)) + float(a))
    return t


def normal_(t: Any, mean: float = 0.0, std: float = 1.0) -> Any:
    """Fill with N(mean, std²)."""
    arr = _array(t, "normal_")
    z = generator().standard_normal(arr.shape, dtype=_draw_dtype(arr))
    arr[...] = _on(arr, z * float(std) + float(mean))
    return t


def trunc_normal_(t: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Any:
    """Fill with N(mean, std²) restricted to [a, b] (out-of-range draws are redrawn)."""
    arr = _array(t, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    gen = generator()
    out = np.empty(arr.shape, dtype=np.float64)
    flat = out.reshape(-1)
    todo = np.arange(flat.size)
    while todo.size:
        z = gen.standard_normal(todo.size) * float(std) + float(mean)
        ok = (z >= a) & (z <= b)
        flat[todo[ok]] = z[ok]
        todo = todo[~ok]
    arr[...] = _on(arr, out)
    return t


def constant_(t: Any, value: float) -> Any:
    """Fill with ``value`` (every entry equal: never for weights, see check_symmetry)."""
    _array(t, "constant_")[...] = value
    return t


def zeros_(t: Any) -> Any:
    return constant_(t, 0.0)


def ones_(t: Any) -> Any:
    return constant_(t, 1.0)


def xavier_uniform_(t: Any, gain: float = 1.0) -> Any:
    """Glorot uniform: U(-bound, bound), bound = gain · sqrt(6 / (fan_in + fan_out))."""
    arr = _array(t, "xavier_uniform_")
    fan_in, fan_out = _fans(arr, "xavier_uniform_")
    bound = float(gain) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Any, gain: float = 1.0) -> Any:
    """Glorot normal: N(0, std²), std = gain · sqrt(2 / (fan_in + fan_out))."""
    arr = _array(t, "xavier_normal_")
    fan_in, fan_out = _fans(arr, "xavier_normal_")
    return normal_(t, 0.0, float(gain) * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(t: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Any:
    """He uniform: U(-bound, bound), bound = gain · sqrt(3 / fan).

    ``a`` is the negative slope used by the leaky_relu gain (a=0 gives ReLU's √2).
    """
    arr = _array(t, "kaiming_uniform_")
    fan = _fan(arr, mode, "kaiming_uniform_")
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fan) if fan else 0.0
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Any:
    """He normal: N(0, std²), std = gain / sqrt(fan) (√(2/fan_in) for ReLU)."""
    arr = _array(t, "kaiming_normal_")
    fan = _fan(arr, mode, "kaiming_normal_")
    gain = calculate_gain(nonlinearity, a)
    return normal_(t, 0.0, gain / math.sqrt(fan) if fan else 0.0)


def lecun_normal_(t: Any) -> Any:
    """LeCun normal: N(0, 1/fan_in) (the "Xavier" of some textbooks; right for SELU)."""
    arr = _array(t, "lecun_normal_")
    fan_in, _ = _fans(arr, "lecun_normal_")
    return normal_(t, 0.0, 1.0 / math.sqrt(fan_in) if fan_in else 0.0)


uniform = uniform_
normal = normal_
trunc_normal = trunc_normal_
constant = constant_
zeros = zeros_
ones = ones_
xavier_uniform = xavier_uniform_
xavier_normal = xavier_normal_
kaiming_uniform = kaiming_uniform_
kaiming_normal = kaiming_normal_
lecun_normal = lecun_normal_


def _layer_default_(weight: Any, bias: Any) -> None:
    """PyTorch's default initialisation of Linear and convolution layers: weights
    kaiming-uniform with a = √5, bias uniform in ±1/√fan_in (fan_in from the weight, so one
    rule serves (out, in) and (out, in/groups, *kernel) weights alike)."""
    kaiming_uniform_(weight, a=math.sqrt(5.0))
    if bias is not None:
        fan_in = _fans(_array(weight, "init"), "init")[0]
        bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
        uniform_(bias, -bound, bound)
