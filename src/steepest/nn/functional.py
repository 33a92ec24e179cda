"""``steepest.nn.functional`` is :mod:`steepest.functional` (for PyTorch habits)."""

from ..functional import *  # noqa: F403
from ..functional import __all__  # noqa: F401
