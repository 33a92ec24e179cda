"""In-place operators and methods, version counters and rebasing, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import steepest as st
from tests.oracle import check


def r(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- the tutorial update: same object, same buffer ------------------------------------------

@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**="])
def test_augmented_assignment_modifies_in_place(op):
    p = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tp = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    obj, buf = p, p.data
    ns = {"p": p, "tp": tp}
    with st.no_grad(), torch.no_grad():
        exec(f"p {op} 2.0\ntp {op} 2.0", ns)
    assert ns["p"] is obj and ns["p"].data is buf
    np.testing.assert_allclose(obj.data, tp.detach().numpy(), rtol=1e-6)
    assert obj._version == tp._version == 1


def test_sgd_update_by_hand_changes_the_parameter():
    w = st.tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    with st.no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [0.8, -1.6], rtol=1e-6)


def test_imatmul_and_setitem():
    a = st.tensor(np.eye(2, dtype=np.float32) * 2)
    obj = a
    a @= st.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert a is obj
    np.testing.assert_allclose(a.data, [[2, 4], [6, 8]])
    with pytest.raises(RuntimeError, match="@="):
        a @= st.tensor(np.ones((2, 3), np.float32))
    a[0, 1] = 7.0
    a[a.data > 5] = 0.0
    np.testing.assert_allclose(a.data, [[2, 0], [0, 0]])


@pytest.mark.parametrize("name,args", [
    ("add_", (2.0,)), ("sub_", (0.5,)), ("mul_", (3.0,)), ("div_", (4.0,)), ("zero_", ()),
    ("fill_", (1.5,)), ("clamp_", (-0.5, 0.5)), ("neg_", ()), ("pow_", (2.0,)), ("exp_", ()),
])
def test_inplace_methods_match_torch(name, args):
    x = np.abs(r(3, 4)) + 0.1
    a, t = st.tensor(x), torch.tensor(x)
    out = getattr(a, name)(*args)
    getattr(t, name)(*args)
    assert out is a
    np.testing.assert_allclose(a.data, t.numpy(), rtol=1e-12)
    b, u = st.tensor(x), torch.tensor(x)
    b.sqrt_()
    u.sqrt_()
    np.testing.assert_allclose(b.data, u.numpy(), rtol=1e-12)
    c, v = st.tensor(x), torch.tensor(x)
    c.copy_(st.tensor(x[0]))
    v.copy_(torch.tensor(x[0]))
    np.testing.assert_allclose(c.data, v.numpy())


def test_random_fills_are_seeded():
    st.manual_seed(3)
    a = st.tensor(np.zeros((1000,), np.float32)).normal_(2.0, 0.5)
    st.manual_seed(3)
    b = st.tensor(np.zeros((1000,), np.float32)).normal_(2.0, 0.5)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.dtype == np.float32 and abs(float(a.data.mean()) - 2.0) < 0.1
    u = st.tensor(np.zeros((1000,), np.float32)).uniform_(-1.0, 1.0)
    assert -1.0 <= u.data.min() and u.data.max() < 1.0


def test_requires_grad_():
    a = st.tensor([1.0]).requires_grad_()
    assert a.requires_grad and a.is_leaf


# -- safety ------------------------------------------------------------------------------

def test_leaf_requiring_grad_is_refused_outside_no_grad():
    w = st.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 3.0
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.zero_()
    with st.no_grad():
        w.zero_()
    assert w.requires_grad and w.is_leaf and float(w.data.sum()) == 0.0


@pytest.mark.parametrize("saved,op", [
    ("exp", lambda y: y.mul_(2.0)),       # exp saves its output
    ("sigmoid", lambda y: y.add_(1.0)),   # sigmoid saves its output
    ("mul_input", None),                  # mul saves its inputs
])
def test_modified_saved_tensor_raises_naming_the_op(saved, op):
    a = st.tensor([0.5, 1.5], requires_grad=True)
    ta = torch.tensor([0.5, 1.5], requires_grad=True)
    if saved == "mul_input":
        h, th = a * 1.0, ta * 1.0
        y, ty = h * h, th * th
        h.add_(1.0)
        th.add_(1.0)
        loss, tloss = y.sum(), ty.sum()
    else:
        y = getattr(a, saved)()
        ty = getattr(ta, saved)()
        loss, tloss = (y * 2).sum(), (ty * 2).sum()
        op(y)
        op(ty)
    with pytest.raises(RuntimeError, match="modified by an inplace"):
        tloss.backward()
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: .* was changed "
                                           r"by (mul_|add_)"):
        loss.backward()


def test_inplace_allowed_where_torch_allows_it():
    """add/sub/scalar-mul save nothing: changing their inputs afterwards is fine."""
    def f(lib, a):
        h = a * 1.0
        y = h + 2.0
        h.mul_(5.0)  # y's node does not read h
        return y * 3.0 + h
    check(lambda a: f(st, a), lambda a: f(torch, a), [r(3)])


def test_rebasing_onto_the_inplace_node_matches_torch():
    def f(a, w):
        x = a * 1.0
        x.mul_(w)
        x.mul_(w)
        x.add_(a, alpha=2.0)
        x.pow_(2.0)
        x.div_(w + 3.0)
        x.clamp_(-3.0, 3.0)
        x.sub_(1.0)
        return x
    check(f, f, [r(4, seed=1), r(4, seed=2)])
    assert st.tensor([1.0], requires_grad=True) is not None


def test_setitem_is_differentiable_in_target_and_value():
    def f(a, v):
        x = a * 2.0
        x[1:3] = v
        x[0] = v[0] * 3.0
        return x
    check(f, f, [r(4, 3), r(3)])


def test_copy_fill_and_zero_give_old_value_zero_grad():
    def f(a, b):
        x = a * 1.0
        y = a * 2.0
        x.copy_(b)
        y.fill_(2.0)
        return x + y
    check(f, f, [r(3), r(3, seed=5)])


def test_view_of_graph_tensor_refused_and_stale_view_detected():
    a = st.tensor(r(4), requires_grad=True)
    h = a * 1.0
    v = h[1:3]
    with pytest.raises(RuntimeError, match="view"):
        v.mul_(2.0)
    w = h[0:2]
    h.mul_(3.0)  # w now shows new values but its graph says h's old ones
    with pytest.raises(RuntimeError, match="in-place"):
        (w * 1.0).sum().backward()


def test_views_share_the_version_counter():
    x = st.tensor(np.zeros((2, 3), np.float32))
    v = x[0]
    t = x.reshape(6)
    v.add_(1.0)
    assert x._version == v._version == t._version == 1
    assert float(x.data.sum()) == 3.0
    d = x.detach()
    d.zero_()
    assert x._version == 2


def test_inplace_shape_and_dtype_checks():
    x = st.tensor(np.zeros(3, np.float32))
    with pytest.raises(RuntimeError, match=r"add_: an operand of shape \(2, 3\)"):
        x += st.tensor(np.ones((2, 3), np.float32))
    i = st.tensor([1, 2])
    with pytest.raises(RuntimeError, match="cannot be stored in this tensor of dtype int64"):
        i += 1.5
    with pytest.raises(RuntimeError, match="cannot be stored"):
        i /= 2
    i += 1
    assert i.tolist() == [2, 3]
    f = st.tensor([1.0, 2.0])
    f += st.Tensor(np.array([1.0, 2.0]))  # float64 operand is cast to float32 (torch)
    assert f.dtype == np.float32
    ro = st.broadcast_to(st.tensor([1.0]), (3,))
    with pytest.raises(RuntimeError, match="read-only"):
        ro.add_(1.0)


def test_tensor_copies_its_data_so_inplace_does_not_reach_the_caller():
    arr = np.zeros(3, np.float32)
    t = st.tensor(arr)
    t += 1.0
    assert arr.sum() == 0.0
    shared = st.Tensor(arr)  # the from_numpy form shares
    shared += 1.0
    assert arr.sum() == 3.0


def test_version_check_costs_nothing_without_inplace_ops():
    """Graphs built after the last in-place change never look at saved tensors."""
    from steepest import autograd
    a = st.tensor(r(3), requires_grad=True)
    y = (a.exp() * a).sum()
    assert y.creator._epoch == autograd._CLOCK[0]
    y.backward()
    check(lambda t: (t.exp() * t).sum(), lambda t: (t.exp() * t).sum(), [r(3)])


def test_inplace_graph_has_second_derivatives():
    def f(a, w):
        x = a * 1.0
        y = x * 2.0          # recorded before x changes: must see the old x
        x.mul_(w)
        x.add_(a, alpha=2.0)
        x.pow_(2.0)
        x[0] = w[1] * 3.0
        return x + y
    check(f, f, [r(4, seed=3), r(4, seed=4)], second_order=True)
