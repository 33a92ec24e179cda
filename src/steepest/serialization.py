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
import stat
import zipfile
from collections import OrderedDict
from typing import Any
from zlib import error as zlib_error

import numpy as np

from . import backend
from . import safetensors_io as _safetensors
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


def save(obj: Any, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of arrays, Tensors and plain values) to
    ``path`` atomically, in the safe ``.npz`` format described in this module.

    The path is used exactly as given (no suffix is added). A ``.safetensors`` path writes
    a flat state dict in that format instead, with ``metadata`` in its header.
    """
    path = os.fspath(path)
    if _safetensors.is_safetensors_path(path):
        return _safetensors.save_file(obj, path, metadata)
    if metadata is not None:
        raise ValueError(f"save: metadata= is stored by .safetensors files only, not {path!r}")
    w = _Writer()
    root = w.encode(obj, "obj")
    manifest = json.dumps({"format": _FORMAT, "version": _VERSION, "root": root})
    arrays = dict(w.arrays)
    arrays[_MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


#: the deepest nesting of dicts/lists a manifest may have (real files need fewer than 10)
MAX_DEPTH = 64
#: the most digits an int in a manifest may have (128-bit RNG states need 39)
MAX_INT_DIGITS = 100
#: the most members an archive may have
MAX_MEMBERS = 100_000
#: the largest manifest, in bytes
MAX_MANIFEST_BYTES = 64 << 20
#: default cap on the total expanded size: ``max(MIN_LIMIT, RATIO * file size)`` up to
#: ``HARD_LIMIT``; ``STEEPEST_MAX_LOAD_BYTES`` or ``load(..., max_bytes=)`` replace it
MIN_LIMIT = 256 << 20
RATIO = 50
HARD_LIMIT = 16 << 30


def _limit(path: str, file_size: int, max_bytes: int | None) -> int:
    if max_bytes is not None:
        return int(max_bytes)
    env = os.environ.get("STEEPEST_MAX_LOAD_BYTES", "").strip()
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ValueError(f"load: STEEPEST_MAX_LOAD_BYTES={env!r} is not a number of "
                             f"bytes") from None
    return min(max(MIN_LIMIT, RATIO * file_size), HARD_LIMIT)


def _too_big(path: str, size: int, limit: int) -> ValueError:
    return ValueError(f"load: {path!r} would expand to {size:,} bytes, over the limit of "
                      f"{limit:,}; if the file is trusted, raise the limit with "
                      f"load(..., max_bytes=N) or STEEPEST_MAX_LOAD_BYTES=N")


class _Reader:
    """Turns a manifest into objects, iteratively checked: types, depth and int sizes."""

    def __init__(self, arrays: dict[str, np.ndarray], path: str) -> None:
        self.arrays, self.path = arrays, path

    def bad(self, why: str) -> ValueError:
        return ValueError(f"load: {self.path!r} is corrupted: {why}")

    def ref(self, node: dict) -> np.ndarray:
        ref = node.get("ref")
        if not isinstance(ref, str) or ref not in self.arrays:
            raise self.bad(f"the manifest refers to a missing array {ref!r}")
        return self.arrays[ref]

    def items(self, node: dict, t: str) -> list:
        items = node.get("items")
        if not isinstance(items, list):
            raise self.bad(f"a {t} entry has no list of items")
        return items

    def leaf(self, node: Any) -> Any:
        """Decode a node that holds no other nodes; containers are handled by decode."""
        t = node["t"]
        if t == "str":
            v = node.get("v")
            if not isinstance(v, str):
                raise self.bad(f"a str entry holds {type(v).__name__}")
            return v
        if t == "int":
            v = node.get("v")
            if not isinstance(v, str) or not 0 < len(v.lstrip("-")) <= MAX_INT_DIGITS \
                    or not v.lstrip("-").isdigit() or not v.isascii():
                raise self.bad(f"bad int entry {str(v)[:40]!r} (a string of at most "
                               f"{MAX_INT_DIGITS} digits is expected)")
            return int(v)
        if t == "float":
            v = node.get("v")
            try:
                return float.fromhex(v)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                raise self.bad(f"bad float entry {str(v)[:40]!r}") from None
        if t == "array":
            return self.ref(node)
        if t == "npscalar":
            a = self.ref(node)
            if a.ndim != 0:
                raise self.bad(f"a NumPy scalar entry refers to an array of shape {a.shape}")
            return a[()]
        if t in ("tensor", "param"):
            a = self.ref(node)
            rg = node.get("requires_grad", t == "param")
            if not isinstance(rg, bool):
                raise self.bad(f"requires_grad must be true or false, got {rg!r}")
            if rg and a.dtype.kind not in "fc":
                raise self.bad(f"a tensor that requires grad has dtype {a.dtype}")
            if t == "param":
                return Parameter(a, requires_grad=rg)
            return Tensor(a, requires_grad=rg)
        raise self.bad(f"unknown entry type {str(t)[:40]!r}")

    def key(self, k: Any) -> Any:
        if isinstance(k, str):
            return k
        if isinstance(k, dict) and set(k) == {"i"}:
            return self.leaf({"t": "int", "v": k["i"]})
        raise self.bad(f"bad dict key {str(k)[:40]!r}")

    def decode(self, root: Any) -> Any:
        """Iterative, so that a deeply nested manifest cannot exhaust the stack."""
        out: list[Any] = [None]
        # each task: (node, container, slot, depth)
        stack: list[tuple[Any, Any, Any, int]] = [(root, out, 0, 0)]
        tuples: list[tuple[list, Any, Any]] = []  # lists to turn into tuples, innermost last
        while stack:
            node, parent, slot, depth = stack.pop()
            if node is None or isinstance(node, bool):
                parent[slot] = node
                continue
            if not isinstance(node, dict) or not isinstance(node.get("t"), str):
                raise self.bad(f"bad manifest entry {str(node)[:60]!r}")
            t = node["t"]
            if t in ("dict", "odict", "list", "tuple"):
                if depth >= MAX_DEPTH:
                    raise self.bad(f"the structure is nested more than {MAX_DEPTH} deep")
                items = self.items(node, t)
                if t in ("list", "tuple"):
                    container: Any = [None] * len(items)
                    parent[slot] = container
                    if t == "tuple":
                        tuples.append((container, parent, slot))
                    for i in range(len(items) - 1, -1, -1):
                        stack.append((items[i], container, i, depth + 1))
                else:
                    container = OrderedDict() if t == "odict" else {}
                    parent[slot] = container
                    pending = []
                    for item in items:
                        if not isinstance(item, list) or len(item) != 2:
                            raise self.bad(f"a dict item is not a [key, value] pair: "
                                           f"{str(item)[:60]!r}")
                        k = self.key(item[0])
                        container[k] = None  # keep the file's order
                        pending.append((item[1], container, k, depth + 1))
                    stack.extend(reversed(pending))
                continue
            parent[slot] = self.leaf(node)
        for container, parent, slot in reversed(tuples):
            parent[slot] = tuple(container)
        return out[0]


def _refuse_pickle(path: str) -> ValueError:
    return ValueError(f"load: {path!r} is a pickle file; steepest.load refuses pickles "
                      f"because unpickling can run arbitrary code. Re-save the data with "
                      f"steepest.save (or numpy.savez) from a trusted environment")


def _read_header(f: Any, path: str) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """The declared (shape, dtype, fortran_order, data bytes) of a .npy stream."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # an untrusted header: whatever fails in parsing it is damage
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise _refuse_pickle(path) from None
        raise ValueError(f"load: {path!r} is truncated or corrupted ({str(exc)[:200]})") \
            from None
    if dtype.hasobject:
        raise _refuse_pickle(path)
    if dtype.itemsize == 0 or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError(f"load: {path!r} is corrupted (an array declares dtype {dtype} and "
                         f"shape {str(shape)[:60]})")
    count = 1
    for s in shape:
        count *= int(s)
    return shape, dtype, fortran, count * dtype.itemsize


