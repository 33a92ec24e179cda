"""Model builders from a few hyperparameters (used by the CLI, experiments and search).

``mlp([784, 256, 256, 10], activation='relu', init='he')`` gives the classic fully
connected network: Linear → [BatchNorm] → activation → [Dropout] per hidden layer, and a
final Linear that outputs logits (or regression values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import nn
from .nn import init as _init
from .suggest import unknown

ACTIVATIONS = {
    "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU, "gelu": nn.GELU, "softplus": nn.Softplus,
}
INITS = ("he", "xavier", "lecun", "default", "normal", "zeros")


def init_weight(weight: Any, scheme: str, activation: str = "relu", std: float = 0.01) -> None:
    """Initialise one weight matrix by a named scheme.

    ``he`` = Kaiming normal (std √(2/fan_in), for ReLU-like units); ``xavier`` = Glorot
    normal (std √(2/(fan_in+fan_out)), for sigmoid/tanh); ``lecun`` = std √(1/fan_in);
    ``normal`` = a fixed ``std`` (the notes' 0.01 or 1 experiments); ``zeros`` is the known
    mistake (every unit stays identical); ``default`` keeps the layer's own init.
    """
    if scheme == "he":
        nl = activation if activation in ("relu", "leaky_relu") else "relu"
        _init.kaiming_normal_(weight, nonlinearity=nl)
    elif scheme == "xavier":
        gain = _init.calculate_gain(activation) if activation in ("tanh", "sigmoid") else 1.0
        _init.xavier_normal_(weight, gain=gain)
    elif scheme == "lecun":
        _init.lecun_normal_(weight)
    elif scheme == "normal":
        _init.normal_(weight, 0.0, std)
    elif scheme == "zeros":
        _init.zeros_(weight)
    elif scheme != "default":
        raise ValueError(unknown("init", scheme, INITS))


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    init: str = "he",
    dropout: float = 0.0,
    batch_norm: bool = False,
    init_std: float = 0.01,
    dtype: Any = np.float32,
) -> nn.Sequential:
    """A multilayer perceptron with layer widths ``sizes`` (input first, output last)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise ValueError(f"mlp: sizes must list at least an input and an output width, all "
                         f"positive, got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(unknown("activation", activation, ACTIVATIONS))
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout}")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(n_in, n_out, dtype=dtype)
        last = i == len(sizes) - 2
        init_weight(lin.weight, init, activation if not last else "linear", init_std)
        if init != "default":
            _init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
