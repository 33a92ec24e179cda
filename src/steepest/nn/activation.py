"""Activation modules: thin wrappers around the fused functions of steepest.functional."""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..ops import _axes
from .module import Module

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Softplus",
           "Tanh"]


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + e^-x), stable for large |x|."""

    def forward(self, x: Any) -> Any:
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x: Any) -> Any:
        return F.tanh(x)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Any:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Any:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x·Φ(x); ``approximate='tanh'`` uses the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Any) -> Any:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim`` (PyTorch's argument; ``axis`` is an alias; default -1)."""

    def __init__(self, dim: int | None = None, *, axis: int | None = None) -> None:
        super().__init__()
        dim = axis if dim is None else dim
        self.dim = -1 if dim is None else _axes.check_int(dim, "Softmax")

    def forward(self, x: Any) -> Any:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """LogSoftmax along ``dim`` (PyTorch's argument; ``axis`` is an alias; default -1)."""

    def __init__(self, dim: int | None = None, *, axis: int | None = None) -> None:
        super().__init__()
        dim = axis if dim is None else dim
        self.dim = -1 if dim is None else _axes.check_int(dim, "LogSoftmax")

    def forward(self, x: Any) -> Any:
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# -- vocabulary: more activation modules under torch's names ------------------------------


def _simple(name: str, fn_name: str, doc: str) -> type:
    """A parameter-free activation module calling ``F.<fn_name>``."""

    def forward(self: Module, x: Any) -> Any:
        return getattr(F, fn_name)(x)

    def init(self: Module, inplace: bool = False) -> None:
        Module.__init__(self)

    return type(name, (Module,), {"__init__": init, "forward": forward, "__doc__": doc,
                                  "__module__": __name__})


SiLU = _simple("SiLU", "silu", "x · σ(x).")
SELU = _simple("SELU", "selu", "Scaled ELU with the self-normalising constants.")
ReLU6 = _simple("ReLU6", "relu6", "min(max(x, 0), 6).")
Hardsigmoid = _simple("Hardsigmoid", "hardsigmoid", "clamp(x/6 + 1/2, 0, 1).")
Hardswish = _simple("Hardswish", "hardswish", "x · hardsigmoid(x).")
Mish = _simple("Mish", "mish", "x · tanh(softplus(x)).")
Softsign = _simple("Softsign", "softsign", "x / (1 + |x|).")
LogSigmoid = _simple("LogSigmoid", "logsigmoid", "log σ(x), stable.")
Tanhshrink = _simple("Tanhshrink", "tanhshrink", "x - tanh(x).")


class CELU(Module):
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Any:
        return F.celu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Hardtanh(Module):
    """clamp(x, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) is greater than max_val "
                             f"({max_val})")
        self.min_val, self.max_val = float(min_val), float(max_val)

    def forward(self, x: Any) -> Any:
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class _Lambd(Module):
    _fn = ""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = float(lambd)

    def forward(self, x: Any) -> Any:
        return getattr(F, self._fn)(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"


class Hardshrink(_Lambd):
    """x where |x| > lambd, else 0."""

    _fn = "hardshrink"


class Softshrink(_Lambd):
    """x - lambd·sign(x) where |x| > lambd, else 0."""

    _fn = "softshrink"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value = float(threshold), float(value)

    def forward(self, x: Any) -> Any:
        return F.threshold(x, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}"


class _DimActivation(Module):
    _fn = ""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = int(dim)

    def forward(self, x: Any) -> Any:
        return getattr(F, self._fn)(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(_DimActivation):
    """softmax(-x) along ``dim``."""

    _fn = "softmin"


class GLU(_DimActivation):
    """a · σ(b) for the two halves (a, b) of the input along ``dim``."""

    _fn = "glu"


class PReLU(Module):
    """x for x > 0, a·x otherwise, with a learnable ``weight`` a (one value, or one per
    channel of dim 1), initialised to ``init`` (0.25), as torch."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25,
                 dtype: Any = "float32") -> None:
        import numpy as np

        from .parameter import Parameter

        super().__init__()
        if num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, float(init), dtype=dtype))

    def forward(self, x: Any) -> Any:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


__all__ += ["CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid",
            "Mish", "PReLU", "ReLU6", "SELU", "SiLU", "Softmin", "Softshrink", "Softsign",
            "Tanhshrink", "Threshold"]
