"""Parameter: the Tensor a Module registers as learnable (its own file, so that serialization
can rebuild parameters without importing Module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as learnable: ``requires_grad=True``, floating point.

    ``Parameter(array)`` uses a NumPy array as it is (no copy, like ``torch.from_numpy``);
    non-float data (ints, lists of ints) is converted to float32.
    """

    #: ``(view, n)``: the flat optimiser buffer's gradient view for this parameter (and the
    #: number of views of that buffer), where backward may write the gradient directly
    #: (see ``steepest.optim._flat`` and ``landing``); unset until an optimiser plans it
    __slots__ = ("_gdest",)

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, dtype=dtype)
        if self.data.dtype.kind != "f":
            self.data = self.data.astype(np.float32)
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
