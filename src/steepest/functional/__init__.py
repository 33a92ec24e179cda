"""Activations, layers, losses and penalties as functions (``import steepest.functional as F``).

Every activation, :func:`linear`, :func:`batch_norm`, :func:`dropout` and every loss is *one*
graph node (a :class:`~steepest.autograd.Function`) with a hand-written backward, one file per
kind: :mod:`.activation`, :mod:`.layer`, :mod:`.loss`, :mod:`.penalty`.

Each backward is written with operators, methods and :mod:`steepest.ops` functions only, so
the same code runs on raw arrays (plain backward: lean) and on Tensors (``create_graph=True``:
the backward is recorded and can be differentiated again). Where a backward reuses a buffer
saved by the forward (the softmax, the normalised input of batch norm), the create-graph
branch recomputes that buffer from the input with ops, so second derivatives flow through it.

Dtypes: float32 stays float32. Scalars are Python floats, never NumPy float64 scalars (which
would silently promote float32 arrays under NumPy 2).
"""

from .activation import (
    elu,
    erf,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from .conv import conv1d, conv2d, conv2d_relu, conv_transpose2d, dropout2d, fold, unfold
from .layer import batch_norm, dropout, linear, linear_relu
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .penalty import elastic_net_penalty, l1_penalty, l2_penalty
from .pool import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    interpolate,
    max_pool1d,
    max_pool2d,
)

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "dropout", "elastic_net_penalty", "elu", "erf", "gelu", "huber_loss",
    "l1_loss", "l1_penalty", "l2_penalty", "leaky_relu", "linear", "linear_relu",
    "log_softmax", "mse_loss", "nll_loss", "relu", "sigmoid", "smooth_l1_loss", "softmax",
    "softplus", "tanh",
    # convolution and pooling (functional/conv.py, functional/pool.py)
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
    "conv2d", "conv2d_relu", "conv_transpose2d", "dropout2d", "fold", "interpolate",
    "max_pool1d", "max_pool2d", "unfold",
]
