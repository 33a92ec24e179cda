"""The device seam: torch-like device objects, the array-module lookup, explicit transfers,
and the CPU stand-in that refuses implicit host/device conversion as CuPy does."""

import numpy as np
import pytest
import torch

from steepest import backend
from tests import standin


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0", "cuda:3", " CUDA:1 "])
def test_device_parses_like_torch(spec):
    d, t = backend.device(spec), torch.device(spec.strip().lower())
    assert (d.type, d.index) == (t.type, t.index)
    assert str(d) == str(t)
    assert d == str(t) and d == backend.device(d)
    assert hash(d) == hash(backend.device(str(t)))


def test_device_with_separate_index():
    assert backend.device("cuda", 2) == "cuda:2"
    assert repr(backend.device("cuda", 2)) == repr(torch.device("cuda", 2))


@pytest.mark.parametrize("spec, err", [("tpu", RuntimeError), ("cuda:x", ValueError),
                                        ("cpu:1", ValueError), (3, TypeError)])
def test_device_refuses_bad_specs(spec, err):
    with pytest.raises(err, match="device"):
        backend.device(spec)


def test_array_module_and_device_of():
    a = np.ones(3)
    assert backend.array_module(a) is np and backend.device_of(a) == "cpu"
    with standin.installed() as cp:
        d = cp.asarray(a)
        assert backend.array_module(d) is cp
        assert backend.device_of(d) == "cuda:0"
        assert backend.array_module(a) is np


def test_to_device_round_trip_is_explicit():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    with standin.installed():
        d = backend.to_device(a, "cuda")
        assert backend.device_of(d) == "cuda:0"
        with pytest.raises(TypeError, match="implicit conversion"):
            np.asarray(d)
        back = backend.to_device(d, "cpu")
        assert type(back) is np.ndarray and back.dtype == np.float32
        np.testing.assert_array_equal(back, a)
        assert backend.to_device(a, "cpu") is a
        with pytest.raises(RuntimeError, match="does not exist"):
            backend.to_device(a, "cuda:5")


def test_check_same_device_names_op_and_devices():
    with standin.installed() as cp:
        with pytest.raises(RuntimeError, match=r"matmul: .* cpu and cuda:0"):
            backend.check_same_device("matmul", np.ones(2), cp.ones(2))
        backend.check_same_device("add", cp.ones(2), cp.ones(3), 2.0)


def test_standin_refuses_host_operands_and_keeps_results_on_device():
    cp = standin
    d = cp.asarray(np.arange(4.0))
    for res in (d + 1, np.exp(d), d.sum(), np.concatenate([d, d]), d[d > 1], d.reshape(2, 2).T):
        assert isinstance(res, cp.ndarray)
    with pytest.raises(TypeError):
        d + np.ones(4)
    with pytest.raises(TypeError):
        np.stack([d, np.ones(4)])
    out = cp.zeros(4)
    np.multiply(d, 2.0, out=out)
    np.testing.assert_array_equal(out.get(), [0.0, 2.0, 4.0, 6.0])


def test_missing_cupy_is_one_clear_line(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_cupy(name, *a, **k):
        if name == "cupy":
            raise ImportError("no cupy")
        return real(name, *a, **k)

    old = backend.set_cuda_module(None)
    monkeypatch.setattr(builtins, "__import__", no_cupy)
    try:
        with pytest.raises(RuntimeError, match=r'pip install "steepest\[gpu\]"'):
            backend.get_cuda_module()
        assert backend.cuda_available() is False
    finally:
        backend.set_cuda_module(old)


def test_cuda_namespace_follows_the_module():
    from steepest import cuda

    old = backend.set_cuda_module(None)
    try:
        if not backend.cuda_available():
            assert cuda.is_available() is False and cuda.device_count() == 0
            with pytest.raises(RuntimeError, match="CUDA"):
                cuda.synchronize()
    finally:
        backend.set_cuda_module(old)
    with standin.installed():
        assert cuda.is_available() and cuda.device_count() == 1
        cuda.synchronize("cuda:0")
