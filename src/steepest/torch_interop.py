"""PyTorch weights in and out, without pickle: tensors, not ``torch.save`` files.

steepest's state-dict keys and layouts equal PyTorch's (``0.weight`` is (out, in), batch
norm keeps ``running_mean``/``running_var``/``num_batches_tracked``), so the same
architecture built in both libraries exchanges weights directly:
``model.load_torch_state_dict(torch_model.state_dict())`` and
``torch_model.load_state_dict(to_torch_state_dict(model))``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["from_torch_state_dict", "to_torch_state_dict"]


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError('PyTorch interop needs torch: pip install torch') from None
    return torch


def from_torch_state_dict(state: Any) -> OrderedDict[str, np.ndarray]:
    """NumPy copies of a torch ``state_dict``'s tensors (any device; detached).

    bfloat16 and other dtypes NumPy lacks raise, naming the entry.
    """
    torch = _torch()
    if not hasattr(state, "items"):
        raise TypeError(f"from_torch_state_dict: expected a dict of torch tensors, got "
                        f"{type(state).__name__}")
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for k, v in state.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"from_torch_state_dict: entry {k!r} is a {type(v).__name__}, "
                            f"not a torch.Tensor")
        if v.dtype in (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2):
            raise TypeError(f"from_torch_state_dict: entry {k!r} has dtype {v.dtype}, which "
                            f"NumPy cannot hold; convert it first (e.g. .float())")
        out[k] = v.detach().cpu().numpy().copy()
    return out


def to_torch_state_dict(model_or_state: Any) -> OrderedDict[str, Any]:
    """A torch ``state_dict`` (CPU tensors, copies) of a steepest Module or state dict."""
    torch = _torch()
    state = (model_or_state.state_dict() if hasattr(model_or_state, "state_dict")
             else model_or_state)
    return OrderedDict((k, torch.from_numpy(np.array(getattr(v, "data", v), copy=True)))
                       for k, v in state.items())
