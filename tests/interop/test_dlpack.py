"""DLPack exchange with torch and NumPy shares memory (no copies)."""

import numpy as np
import pytest

import steepest as st

torch = pytest.importorskip("torch")


def test_torch_reads_steepest_tensor_without_copy():
    t = st.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    tt = torch.from_dlpack(t)
    assert tt.shape == (2, 3) and tt.dtype == torch.float32
    tt[0, 0] = 42.0
    assert t.data[0, 0] == 42.0
    assert tt.data_ptr() == t.data.ctypes.data


def test_steepest_reads_torch_and_numpy_without_copy():
    a = torch.arange(5, dtype=torch.float64)
    s = st.from_dlpack(a)
    assert s.dtype == np.float64 and s.data.ctypes.data == a.data_ptr()
    s.data[1] = -1.0
    assert a[1].item() == -1.0
    n = np.arange(4, dtype=np.float32)
    s2 = st.from_dlpack(n, requires_grad=True)
    assert np.shares_memory(s2.data, n) and s2.requires_grad
    assert np.shares_memory(np.from_dlpack(s2), n)
    assert st.tensor([1.0]).__dlpack_device__() == (1, 0)


def test_from_dlpack_errors():
    with pytest.raises(TypeError, match="DLPack"):
        st.from_dlpack([1.0, 2.0])
    with pytest.raises(ValueError, match="detach|share"):
        st.from_dlpack(torch.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="floating"):
        st.from_dlpack(np.arange(3), requires_grad=True)

    class OnGPU:
        def __dlpack__(self, **kw):
            raise AssertionError("must not be called")

        def __dlpack_device__(self):
            return (2, 0)

    with pytest.raises(ValueError, match="device"):
        st.from_dlpack(OnGPU())
