"""Save and load nested structures of arrays safely: ``steepest.save`` / ``steepest.load``.

Format: a NumPy ``.npz`` (zip) archive. Every array is one member (``a0.npy``,
``a1.npy``, ...); the member ``__steepest__.npy`` holds a JSON manifest (as uint8 bytes)
describing the structure: dicts (str or int keys, order kept), lists, tuples, arrays,
Tensors, NumPy scalars and Python int/float/bool/str/None. Loading uses
``allow_pickle=False`` throughout and never unpickles anything: a pickle (or a
``torch.save`` file, which contains one) is refused, because loading a pickle can run
arbitrary code.

Writes are atomic: the archive goes to a temporary file in the target directory, is
flushed and fsynced, then renamed over the target (``os.replace``), so a crash never
leaves a half-written checkpoint under the real name.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from . import backend
from .atomic import atomic_open
from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["load", "save"]

_MANIFEST = "__steepest__"
_FORMAT = "steepest"
_VERSION = 1
_PICKLE_MAGIC = (b"\x80",)  # protocol 2+ pickles start with PROTO (0x80)


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def add(self, a: np.ndarray, where: str) -> str:
        if backend.is_device_array(a):
            a = backend.to_device(a, "cpu")  # files hold host arrays; load picks the device
        if a.dtype.kind == "O" or a.dtype.hasobject:
            raise TypeError(f"save: {where} is an object array, which can only be stored by "
                            f"pickling; convert it to a numeric or string dtype")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return key

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj if not isinstance(obj, str) else {"t": "str", "v": obj}
        if isinstance(obj, int):
            return {"t": "int", "v": str(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": obj.hex()}
        if isinstance(obj, Tensor):
            kind = "param" if isinstance(obj, Parameter) else "tensor"
            return {"t": kind, "ref": self.add(obj.data, where),
                    "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray) or backend.is_device_array(obj):
            return {"t": "array", "ref": self.add(obj, where)}
        if isinstance(obj, np.generic):
            return {"t": "npscalar", "ref": self.add(np.asarray(obj), where)}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TypeError(f"save: dict keys must be str or int, got "
                                    f"{type(k).__name__} key {k!r} in {where}")
                kk = k if isinstance(k, str) else {"i": str(k)}
                items.append([kk, self.encode(v, f"{where}[{k!r}]")])
            return {"t": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            return {"t": "list" if isinstance(obj, list) else "tuple",
                    "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if callable(getattr(obj, "state_dict", None)):  # a Module, an optimiser: code
            raise TypeError(f"save: {where} is a {type(obj).__name__}; save its state_dict() "
                            f"instead (steepest.save(model.state_dict(), path)): modules are code, "
                            f"and storing code would need pickle")
        raise TypeError(f"save: cannot store {type(obj).__name__} at {where}; supported: "
                        f"dict, list, tuple, NumPy arrays and scalars, Tensors, int, float, "
                        f"bool, str, None")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of arrays, Tensors and plain values) to
    ``path`` atomically, in the safe ``.npz`` format described in this module.

    The path is used exactly as given (no suffix is added).
    """
    path = os.fspath(path)
    w = _Writer()
    root = w.encode(obj, "obj")
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    arrays = dict(w.arrays)
    arrays[_MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


class _Reader:
    def __init__(self, arrays: dict[str, np.ndarray], path: str) -> None:
        self.arrays, self.path = arrays, path

    def ref(self, node: dict) -> np.ndarray:
        try:
            return self.arrays[node["ref"]]
        except KeyError:
            raise ValueError(f"load: {self.path!r} is corrupted: the manifest refers to a "
                             f"missing array {node.get('ref')!r}") from None

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, bool):
            return node
        if not isinstance(node, dict) or "t" not in node:
            raise ValueError(f"load: {self.path!r} is corrupted: bad manifest entry {node!r}")
        t = node["t"]
        if t == "str":
            return node["v"]
        if t == "int":
            return int(node["v"])
        if t == "float":
            return float.fromhex(node["v"])
        if t == "array":
            return self.ref(node)
        if t == "npscalar":
            return self.ref(node)[()]
        if t in ("tensor", "param"):
            a = self.ref(node)
            if t == "param":
                return Parameter(a, requires_grad=node.get("requires_grad", True))
            return Tensor(a, requires_grad=bool(node.get("requires_grad", False)))
        if t in ("dict", "odict"):
            out = OrderedDict() if t == "odict" else {}
            for k, v in node["items"]:
                out[int(k["i"]) if isinstance(k, dict) else k] = self.decode(v)
            return out
        if t == "list":
            return [self.decode(v) for v in node["items"]]
        if t == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        raise ValueError(f"load: {self.path!r} is corrupted: unknown entry type {t!r}")


