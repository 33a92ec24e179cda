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

# -- vocabulary: torch's functional names ----------------------------------------------------
from ..ops.layout import pad  # noqa: E402
from .activation import (  # noqa: E402
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from .distance import cosine_similarity, pairwise_distance, pdist  # noqa: E402
from .loss import (  # noqa: E402
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from .normalization import group_norm, layer_norm, normalize  # noqa: E402
from .sparse import embedding, one_hot  # noqa: E402

__all__ += [
    "celu", "cosine_embedding_loss", "cosine_similarity", "embedding", "gaussian_nll_loss", "glu",
    "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss",
    "kl_div", "layer_norm", "logsigmoid", "margin_ranking_loss", "mish", "multi_margin_loss",
    "multilabel_soft_margin_loss", "normalize", "one_hot", "pad", "pairwise_distance", "pdist",
    "poisson_nll_loss", "prelu", "relu6", "selu", "silu", "soft_margin_loss", "softmin",
    "softshrink", "softsign", "tanhshrink", "threshold", "triplet_margin_loss",
]
