"""The graph and the backward walk: ordering, sharing, depth, memory, modes, errors."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import steepest as st


def test_diamond_accumulates_before_propagating():
    x = st.tensor(np.array([1.5, -2.0]), requires_grad=True)
    a = x * 3.0
    b = a.exp()
    c = a * a
    y = (b + c).sum()
    y.backward()
    xt = torch.tensor([1.5, -2.0], requires_grad=True, dtype=torch.float64)
    at = xt * 3.0
    (at.exp() + at * at).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_each_node_runs_once():
    calls = []

    class Count(st.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, gy, y, x):
            calls.append(1)
            return gy

    x = st.tensor(np.ones(3), requires_grad=True)
    h = Count()(x)
    y = (h + h * 2.0 + h * h).sum()
    y.backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), 1 + 2 + 2 * np.ones(3))


def test_x_times_x_and_reused_weight():
    x = st.tensor(np.array([3.0]), requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.item() == 6.0
    w = st.tensor(np.random.default_rng(0).standard_normal((4, 4)), requires_grad=True)
    h = st.tensor(np.ones((1, 4)))
    for _ in range(3):
        h = (h @ w).clip(-2.0, 2.0)
    h.sum().backward()
    wt = torch.tensor(w.numpy(), requires_grad=True)
    ht = torch.ones(1, 4, dtype=torch.float64)
    for _ in range(3):
        ht = (ht @ wt).clamp(-2.0, 2.0)
    ht.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-12)


def test_deep_chain_of_10000_ops_has_no_recursion_limit():
    x = st.tensor(np.array([0.5]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_heavy_sharing_graph_matches_torch():
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal(5) * 0.1

    def build(x, lib):
        nodes = [x]
        for i in range(60):
            a = nodes[i // 2]
            b = nodes[(i * 7) % len(nodes)]
            nodes.append(lib.tanh(a * b + a) if lib is torch else (a * b + a).clip(-3, 3))
        return sum(n.sum() for n in nodes[-10:])

    x = st.tensor(x0, requires_grad=True)
    build(x, st).backward()
    xt = torch.tensor(x0, requires_grad=True)

    def build_t(x):
        nodes = [x]
        for i in range(60):
            a = nodes[i // 2]
            b = nodes[(i * 7) % len(nodes)]
            nodes.append((a * b + a).clamp(-3, 3))
        return sum(n.sum() for n in nodes[-10:])

    build_t(xt).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def test_grads_accumulate_across_backward_calls_like_torch():
    x = st.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a = st.tensor(np.ones(3), requires_grad=True)
    b = st.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 5  # in-place edits (as clipping does) must not leak into b.grad
    np.testing.assert_allclose(b.grad.numpy(), np.ones(3))


def test_backward_twice_through_freed_graph_raises():
    x = st.tensor(np.array([1.0]), requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = st.tensor(np.array([1.0]), requires_grad=True)
    y = (x.exp() * 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4 * np.e])


def test_non_scalar_backward_needs_grad():
    x = st.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"scalar output.*shape \(2, 3\)"):
        y.backward()
    y.backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones((2, 3)))
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2.0).backward(np.ones(3))


def test_no_grad_context_and_decorator():
    x = st.tensor(np.ones(2), requires_grad=True)
    with st.no_grad():
        y = x * 2
    assert not y.requires_grad and y.creator is None

    @st.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    assert (x * 2).requires_grad
    with st.no_grad():
        with st.enable_grad():
            assert (x * 2).requires_grad


def test_grad_does_not_touch_dot_grad_and_supports_intermediates():
    x = st.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3.0
    y = (h * h).sum()
    gx, gh = st.grad(y, [x, h])
    assert x.grad is None
    np.testing.assert_allclose(gx.numpy(), 18 * x.numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())
    z = st.tensor(np.ones(1), requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        st.grad((x * 2).sum(), [z])
    assert st.grad((x * 2).sum(), [z], allow_unused=True) == (None,)


def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(5)
    w0, v0 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    xdata = rng.standard_normal((4, 3))

    def loss(w, lib_x):
        return ((lib_x @ w).exp() * (lib_x @ w)).sum() / 4.0

    w = st.tensor(w0, requires_grad=True)
    (g,) = st.grad(loss(w, st.tensor(xdata)), w, create_graph=True)
    (hv,) = st.grad((g * v0).sum(), w)
    wt = torch.tensor(w0, requires_grad=True)
    (gt,) = torch.autograd.grad(loss(wt, torch.tensor(xdata)), wt, create_graph=True)
    (hvt,) = torch.autograd.grad((gt * torch.tensor(v0)).sum(), wt)
    np.testing.assert_allclose(hv.numpy(), hvt.numpy(), rtol=1e-10)


def test_third_derivative():
    x = st.tensor(np.array([0.7]), requires_grad=True)
    y = (x ** 4).sum()
    (g1,) = st.grad(y, x, create_graph=True)
    (g2,) = st.grad(g1.sum(), x, create_graph=True)
    (g3,) = st.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), [24 * 0.7], rtol=1e-12)


def test_backward_with_create_graph_fills_grad_with_graph():
    x = st.tensor(np.array([2.0]), requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = st.grad(x.grad.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [12.0])


def test_memory_stays_flat_over_2000_steps():
    rng = np.random.default_rng(0)
    w1 = st.tensor(rng.standard_normal((20, 32)).astype(np.float32) * 0.1, requires_grad=True)
    w2 = st.tensor(rng.standard_normal((32, 4)).astype(np.float32) * 0.1, requires_grad=True)
    x = st.tensor(rng.standard_normal((16, 20)).astype(np.float32))

    def step():
        h = (x @ w1).clip(0.0, None)
        loss = ((h @ w2) ** 2).mean()
        loss.backward()
        with st.no_grad():
            w1.data -= 0.01 * w1.grad.data
            w2.data -= 0.01 * w2.grad.data
        w1.grad = w2.grad = None

    for _ in range(50):
        step()
    gc.collect()
    tracemalloc.start()
    for _ in range(200):
        step()
    base, _ = tracemalloc.get_traced_memory()
    for _ in range(1800):
        step()
    now, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert now - base < 50_000, f"memory grew by {now - base} bytes"


def test_graph_is_freed_by_refcounting_when_output_dies():
    x = st.tensor(np.ones(3), requires_grad=True)
    y = (x * 2.0).exp()
    node = weakref.ref(y.creator)
    del y
    assert node() is None  # no reference cycles: freed without the cycle collector


def test_float32_by_default_and_kept():
    x = st.tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    y = (x * 2.5 + np.float64(1.0)) ** 2 / 3
    y = y.exp().mean()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixing_float32_and_float64_raises():
    a = st.tensor(np.ones(2, np.float32))
    b = st.tensor(np.ones(2, np.float64))
    with pytest.raises(TypeError, match=r"add: inputs mix dtypes \(float32, float64\)"):
        a + b
    with pytest.raises(TypeError, match="float64 array"):
        a * np.ones(2)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad.*int64"):
        st.tensor(np.arange(3), requires_grad=True)


def test_detect_anomaly_names_the_op():
    x = st.tensor(np.array([-1.0, 1.0]), requires_grad=True)
    with st.detect_anomaly():
        with pytest.raises(st.AnomalyError, match=r"log forward produced nan.*\(2,\)"):
            with np.errstate(invalid="ignore"):
                x.log()
        y = (x * 0.0).sqrt().sum()  # forward is finite; backward divides by zero
        with pytest.raises(st.AnomalyError, match="sqrt backward produced"):
            with np.errstate(divide="ignore", invalid="ignore"):
                y.backward()


def test_detach_numpy_item_and_repr():
    x = st.tensor([[1.0, 2.0]], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.numpy()
    assert (x.sum()).item() == 3.0
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=mul" in repr(x * 2)
    assert x.shape == (1, 2) and x.ndim == 2 and x.size == 2