def _refuse_pickle(path: str) -> ValueError:
    return ValueError(f"load: {path!r} is a pickle file; steepest.load refuses pickles "
                      f"because unpickling can run arbitrary code. Re-save the data with "
                      f"steepest.save (or numpy.savez) from a trusted environment")


def _read_npy(f: Any, path: str) -> np.ndarray:
    """One .npy array from an open binary stream, never unpickling."""
    try:
        arr = np.lib.format.read_array(f, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise _refuse_pickle(path) from None
        raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    return arr


def _read_npz(f: Any, path: str) -> dict[str, np.ndarray]:
    """Every array of a .npz archive, streamed member by member (CRCs are checked)."""
    try:
        zf = zipfile.ZipFile(f)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    with zf:
        if any(n.endswith(".pkl") for n in names):  # e.g. a torch.save archive
            raise _refuse_pickle(path)
        bad = [n for n in names if not n.endswith(".npy")]
        if bad:
            raise ValueError(f"load: {path!r} is a zip archive but not a steepest/NumPy one "
                             f"(unexpected members {bad[:5]})")
        arrays: dict[str, np.ndarray] = {}
        for n in names:
            try:
                with zf.open(n) as member:
                    arrays[n[:-4]] = _read_npy(member, path)
                    member.read()  # reach the end of the member: verifies its CRC
            except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError) as exc:
                raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    return arrays


def load(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Read an object written by :func:`save` (or a plain ``numpy.savez`` archive, returned
    as a dict of arrays). Never unpickles. Arrays and Tensors come back on the host, or on
    ``map_location`` (``"cuda"``, a ``steepest.device``) when given, as ``torch.load``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is a pickle (refused), is truncated or corrupted, or is not an archive
        of NumPy arrays; the message names the file.
    """
    obj = _load(os.fspath(path))
    return obj if map_location is None else _to_device(obj, backend.device(map_location))


def _to_device(obj: Any, dev: Any) -> Any:
    if isinstance(obj, Tensor):
        kind = Parameter if isinstance(obj, Parameter) else Tensor
        t = kind(backend.to_device(obj.data, dev))
        t.requires_grad = obj.requires_grad
        return t
    if isinstance(obj, np.ndarray) or backend.is_device_array(obj):
        return backend.to_device(obj, dev)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, dev)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, dev) for v in obj)
    return obj


def _load(path: str) -> Any:
    with open(path, "rb") as f:
        head = f.read(8)
        if not head:
            raise ValueError(f"load: {path!r} is empty (truncated or not written completely)")
        if head[:1] in _PICKLE_MAGIC:
            raise _refuse_pickle(path)
        f.seek(0)
        if head[:6] == b"\x93NUMPY":  # a single .npy array
            return _read_npy(f, path)
        if head[:2] != b"PK":
            raise ValueError(f"load: {path!r} is not a steepest/NumPy archive (unrecognised "
                             f"header {head!r})")
        arrays = _read_npz(f, path)
    man = arrays.pop(_MANIFEST, None)
    if man is None:
        return arrays  # a plain numpy.savez archive
    try:
        meta = json.loads(man.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"load: {path!r} is corrupted: unreadable manifest ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"load: {path!r} is corrupted: bad manifest header")
    if meta.get("version", 0) > _VERSION:
        raise ValueError(f"load: {path!r} was written by a newer steepest (format version "
                         f"{meta.get('version')}); upgrade steepest to read it")
    try:
        return _Reader(arrays, path).decode(meta["root"])
    except (KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"load: {path!r} is corrupted: bad manifest ({exc})") from None