def _read_npy(f: Any, path: str, available: int, budget: list[int]) -> np.ndarray:
    """One .npy array from a binary stream holding ``available`` bytes, never unpickling;
    the declared shape is checked against what is there (and the budget) before
    anything is allocated."""
    start = f.tell() if hasattr(f, "tell") else 0
    shape, dtype, fortran, nbytes = _read_header(f, path)
    header = (f.tell() if hasattr(f, "tell") else 0) - start
    if nbytes != available - header:
        raise ValueError(f"load: {path!r} is truncated or corrupted (an array declares shape "
                         f"{shape} of {dtype}, {nbytes:,} bytes, but {available - header:,} "
                         f"bytes are stored)")
    if nbytes > budget[0]:
        raise _too_big(path, budget[1] - budget[0] + nbytes, budget[1])
    budget[0] -= nbytes
    data = f.read(nbytes)
    if len(data) != nbytes:
        raise ValueError(f"load: {path!r} is truncated or corrupted (array data ends early)")
    arr = np.frombuffer(data, dtype=dtype).copy() if nbytes else np.empty(0, dtype=dtype)
    order = "F" if fortran else "C"
    return arr.reshape(shape, order=order)


def _read_npz(f: Any, path: str, budget: list[int]) -> dict[str, np.ndarray]:
    """Every array of a .npz archive, streamed member by member (CRCs are checked)."""
    try:
        zf = zipfile.ZipFile(f)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    with zf:
        names = [i.filename for i in infos]
        if any(n.endswith(".pkl") for n in names):  # e.g. a torch.save archive
            raise _refuse_pickle(path)
        bad = [n for n in names if not n.endswith(".npy")]
        if bad:
            raise ValueError(f"load: {path!r} is a zip archive but not a steepest/NumPy one "
                             f"(unexpected members {bad[:5]})")
        if len(infos) > MAX_MEMBERS:
            raise ValueError(f"load: {path!r} has {len(infos):,} members (at most "
                             f"{MAX_MEMBERS:,} are read)")
        total = sum(i.file_size for i in infos)
        if total > budget[0] + 128 * len(infos) + MAX_MANIFEST_BYTES:
            raise _too_big(path, total, budget[1])
        arrays: dict[str, np.ndarray] = {}
        for info in infos:
            n = info.filename
            try:
                with zf.open(info) as member:
                    arrays[n[:-4]] = _read_npy(member, path, info.file_size, budget)
                    member.read()  # reach the end of the member: verifies its CRC
            except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError,
                    NotImplementedError, zlib_error) as exc:
                raise ValueError(f"load: {path!r} is truncated or corrupted ({exc})") from None
    return arrays


