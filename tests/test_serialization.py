"""steepest.save / steepest.load: exact round trips, atomic writes, refusal of pickles,
clear errors for truncated or corrupted files."""

import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import steepest as st
from steepest import nn


def _equal(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _equal(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, st.Tensor):
        _equal(a.data, b.data)
        assert a.requires_grad == b.requires_grad
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "model": OrderedDict([("0.weight", rng.standard_normal((3, 2)).astype(np.float32)),
                              ("0.bias", np.zeros(3, np.float32))]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": np.ones((3, 2))},
                                1: {"step": 3, "exp_avg": np.arange(3.0)}},
                      "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0, 1],
                                        "nesterov": False, "foreach": None}]},
        "epoch": 7, "big": 2 ** 80, "neg": -5, "lr": 0.1, "third": 1 / 3, "nan": float("nan"),
        "inf": float("-inf"), "name": "run-1 ✓", "empty": [], "nested": [[1, (2.5, "x")], {}],
        "arrays": [np.array(3.5, np.float64), np.zeros((0, 4), np.int8),
                   np.array([True, False]), np.array([1 + 2j], np.complex128),
                   np.arange(12, dtype=np.float16).reshape(3, 4).T,  # non-contiguous
                   np.array(["a", "bcd"]), np.arange(5, dtype=np.uint64)],
        "np_scalars": [np.float32(1.5), np.int64(-3), np.bool_(True)],
        "tensor": st.Tensor(np.ones(2, np.float32), requires_grad=True),
        "param": nn.Parameter(np.full(2, 3.0)),
        "rng": st.get_rng_state(),
        -1: "int key",
    }
    path = tmp_path / "ckpt.npz"
    st.save(obj, path)
    back = st.load(path)
    _equal(obj, back)
    assert isinstance(back["param"], nn.Parameter)
    assert type(back["np_scalars"][0]) is np.float32
    assert isinstance(back["model"], OrderedDict)
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary files left


def test_model_state_dict_round_trip(tmp_path):
    st.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    model(st.Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)))
    st.save(model.state_dict(), tmp_path / "m.steepest")
    st.manual_seed(1)
    other = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    other.load_state_dict(st.load(tmp_path / "m.steepest"))
    _equal(model.state_dict(), other.state_dict())
    model.save(tmp_path / "m2")
    third = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    third.load(tmp_path / "m2")
    _equal(model.state_dict(), third.state_dict())


