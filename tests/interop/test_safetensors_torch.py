"""safetensors files and torch weights: read by torch's own readers, outputs compared."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from safetensors.torch import load_file as torch_load_file  # noqa: E402
from safetensors.torch import save_file as torch_save_file  # noqa: E402

import steepest as st  # noqa: E402
from steepest import nn  # noqa: E402
from steepest.safetensors_io import read_metadata  # noqa: E402
from steepest.torch_interop import to_torch_state_dict  # noqa: E402


def _pair():
    ours = nn.Sequential(nn.Linear(6, 10), nn.BatchNorm1d(10), nn.Tanh(), nn.Linear(10, 3))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 10), torch.nn.BatchNorm1d(10),
                                 torch.nn.Tanh(), torch.nn.Linear(10, 3))
    return ours, theirs


def _warm(model, x):
    model.train()
    model(st.tensor(x))  # moves the running statistics away from their initial values
    model.eval()


def test_steepest_file_loads_into_torch(tmp_path):
    ours, theirs = _pair()
    x = np.random.default_rng(0).standard_normal((9, 6)).astype(np.float32)
    _warm(ours, x * 3 + 1)
    path = tmp_path / "m.safetensors"
    st.save(ours.state_dict(), path, metadata={"config": {"hidden": [10]}})
    theirs.load_state_dict(torch_load_file(str(path)))
    theirs.eval()
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(st.tensor(x)).data, expected, rtol=1e-5, atol=1e-6)
    meta = read_metadata(path)
    assert meta["steepest_version"] == st.__version__ and meta["config"] == '{"hidden": [10]}'


def test_torch_file_loads_into_steepest(tmp_path):
    ours, theirs = _pair()
    theirs.train()
    theirs(torch.randn(16, 6) * 2)
    theirs.eval()
    path = tmp_path / "t.safetensors"
    torch_save_file(theirs.state_dict(), str(path))
    ours.load(path)  # Module.load dispatches on the extension
    ours.eval()
    x = np.random.default_rng(1).standard_normal((5, 6)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(st.tensor(x)).data, expected, rtol=1e-5, atol=1e-6)
    assert st.load(path)["1.num_batches_tracked"].dtype == np.int64


def test_load_torch_state_dict_and_back():
    ours, theirs = _pair()
    ours.load_torch_state_dict(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k], v.numpy())
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(2).standard_normal((4, 6)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(ours(st.tensor(x)).data, theirs(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5, atol=1e-6)
    fresh = _pair()[1]
    fresh.load_state_dict(to_torch_state_dict(ours))
    for a, b in zip(fresh.state_dict().values(), theirs.state_dict().values()):
        assert torch.equal(a, b)


def test_load_torch_state_dict_errors():
    ours, theirs = _pair()
    with pytest.raises(TypeError, match="bfloat16"):
        ours.load_torch_state_dict({k: v.to(torch.bfloat16) for k, v in
                                    theirs.state_dict().items()})
    with pytest.raises(nn.LoadStateDictError, match="missing"):
        ours.load_torch_state_dict({"0.weight": torch.zeros(10, 6)})


def test_safetensors_refuses_nested_and_bad_files(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        st.save([np.zeros(2)], tmp_path / "a.safetensors")
    with pytest.raises(TypeError, match="arrays only"):
        st.save({"a": {"b": np.zeros(2)}}, tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match="only"):
        st.save({"a": np.zeros(2)}, tmp_path / "a.npz", metadata={"x": "y"})
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="bad.safetensors"):
        st.load(bad)
    trunc = tmp_path / "trunc.safetensors"
    st.save({"w": np.arange(100, dtype=np.float32)}, trunc)
    trunc.write_bytes(trunc.read_bytes()[:-10])
    with pytest.raises(ValueError, match="trunc.safetensors"):
        st.load(trunc)
    with pytest.raises(FileNotFoundError):
        st.load(tmp_path / "missing.safetensors")


def test_npz_stays_default_for_checkpoints(tmp_path):
    st.save({"model": {"w": np.ones(2)}, "step": 3}, tmp_path / "c.npz")
    assert st.load(tmp_path / "c.npz")["step"] == 3
