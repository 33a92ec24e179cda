"""safetensors files: flat name -> array dicts that PyTorch, JAX and Hugging Face read.

``steepest.save(model.state_dict(), "m.safetensors")`` and ``steepest.load`` dispatch here
by the file extension. Since steepest's state-dict keys equal PyTorch's, such a file loads
into the same torch architecture with ``safetensors.torch.load_file`` + ``load_state_dict``
(and the reverse). The format holds only named arrays and a str -> str header: nothing in it
can run code, and the reader (the ``safetensors`` package) validates the header and offsets.
Full checkpoints (optimiser state, nested structures) stay in steepest's ``.npz`` format.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .atomic import atomic_write_bytes
from .tensor import Tensor

__all__ = ["SUFFIX", "is_safetensors_path", "load_file", "read_metadata", "save_file"]

SUFFIX = ".safetensors"


def is_safetensors_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a safetensors file (by its extension, case-insensitive)."""
    return os.fspath(path).lower().endswith(SUFFIX)


def _require() -> Any:
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError('safetensors files need the safetensors package: '
                          'pip install "steepest[interop]"') from None
    return stn


def _header(metadata: dict[str, Any] | None) -> dict[str, str]:
    """The str -> str header: ours (format, steepest version) plus the caller's entries
    (non-strings JSON-encoded, e.g. a config dict)."""
    from . import __version__

    head = {"format": "pt", "steepest_version": __version__}
    for k, v in (metadata or {}).items():
        if not isinstance(k, str):
            raise TypeError(f"save: safetensors metadata keys must be str, got {k!r}")
        head[k] = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return head


def save_file(state: Any, path: str | os.PathLike, metadata: dict[str, Any] | None = None
              ) -> None:
    """Write a flat dict of arrays/Tensors (a ``state_dict``) to ``path`` atomically.

    ``metadata`` goes into the header (read it back with :func:`read_metadata`).
    """
    path = os.fspath(path)
    stn = _require()
    if not hasattr(state, "items"):
        raise TypeError(f"save: a .safetensors file holds a flat dict of named arrays (a "
                        f"state_dict), got {type(state).__name__}; use a .npz path for other "
                        f"objects")
    arrays: dict[str, np.ndarray] = {}
    for k, v in state.items():
        if not isinstance(k, str):
            raise TypeError(f"save: safetensors keys must be str, got {type(k).__name__} "
                            f"key {k!r} for {path!r}")
        a = v.data if isinstance(v, Tensor) else v
        if not isinstance(a, (np.ndarray, np.generic)):
            raise TypeError(f"save: entry {k!r} is a {type(v).__name__}; a .safetensors file "
                            f"holds arrays only (save full checkpoints as .npz)")
        a = np.ascontiguousarray(a)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"save: entry {k!r} has dtype {a.dtype}, which safetensors "
                            f"cannot store")
        arrays[k] = a
    atomic_write_bytes(path, stn.save(arrays, metadata=_header(metadata)))


def _bad(path: str, exc: Exception) -> ValueError:
    return ValueError(f"load: {path!r} is not a valid safetensors file ({exc})")


def load_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a safetensors file, by name, in file order (NumPy arrays)."""
    path = os.fspath(path)
    stn = _require()
    from safetensors import SafetensorError

    with open(path, "rb") as f:
        data = f.read()
    try:
        return dict(stn.load(data))
    except (SafetensorError, ValueError, TypeError) as exc:
        raise _bad(path, exc) from None


def read_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str header of a safetensors file (``steepest_version``, ...)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"load: {path!r} is too short to be a safetensors file")
        n = int.from_bytes(head, "little")
        size = os.fstat(f.fileno()).st_size
        if n > size - 8 or n > 100_000_000:
            raise ValueError(f"load: {path!r} has a header length ({n}) beyond the file")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, exc) from None
    meta = header.get("__metadata__", {}) if isinstance(header, dict) else {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError(f"load: {path!r} has a malformed __metadata__ header")
    return dict(meta)
