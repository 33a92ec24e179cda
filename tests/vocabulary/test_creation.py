"""Creation functions against torch: shapes, dtypes (float32 default), values, seeding."""

import numpy as np
import pytest
import torch  # noqa: F401 - used by eval

import steepest as st


def _same(ours, theirs):
    a, b = ours.numpy(), theirs.numpy()
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("call", [
    "zeros(2, 3)", "ones((2, 3))", "zeros(2, dtype={f64})", "full((2, 2), 1.5)",
    "full((2,), 7)", "full((2,), True)", "arange(5)", "arange(1, 2.5, 0.5)",
    "arange(0, 1, 0.1)", "arange(5, dtype={f64})", "linspace(0, 1, 7)",
    "logspace(-1, 2, 4)", "logspace(0, 3, 4, base=2)", "eye(3)", "eye(2, 4)",
    "empty(2, 0)",
])
def test_creation_matches_torch(call):
    ours = eval("st." + call.format(f64="st.float64"))
    theirs = eval("torch." + call.format(f64="torch.float64"))
    _same(ours, theirs)


def test_like_and_random():
    x = st.tensor(np.ones((2, 3), dtype=np.float64))
    for fn in (st.zeros_like, st.ones_like, st.empty_like, st.rand_like, st.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == np.float64
    assert st.full_like(x, 4).numpy().tolist() == [[4.0] * 3] * 2
    st.manual_seed(3)
    a = st.randn(4, 5)
    st.manual_seed(3)
    b = st.randn(4, 5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert a.dtype == np.float32 and st.rand(3).dtype == np.float32
    r = st.randint(2, 7, (100,))
    assert r.dtype == np.int64 and r.numpy().min() >= 2 and r.numpy().max() < 7
    assert st.randint(3, (4,)).shape == (4,)
    assert sorted(st.randperm(6).numpy().tolist()) == list(range(6))
    assert st.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="randn: dtype must be floating"):
        st.randn(2, dtype="int64")
    with pytest.raises(ValueError, match="size must be non-negative"):
        st.zeros(-1)


def test_from_numpy_as_tensor_cat_inference_mode():
    a = np.zeros(3, dtype=np.float32)
    t = st.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 5.0  # shares memory
    assert st.as_tensor(t) is t and st.as_tensor([1.0, 2.0]).dtype == np.float32
    assert st.is_tensor(t) and not st.is_tensor(a)
    c = st.cat([st.ones(2, 2), st.zeros(1, 2)], dim=0)
    assert c.shape == (3, 2)
    w = st.tensor([1.0], requires_grad=True)
    with st.inference_mode():
        assert not (w * 2).requires_grad
    with st.inference_mode(False):
        assert (w * 2).requires_grad

    @st.inference_mode()
    def f(x):
        return x * 2

    assert not f(w).requires_grad
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray"):
        st.from_numpy([1.0])