def _open_regular(path: str) -> Any:
    """Open ``path`` for reading, refusing FIFOs, devices and folders without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        fd = None
    st = os.fstat(fd) if fd is not None else None
    if st is None or stat.S_ISDIR(st.st_mode):
        if fd is not None:
            os.close(fd)
        raise ValueError(f"load: {path!r} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ValueError(f"load: {path!r} is not a regular file (a FIFO, socket or device); "
                         f"refused")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), st.st_size


def load(path: str | os.PathLike, max_bytes: int | None = None, map_location: Any = None
         ) -> Any:
    """Read an object written by :func:`save` (or a plain ``numpy.savez`` archive, returned
    as a dict of arrays). Never unpickles. Arrays and Tensors come back on the host, or on
    ``map_location`` (``"cuda"``, a ``steepest.device``) when given, as ``torch.load``.

    Nothing in the file is trusted: only regular files are opened; each array's declared
    shape is checked against the bytes stored before it is allocated; the total size is
    capped (``max_bytes``; default ``max(256 MiB, 50 × the file size)`` up to 16 GiB, or
    ``$STEEPEST_MAX_LOAD_BYTES``); the manifest's types, nesting and int sizes are checked.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is a pickle (refused), is truncated or corrupted, is too large, is not
        a regular file, or is not an archive of NumPy arrays; the message names the file.
    """
    obj = _load(os.fspath(path), max_bytes)
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


def _load(path: str, max_bytes: int | None) -> Any:
    path = os.fspath(path)
    f, size = _open_regular(path)
    if _safetensors.is_safetensors_path(path):  # a regular file: now let safetensors read it
        f.close()
        return _safetensors.load_file(path)
    limit = _limit(path, size, max_bytes)
    budget = [limit, limit]  # remaining, total
    with f:
        head = f.read(8)
        if not head:
            raise ValueError(f"load: {path!r} is empty (truncated or not written completely)")
        if head[:1] in _PICKLE_MAGIC:
            raise _refuse_pickle(path)
        f.seek(0)
        if head[:6] == b"\x93NUMPY":  # a single .npy array
            return _read_npy(f, path, size, budget)
        if head[:2] != b"PK":
            raise ValueError(f"load: {path!r} is not a steepest/NumPy archive (unrecognised "
                             f"header {head!r})")
        arrays = _read_npz(f, path, budget)
    man = arrays.pop(_MANIFEST, None)
    if man is None:
        return arrays  # a plain numpy.savez archive
    if man.dtype != np.uint8 or man.ndim != 1 or man.size > MAX_MANIFEST_BYTES:
        raise ValueError(f"load: {path!r} is corrupted: the manifest is not a byte string "
                         f"of at most {MAX_MANIFEST_BYTES:,} bytes")
    try:
        meta = json.loads(man.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise ValueError(f"load: {path!r} is corrupted: unreadable manifest ({why})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "root" not in meta:
        raise ValueError(f"load: {path!r} is corrupted: bad manifest header")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"load: {path!r} is corrupted: the format version is "
                         f"{str(version)[:40]!r}, not an integer")
    if version > _VERSION:
        raise ValueError(f"load: {path!r} was written by a newer steepest (format version "
                         f"{version}); upgrade steepest to read it")
    return _Reader(arrays, path).decode(meta["root"])
