"""Every op against PyTorch: forward, gradients and second derivatives, float32 and float64."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as hst
from hypothesis.extra import numpy as hnp

import steepest as st
from tests.oracle import check

DTYPES = [np.float64, np.float32]


def r(*shape, dtype=np.float64, seed=0, positive=False, low=None):
    a = np.random.default_rng(seed + sum(shape) * 7 + len(shape)).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return a.astype(dtype)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
                 ((), (3,)), ((5,), ()), ((0, 3), (3,)), ((1,), (2, 1))]

BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "maximum": (st.maximum, torch.maximum),
    "minimum": (st.minimum, torch.minimum),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BINARY_SHAPES)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops(name, shapes, dtype):
    f_st, f_t = BINARY[name]
    pos = name in ("div", "pow")
    a = r(*shapes[0], dtype=dtype, seed=1, positive=pos)
    b = r(*shapes[1], dtype=dtype, seed=2, positive=pos)
    check(f_st, f_t, [a, b], second_order=dtype == np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_maximum_minimum_ties_split_the_gradient(dtype):
    a = np.array([1.0, 2.0, 3.0, 0.0], dtype)
    b = np.array([1.0, 1.0, 4.0, 0.0], dtype)
    check(st.maximum, torch.maximum, [a, b])
    check(st.minimum, torch.minimum, [a, b])


UNARY = {
    "neg": (lambda x: -x, lambda x: -x, False),
    "exp": (st.exp, torch.exp, False),
    "log": (st.log, torch.log, True),
    "sqrt": (st.sqrt, torch.sqrt, True),
    "abs": (st.abs, torch.abs, False),
    "square": (lambda x: x ** 2, lambda x: x ** 2, False),
    "cube": (lambda x: x ** 3, lambda x: x ** 3, False),
    "pow_half": (lambda x: x ** 0.5, lambda x: x ** 0.5, True),
    "pow_neg": (lambda x: x ** -1.5, lambda x: x ** -1.5, True),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, False),
    "clip": (lambda x: st.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), False),
    "clip_lo": (lambda x: x.clip(min=0.1), lambda x: x.clamp(min=0.1), False),
    "where": (lambda x: st.where(x > 0, x * 2, x * x),
              lambda x: torch.where(x > 0, x * 2, x * x), False),
    "rsub_div": (lambda x: (1.0 - x) / 3.0, lambda x: (1.0 - x) / 3.0, False),
    "rdiv": (lambda x: 2.0 / x, lambda x: 2.0 / x, True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (2, 0)])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops(name, shape, dtype):
    f_st, f_t, pos = UNARY[name]
    x = r(*shape, dtype=dtype, seed=3, positive=pos)
    check(f_st, f_t, [x], second_order=dtype == np.float64)


def test_abs_and_clip_edges_match_torch():
    x = np.array([-1.0, 0.0, 1.0, -0.5, 0.7, 2.0])
    check(st.abs, torch.abs, [x], second_order=True)
    check(lambda t: st.clip(t, -0.5, 0.7), lambda t: torch.clamp(t, -0.5, 0.7), [x])


REDUCTIONS = {
    "sum": (lambda x, ax, k: x.sum(ax, k),
            lambda x, ax, k: x.sum() if ax is None else x.sum(ax, keepdim=k)),
    "mean": (lambda x, ax, k: x.mean(ax, k),
             lambda x, ax, k: x.mean() if ax is None else x.mean(ax, keepdim=k)),
    "max": (lambda x, ax, k: x.amax(ax, k),
            lambda x, ax, k: x.amax() if ax is None else x.amax(ax, keepdim=k)),
    "min": (lambda x, ax, k: x.amin(ax, k),
            lambda x, ax, k: x.amin() if ax is None else x.amin(ax, keepdim=k)),
    "var": (lambda x, ax, k: x.var(ax, keepdim=k, correction=0),
            lambda x, ax, k: x.var(correction=0) if ax is None
            else x.var(ax, keepdim=k, correction=0)),
    "var1": (lambda x, ax, k: x.var(ax, keepdims=k),
             lambda x, ax, k: x.var() if ax is None else x.var(ax, keepdim=k)),
    "std": (lambda x, ax, k: x.std(ax, keepdim=k, ddof=0),
            lambda x, ax, k: x.std(correction=0) if ax is None
            else x.std(ax, keepdim=k, correction=0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), (-1, False),
                                           ((0, 2), False), ((0, 2), True)])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reductions(name, axis, keepdims, dtype):
    f_st, f_t = REDUCTIONS[name]
    x = r(3, 4, 5, dtype=dtype, seed=4)
    if (name.startswith("var") or name == "std") and axis is None and keepdims:
        pytest.skip("torch has no keepdim for full reduction")
    check(lambda t: f_st(t, axis, keepdims), lambda t: f_t(t, axis, keepdims), [x],
          second_order=dtype == np.float64)


def test_max_with_ties_shares_gradient_like_amax():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    check(lambda t: t.amax(axis=1), lambda t: t.amax(1), [x])
    check(lambda t: t.max(), lambda t: t.max(), [x])
    check(lambda t: t.amin(axis=0), lambda t: t.amin(0), [x])


def test_sum_over_empty_and_size_one_axes():
    check(lambda t: t.sum(axis=0), lambda t: t.sum(0), [r(0, 3)])
    check(lambda t: t.sum(axis=1, keepdims=True), lambda t: t.sum(1, keepdim=True), [r(4, 1)])
    with pytest.raises(IndexError, match="amax: reducing an empty dim"):
        st.tensor(np.zeros((0, 3))).amax(axis=0)


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
                 ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((4,), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((1, 4), (4, 1))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes, dtype):
    a = r(*shapes[0], dtype=dtype, seed=5)
    b = r(*shapes[1], dtype=dtype, seed=6)
    check(lambda x, y: x @ y, torch.matmul, [a, b], second_order=dtype == np.float64)


SHAPE_OPS = {
    "reshape": (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    "reshape_neg": (lambda x: x.reshape(-1, 3), lambda x: x.reshape(-1, 3)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda x: x.permute(2, 0, 1)),
    "transpose": (lambda x: x.transpose(0, 2), lambda x: x.transpose(0, 2)),
    "T": (lambda x: x.T, lambda x: x.permute(2, 1, 0)),
    "swapaxes": (lambda x: x.swapaxes(0, 2), lambda x: x.transpose(0, 2)),
    "broadcast_to": (lambda x: x[:, :1].broadcast_to((5, 2, 3, 4)),
                     lambda x: x[:, :1].expand(5, 2, 3, 4)),
    "getitem_basic": (lambda x: x[1:, ::2, -1], lambda x: x[1:, ::2, -1]),
    "getitem_int": (lambda x: x[0, 1], lambda x: x[0, 1]),
    "getitem_none_ellipsis": (lambda x: x[..., None, 1], lambda x: x[..., None, 1]),
    "getitem_array_repeated": (lambda x: x[np.array([0, 1, 1, 0])],
                               lambda x: x[torch.tensor([0, 1, 1, 0])]),
    "getitem_pairs": (lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 2])],
                      lambda x: x[torch.tensor([0, 1, 1]), torch.tensor([2, 0, 2])]),
    "getitem_mask": (lambda x: x[x.data > 0], lambda x: x[x > 0]),
    "flatten": (lambda x: x.flatten(1), lambda x: x.flatten(1)),
    "squeeze_unsqueeze": (lambda x: x.expand_dims(1).squeeze(1),
                          lambda x: x.unsqueeze(1).squeeze(1)),
    "concatenate": (lambda x: st.concatenate([x, x * 2, x[:, :1]], axis=1),
                    lambda x: torch.cat([x, x * 2, x[:, :1]], 1)),
    "stack": (lambda x: st.stack([x, x ** 2], axis=-1), lambda x: torch.stack([x, x ** 2], -1)),
    "split": (lambda x: st.concatenate(st.split(x, [1, 2, 1], dim=2)[::-1], axis=2),
              lambda x: torch.cat(torch.split(x, [1, 2, 1], 2)[::-1], 2)),
    "split_unused": (lambda x: st.split(x, 1, dim=0)[1] * 3,
                     lambda x: torch.split(x, 1, 0)[1] * 3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(SHAPE_OPS))
def test_shape_ops(name, dtype):
    f_st, f_t = SHAPE_OPS[name]
    check(f_st, f_t, [r(2, 3, 4, dtype=dtype, seed=7)], second_order=dtype == np.float64)


def test_comparisons_are_boolean_constants():
    a = st.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for m in (a < 2, a <= 2, a > 2, a >= 2, a == 2, a != 2):
        assert m.dtype == np.bool_ and not m.requires_grad and m.creator is None
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True, True])


OPS_FOR_GRADCHECK = [
    lambda a, b: (a * b + a / (b * b + 1)).exp(),
    lambda a, b: st.maximum(a, b) - st.minimum(a, b) ** 2,
    lambda a, b: (a @ b.T).sum(axis=1),
    lambda a, b: st.where(a > 0, a, b).abs().sqrt(),
    lambda a, b: st.concatenate([a, b], 0).var(axis=0),
    lambda a, b: (a[[0, 0, 2]] * b[[1, 1, 0]]).std(),
    lambda a, b: a.clip(-0.3, 0.3) * b.amax(axis=1, keepdims=True),
    lambda a, b: (a.reshape(4, 3).T @ b.reshape(4, 3)).log().sum() if False else
    ((a.reshape(4, 3).T @ b.reshape(4, 3)) ** 2 + 1).log(),
]


@pytest.mark.parametrize("fn", OPS_FOR_GRADCHECK)
def test_gradcheck_composites(fn):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    assert st.gradcheck(fn, [a, b])


def test_gradcheck_reports_a_wrong_derivative():
    class BadSquare(st.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy, y, x):
            return gy * x  # should be 2x

    res = st.gradcheck(lambda x: BadSquare()(x).sum(), [np.array([1.0, 2.0])],
                       raise_exception=False)
    assert not res and res.input_index == 0 and res.element == (1,)
    assert abs(res.analytic - 2.0) < 1e-9 and abs(res.numeric - 4.0) < 1e-5
    with pytest.raises(st.GradcheckError, match="worst element is input 0"):
        st.gradcheck(lambda x: BadSquare()(x), [np.array([1.0, 2.0])])


shapes_pair = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=4)


@settings(max_examples=40, deadline=None)
@given(shapes=shapes_pair, op=hst.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcasting_hypothesis(shapes, op):
    sa, sb = shapes.input_shapes
    a = r(*sa, seed=11)
    b = r(*sb, seed=12, positive=op == "div")
    f_st, f_t = BINARY[op]
    check(f_st, f_t, [a, b])


def test_broadcast_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"add: invalid input shapes \(3, 4\), \(5,\)"):
        st.tensor(np.zeros((3, 4))) + np.zeros(5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(32, 784\) and \(100, 10\) are not "
                                         r"aligned \(784 != 100\)"):
        st.tensor(np.zeros((32, 784))) @ st.tensor(np.zeros((100, 10)))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape shape \(2, 3\)"):
        st.tensor(np.zeros((2, 3))).reshape(4)
    with pytest.raises(ValueError, match="concatenate"):
        st.concatenate([st.tensor(np.zeros((2, 3))), st.tensor(np.zeros((2, 4)))], axis=0)