def test_pickle_files_are_refused(tmp_path):
    p = tmp_path / "evil.pkl"
    with open(p, "wb") as f:
        pickle.dump({"w": np.zeros(3)}, f)
    with pytest.raises(ValueError, match="pickle"):
        st.load(p)
    p2 = tmp_path / "obj.npy"
    np.save(p2, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        st.load(p2)
    p3 = tmp_path / "obj.npz"
    np.savez(p3, a=np.array([None, 1], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        st.load(p3)
    p4 = tmp_path / "torch.pt"
    torch.save({"w": torch.zeros(3)}, p4)
    with pytest.raises(ValueError, match="pickle"):
        st.load(p4)


def test_truncated_and_corrupted_files(tmp_path):
    path = tmp_path / "ckpt.npz"
    st.save({"w": np.arange(10000, dtype=np.float64), "step": 3}, path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.npz.*(truncated|corrupted)"):
        st.load(cut)
    flipped = bytearray(data)
    for i in range(2000, 2100):
        flipped[i] ^= 0xFF
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"bad\.npz.*corrupted"):
        st.load(bad)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        st.load(empty)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a steepest"):
        st.load(junk)
    with pytest.raises(FileNotFoundError):
        st.load(tmp_path / "missing.npz")


def test_corrupted_manifest(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, __steepest__=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(ValueError, match="manifest"):
        st.load(path)
    zpath = tmp_path / "z.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match="not a steepest/NumPy"):
        st.load(zpath)


def test_plain_npz_loads_as_dict(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.arange(3), b=np.ones((2, 2)))
    out = st.load(path)
    assert set(out) == {"a", "b"}
    np.testing.assert_array_equal(out["a"], np.arange(3))


def test_unsupported_objects_and_atomicity(tmp_path):
    path = tmp_path / "keep.npz"
    st.save({"v": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="state_dict"):
        st.save(nn.Linear(2, 2), path)
    with pytest.raises(TypeError, match="object array"):
        st.save({"x": np.array([None])}, path)
    with pytest.raises(TypeError, match="keys must be str or int"):
        st.save({(1, 2): 3}, path)
    with pytest.raises(TypeError, match="cannot store set"):
        st.save({"s": {1, 2}}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["keep.npz"]


def test_save_does_not_append_suffix(tmp_path):
    st.save([1, 2], tmp_path / "noext")
    assert os.listdir(tmp_path) == ["noext"]
    assert st.load(str(tmp_path / "noext")) == [1, 2]


def test_every_truncation_and_byte_flip_gives_valueerror_or_exact_data(tmp_path):
    obj = {"w": np.arange(64, dtype=np.float32).reshape(8, 8), "meta": {"step": 5, 1: [0.5]}}
    path = tmp_path / "c.npz"
    st.save(obj, path)
    data = path.read_bytes()
    probe = tmp_path / "probe.npz"
    for cut in range(0, len(data), max(1, len(data) // 60)):
        probe.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="probe.npz"):
            st.load(probe)
    rng = np.random.default_rng(0)
    for pos in rng.choice(len(data), size=80, replace=False):
        flipped = bytearray(data)
        flipped[pos] ^= 0x55
        probe.write_bytes(bytes(flipped))
        try:
            back = st.load(probe)
        except ValueError as exc:
            assert "probe.npz" in str(exc)
        else:  # flips in unchecked zip metadata (timestamps, ...) leave the data intact
            _equal(obj, back)


def test_single_npy_files(tmp_path):
    p = tmp_path / "a.npy"
    np.save(p, np.arange(6.0).reshape(2, 3))
    a = st.load(p)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3))
    a[0, 0] = 1.0  # loaded arrays are ordinary writeable arrays
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated or corrupted"):
        st.load(p)


# -- nothing read is trusted: resource limits and manifest checks ----------------------------
def _with_manifest(path, manifest: str, **arrays):
    np.savez(path, __steepest__=np.frombuffer(manifest.encode(), np.uint8), **arrays)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_folder_are_refused_without_hanging(tmp_path):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        st.load(fifo)  # used to block forever in open()
    with pytest.raises(ValueError, match="is a folder"):
        st.load(tmp_path)


def test_zip_bomb_is_refused_by_the_size_cap(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, x=np.zeros((64, 1024, 1024), np.uint8))  # 64 MiB of zeros
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ValueError, match="would expand to .* over the limit"):
        st.load(path, max_bytes=32 << 20)
    assert st.load(path, max_bytes=128 << 20)["x"].shape == (64, 1024, 1024)
    os.environ["STEEPEST_MAX_LOAD_BYTES"] = str(1 << 20)
    try:
        with pytest.raises(ValueError, match="STEEPEST_MAX_LOAD_BYTES"):
            st.load(path)
    finally:
        del os.environ["STEEPEST_MAX_LOAD_BYTES"]


def test_declared_shape_is_checked_before_allocating(tmp_path):
    path = tmp_path / "huge.npy"
    np.save(path, np.zeros(4, np.float32))
    raw = path.read_bytes().replace(b"(4,)", b"(18000000000000,)".ljust(4))
    # keep the header length: numpy pads the header with spaces to a multiple of 64
    head_end = raw.index(b"\n") + 1
    hdr = raw[:head_end].replace(b"(4,)", b"(18000000000000,)")
    hdr = hdr[:head_end - 1 - (len(hdr) - head_end)] + b"\n" if len(hdr) > head_end else hdr
    path.write_bytes(hdr + raw[head_end:])
    with pytest.raises(ValueError, match="declares shape") as e:  # not MemoryError
        st.load(path)
    assert str(path) in str(e.value)
    big = tmp_path / "huge.npz"
    with zipfile.ZipFile(big, "w") as zf:
        zf.writestr("x.npy", hdr + raw[head_end:])
    with pytest.raises(ValueError, match="declares shape"):
        st.load(big)


@pytest.mark.parametrize("manifest,why", [
    ('{"format": "steepest", "version": "1", "root": null}', "not an integer"),
    ('{"format": "steepest", "version": 1, "root": {"t": "int", "v": "ten"}}', "bad int"),
    ('{"format": "steepest", "version": 1, "root": {"t": "int", "v": "' + "9" * 5000 + '"}}',
     "bad int"),
    ('{"format": "steepest", "version": 1, "root": {"t": "float", "v": "0xZZ"}}', "bad float"),
    ('{"format": "steepest", "version": 1, "root": {"t": "dict", "items": [[1, 2, 3]]}}',
     "pair"),
    ('{"format": "steepest", "version": 1, "root": {"t": "dict", "items": [[5, null]]}}',
     "bad dict key"),
    ('{"format": "steepest", "version": 1, "root": {"t": "array", "ref": 3}}', "missing array"),
    ('{"format": "steepest", "version": 1, "root": {"t": 7}}', "bad manifest entry"),
    ('{"format": "steepest", "version": 1, "root": ' + '{"t": "list", "items": [' * 5000
     + "]}" * 5000 + "}", "nested"),
    ('{"format": "steepest", "version": 1, "root": ' + "[" * 5000 + "]" * 5000 + "}",
     "nested"),
], ids=["version-str", "int-word", "int-5000-digits", "float-hex", "dict-triple", "dict-key",
        "ref-type", "type-int", "nested-5000", "json-nested-5000"])
def test_bad_manifests_name_the_file_and_the_reason(tmp_path, manifest, why):
    path = tmp_path / "bad.npz"
    _with_manifest(path, manifest)
    with pytest.raises(ValueError, match=why) as e:
        st.load(path)
    assert str(path) in str(e.value)


def test_deep_but_legal_nesting_round_trips(tmp_path):
    obj: list = [1.5]
    for _ in range(50):
        obj = [obj, (2, "x")]
    st.save(obj, tmp_path / "deep.npz")
    _equal(st.load(tmp_path / "deep.npz"), obj)
