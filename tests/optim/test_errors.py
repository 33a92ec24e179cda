"""Bad input: clear errors at construction; non-finite gradients never corrupt weights."""

import math

import numpy as np
import pytest

import steepest as st
import steepest.optim as so
from tests.optim.helpers import grad_sequence, make_params, st_params

ALL = [so.SGD, so.Momentum, so.Nesterov, so.Adam, so.AdamW, so.NAdam, so.Adagrad,
       so.RMSprop, so.Adadelta, so.LBFGS, so.NewtonCG]


def p(*shape):
    return st.Tensor(np.zeros(shape), requires_grad=True)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf, "fast"])
def test_bad_learning_rate(cls, lr):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid learning rate"):
        cls([p(2)], lr=lr)


@pytest.mark.parametrize("cls", [so.Adam, so.AdamW, so.NAdam])
@pytest.mark.parametrize("betas,which", [((1.0, 0.9), "beta1"), ((0.9, 1.0), "beta2"),
                                         ((-0.1, 0.9), "beta1"), ((0.9, math.nan), "beta2")])
def test_bad_betas(cls, betas, which):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid {which}="):
        cls([p(2)], betas=betas)


@pytest.mark.parametrize("cls,kw,msg", [
    (so.Adam, dict(eps=-1e-8), "eps"),
    (so.SGD, dict(momentum=-0.9), "momentum"),
    (so.SGD, dict(weight_decay=-1), "weight_decay"),
    (so.RMSprop, dict(alpha=1.5), "alpha"),
    (so.RMSprop, dict(momentum=-1), "momentum"),
    (so.Adadelta, dict(rho=2.0), "rho"),
    (so.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (so.Adagrad, dict(initial_accumulator_value=-1), "initial_accumulator_value"),
    (so.NAdam, dict(momentum_decay=-1), "momentum_decay"),
    (so.Momentum, dict(momentum=-0.5), "momentum"),
    (so.LBFGS, dict(line_search_fn="armijo"), "line_search_fn"),
    (so.LBFGS, dict(history_size=0), "history_size"),
    (so.NewtonCG, dict(damping=-1.0), "damping"),
])
def test_bad_hyperparameters(cls, kw, msg):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: invalid {msg}="):
        cls([p(2)], **kw)


@pytest.mark.parametrize("kw", [dict(nesterov=True), dict(nesterov=True, momentum=0.9,
                                                            dampening=0.1)])
def test_nesterov_needs_momentum_and_no_dampening(kw):
    with pytest.raises(ValueError, match="SGD: Nesterov momentum requires momentum > 0"):
        so.SGD([p(2)], lr=0.1, **kw)


@pytest.mark.parametrize("cls", ALL)
def test_empty_parameter_list(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: got an empty parameter list"):
        cls([])
    with pytest.raises(ValueError, match="empty parameter list"):
        cls(iter([]))


def test_parameter_twice():
    a, b = p(2), p(3)
    with pytest.raises(ValueError, match=r"parameter 2 \(shape \(2,\)\) is the same tensor "
                                         r"as parameter 0"):
        so.SGD([a, b, a], lr=0.1)
    with pytest.raises(ValueError, match=r"param group 1, parameter 0 .* already appears in "
                                         r"param group 0"):
        so.Adam([{"params": [a, b]}, {"params": [b]}])
    opt = so.Adam([a])
    with pytest.raises(ValueError, match="more than one group"):
        opt.add_param_group({"params": [a]})


def test_non_leaf_and_no_grad_tensors():
    a = p(2)
    with pytest.raises(ValueError, match="is not a leaf tensor"):
        so.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        so.SGD([st.Tensor(np.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match="can only optimise Tensors"):
        so.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        so.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        so.SGD({a}, lr=0.1)


def test_bad_group_hyperparameter_names_the_group():
    opt = so.Adam([p(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: param group 1: invalid learning rate"):
        opt.add_param_group({"params": [p(3)], "lr": -1.0})
    assert len(opt.param_groups) == 1


def test_bad_nonfinite_option():
    with pytest.raises(ValueError, match="nonfinite must be one of"):
        so.SGD([p(2)], lr=0.1, nonfinite="warn")


def test_named_parameters_are_accepted_and_named_in_errors():
    w, b = p(2, 3), p(3)
    opt = so.SGD([("fc.weight", w), ("fc.bias", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["fc.weight", "fc.bias"]
    w.grad = st.Tensor(np.zeros((2, 3)))
    b.grad = st.Tensor(np.array([0.0, np.inf, 0.0]))
    with pytest.raises(so.NonFiniteGradientError, match=r"'fc.bias' \(group 0, index 1"):
        opt.step()


@pytest.mark.parametrize("cls", [so.SGD, so.Adam, so.RMSprop, so.Momentum])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_gradient_raises_and_changes_nothing(cls, bad):
    sp = st_params(make_params())
    opt = cls([{"params": sp[:2]}, {"params": sp[2:]}], lr=0.1)
    grads = grad_sequence(2)
    for q, g in zip(sp, grads[0]):
        q.grad = st.Tensor(g)
    opt.step()
    before = [q.data.copy() for q in sp]
    state_before = opt.state_dict()
    g = grads[1][2].copy()
    g[1, 2, 0] = bad
    for q, gg in zip(sp, grads[1]):
        q.grad = st.Tensor(gg)
    sp[2].grad = st.Tensor(g)
    with pytest.raises(so.NonFiniteGradientError,
                       match=r"parameter \(group 1, index 0, shape \(2, 3, 2\)\) contains"):
        opt.step()
    with pytest.raises(FloatingPointError):
        opt.step()
    with pytest.raises(ValueError):
        opt.step()
    for q, b in zip(sp, before):
        np.testing.assert_array_equal(q.data, b)
    after = opt.state_dict()
    for i, s in state_before["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_nonfinite_skip_option():
    sp = st_params(make_params())
    opt = so.Adam(sp, lr=0.1, nonfinite="skip")
    before = [q.data.copy() for q in sp]
    for q, g in zip(sp, grad_sequence(1)[0]):
        q.grad = st.Tensor(g)
    sp[0].grad.data[0, 0] = np.nan
    opt.step()
    assert opt.skipped_steps == 1
    assert opt.state == {} or all(not s for s in opt.state.values())
    for q, b in zip(sp, before):
        np.testing.assert_array_equal(q.data, b)
    sp[0].grad.data[0, 0] = 0.0
    opt.step()
    assert opt.state[0]["step"] == 1
    assert not np.array_equal(sp[0].data, before[0])


def test_huge_but_finite_gradient_is_not_flagged():
    q = st.Tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    opt = so.SGD([q], lr=1e-30)
    q.grad = st.Tensor(np.full(4, 1e30, dtype=np.float32))  # its square overflows float32
    opt.step()
    assert np.all(np.isfinite(q.data))


def test_gradient_shape_and_dtype_are_checked():
    q = p(2, 3)
    opt = so.SGD([q], lr=0.1)
    q.grad = st.Tensor(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"gradient of parameter \(group 0, index 0, shape "
                                         r"\(2, 3\)\) has shape \(3, 2\)"):
        opt.step()
    q.grad = st.Tensor(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="has dtype float32 but the parameter has dtype "
                                        "float64"):
        opt.step()


def test_load_state_dict_mismatch():
    opt = so.Adam([p(2), p(3)])
    other = so.Adam([p(2)])
    with pytest.raises(ValueError, match="param group 0 has 1 parameters but the saved group "
                                         "has 2"):
        other.load_state_dict(opt.state_dict())
    two = so.Adam([{"params": [p(2)]}, {"params": [p(3)]}])
    with pytest.raises(ValueError, match="has 2 parameter groups but the optimiser has 1"):
        other.load_state_dict(two.state_dict())
    a = p(2)
    a.grad = st.Tensor(np.ones(2))
    src = so.Adam([a])
    src.step()
    dst = so.Adam([p(5)])
    with pytest.raises(ValueError, match=r"state 'exp_avg' has shape \(2,\) but its parameter "
                                         r"has shape \(5,\)"):
        dst.load_state_dict(src.state_dict())
