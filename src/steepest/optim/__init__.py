"""Optimisers, learning-rate schedules and gradient clipping (``torch.optim`` semantics).

>>> opt = steepest.optim.Adam(model.parameters(), lr=1e-3)
>>> sched = steepest.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
>>> for epoch in range(100):
...     for x, y in loader:
...         opt.zero_grad()
...         loss_fn(model(x), y).backward()
...         steepest.optim.clip_grad_norm_(model.parameters(), 1.0)
...         opt.step()
...     sched.step()

See docs/optim.md for the textbook forms, decoupled weight decay vs L2 penalty, and how
state_dict/load_state_dict resume a run exactly.
"""

from . import lr_scheduler
from .adam import Adam, AdamW, NAdam
from .adaptive import Adadelta, Adagrad, RMSprop
from .clip import clip_grad_norm_, clip_grad_value_, grad_norm
from .lbfgs import LBFGS
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
    warmup,
)
from .newton import NewtonCG
from .optimizer import NonFiniteGradientError, Optimizer, required
from .sgd import SGD, Momentum, Nesterov

__all__ = [
    "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR",
    "LBFGS", "LRScheduler", "LambdaLR", "LinearLR", "Momentum", "MultiStepLR", "NAdam",
    "Nesterov", "NewtonCG", "NonFiniteGradientError", "Optimizer", "RMSprop",
    "ReduceLROnPlateau", "SequentialLR", "StepLR", "clip_grad_norm_", "clip_grad_value_",
    "grad_norm", "lr_scheduler", "required", "warmup",
]
