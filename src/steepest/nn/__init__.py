"""Neural-network building blocks: Module, layers, activations, losses, initialisers.

``steepest.nn.init`` holds the initialisers; ``steepest.functional`` (also reachable as
``steepest.nn.functional``) the function forms of the layers and losses.
"""

from . import functional, init
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from .container import ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .layers import BatchNorm1d, Dropout, Flatten, Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import (
    IncompatibleKeys,
    LoadStateDictError,
    Module,
    Parameter,
    SymmetryWarning,
    check_symmetry,
)
from .normalization import BatchNorm2d, Dropout2d
from .pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    Fold,
    MaxPool1d,
    MaxPool2d,
    Unfold,
    Upsample,
)

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "ELU",
    "Flatten", "GELU", "HuberLoss", "Identity", "IncompatibleKeys", "L1Loss", "LeakyReLU",
    "Linear", "LoadStateDictError", "LogSoftmax", "MSELoss", "Module", "ModuleList",
    "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "SmoothL1Loss", "Softmax",
    "Softplus", "SymmetryWarning", "Tanh", "check_symmetry", "functional", "init",
    # convolutional networks (nn/conv.py, nn/pooling.py, nn/normalization.py)
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm2d",
    "Conv1d", "Conv2d", "ConvTranspose2d", "Dropout2d", "Fold", "MaxPool1d", "MaxPool2d",
    "Unflatten", "Unfold", "Upsample",
]

# -- vocabulary: more layers, activations and losses under torch's names -------------------
from . import utils  # noqa: E402
from .activation import (  # noqa: E402
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from .loss import (  # noqa: E402
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    KLDivLoss,
    MarginRankingLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from .normalization import GroupNorm, LayerNorm  # noqa: E402
from .shape import Unflatten  # noqa: E402
from .sparse import Embedding  # noqa: E402

__all__ += [
    "CELU", "CosineEmbeddingLoss", "Embedding", "GLU", "GaussianNLLLoss", "GroupNorm",
    "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "KLDivLoss",
    "LayerNorm", "LogSigmoid", "MarginRankingLoss", "Mish", "PReLU", "PoissonNLLLoss",
    "ReLU6", "SELU", "SiLU", "SoftMarginLoss", "Softmin", "Softshrink", "Softsign",
    "Tanhshrink", "Threshold", "TripletMarginLoss", "Unflatten", "utils",
]
