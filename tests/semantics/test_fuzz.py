"""Fuzz the public ops with random shapes (0-d and 0-size included), dtypes, dims and
values: the outcome is torch's result, or one of steepest's own errors (raised from steepest
code, never from inside NumPy), and never a NumPy RuntimeWarning. Bounded to well under 60 s.
"""

from __future__ import annotations

import traceback
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import steepest as st
import steepest.functional as F

OUR_ERRORS = (IndexError, ValueError, TypeError, RuntimeError)
DTYPES = ["float32", "float64", "int64", "bool"]


def _dim(draw, nd):
    return draw(hs.one_of(hs.integers(-nd - 2, nd + 1), hs.none()))


UNARY = {
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: x.abs().log() if x.dtype != np.bool_ else x.log(),
            lambda x: x.abs().log() if x.dtype != torch.bool else x.log()),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt),
    "neg": (lambda x: -x, lambda x: -x),
    "abs": (lambda x: abs(x), torch.abs),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "relu": (F.relu, torch.relu),
    "softplus": (F.softplus, torch.nn.functional.softplus),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "half_pow": (lambda x: x ** 0.5, lambda x: x ** 0.5),
    "scalar_div": (lambda x: x / 3, lambda x: x / 3),
    "scalar_add": (lambda x: x + 1.5, lambda x: x + 1.5),
    "rsub": (lambda x: 2 - x, lambda x: 2 - x),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), lambda x: x.clamp(-0.5, 0.5)),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten()),
    "squeeze": (lambda x: x.squeeze(), lambda x: x.squeeze()),
    "T": (lambda x: x.T, lambda x: x.permute(*range(x.ndim - 1, -1, -1)) if x.ndim else x),
    "clone": (lambda x: x.clone(), lambda x: x.clone()),
    "float": (lambda x: x.float(), lambda x: x.float()),
    "long": (lambda x: x.long(), lambda x: x.long()),
}

DIM_OPS = {
    "sum": lambda x, d, k: x.sum(d, keepdim=k) if d is not None else x.sum(),
    "mean": lambda x, d, k: x.mean(d, keepdim=k) if d is not None else x.mean(),
    "prod": lambda x, d, k: x.prod(d, keepdim=k) if d is not None else x.prod(),
    "amax": lambda x, d, k: x.amax(d, keepdim=k) if d is not None else x.amax(),
    "amin": lambda x, d, k: x.amin(d, keepdim=k) if d is not None else x.amin(),
    "max": lambda x, d, k: x.max(d, keepdim=k).values if d is not None else x.max(),
    "min": lambda x, d, k: x.min(d, keepdim=k).values if d is not None else x.min(),
    "argmax": lambda x, d, k: x.argmax(d, keepdim=k) if d is not None else x.argmax(),
    "argmin": lambda x, d, k: x.argmin(d, keepdim=k) if d is not None else x.argmin(),
    "any": lambda x, d, k: x.any(d, keepdim=k) if d is not None else x.any(),
    "all": lambda x, d, k: x.all(d, keepdim=k) if d is not None else x.all(),
    "var": lambda x, d, k: x.var(d, keepdim=k) if d is not None else x.var(),
    "std": lambda x, d, k: x.std(d, keepdim=k, correction=0) if d is not None
    else x.std(correction=0),
    "logsumexp": lambda x, d, k: x.logsumexp(d, keepdim=k) if d is not None
    else x.logsumexp(tuple(range(x.ndim))),
    "norm": lambda x, d, k: x.norm(dim=d, keepdim=k) if d is not None else x.norm(),
    "softmax": lambda x, d, k: x.softmax(d if d is not None else -1),
    "log_softmax": lambda x, d, k: x.log_softmax(d if d is not None else -1),
    "squeeze_d": lambda x, d, k: x.squeeze(d if d is not None else 0),
    "unsqueeze": lambda x, d, k: x.unsqueeze(d if d is not None else 0),
    "flatten_d": lambda x, d, k: x.flatten(d if d is not None else 0),
    "transpose": lambda x, d, k: x.transpose(d if d is not None else 0, -1 if k else 0),
    "split": lambda x, d, k: x.split(2, d if d is not None else 0)[0],
    "chunk": lambda x, d, k: x.chunk(2, d if d is not None else 0)[-1],
    "cat": lambda x, d, k: (st if isinstance(x, st.Tensor) else torch).cat(
        [x, x], d if d is not None else 0),
    "stack": lambda x, d, k: (st if isinstance(x, st.Tensor) else torch).stack(
        [x, x], d if d is not None else 0),
}

BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a.abs() ** b if a.dtype not in (
        np.bool_, torch.bool) else a ** b,
    "maximum": lambda a, b: a.maximum(b), "minimum": lambda a, b: a.minimum(b),
}


@hs.composite
def arrays(draw, shape=None, dtype=None):
    if shape is None:
        shape = tuple(draw(hs.lists(hs.integers(0, 3), min_size=0, max_size=3)))
    dtype = dtype or draw(hs.sampled_from(DTYPES))
    n = int(np.prod(shape))
    if dtype == "bool":
        vals = draw(hs.lists(hs.booleans(), min_size=n, max_size=n))
    elif dtype == "int64":
        vals = draw(hs.lists(hs.integers(-3, 3), min_size=n, max_size=n))
    else:
        vals = draw(hs.lists(hs.sampled_from([0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-3]),
                             min_size=n, max_size=n))
    return np.array(vals, dtype=dtype).reshape(shape)


def _ours(exc: BaseException) -> bool:
    """An error of ours: a checked type, raised from a frame inside steepest, not NumPy."""
    if not isinstance(exc, OUR_ERRORS) or type(exc).__module__.startswith("numpy"):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "steepest" in frames[-1].filename


def _run(fn_st, fn_t, inputs):
    t_in = [torch.tensor(x) for x in inputs]
    try:
        theirs = fn_t(*t_in)
        t_err = None
    except Exception as e:  # noqa: BLE001 - torch's refusal is the oracle
        theirs, t_err = None, e
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            ours = fn_st(*[st.tensor(x) for x in inputs])
        except Exception as e:  # noqa: BLE001
            assert _ours(e), f"raw exception {type(e).__name__}: {e}\n" + "".join(
                traceback.format_exception(e))
            return
    assert t_err is None, f"torch refused ({t_err}) but steepest returned {ours!r}"
    assert isinstance(ours, st.Tensor), type(ours)
    want = theirs.detach().numpy()
    assert ours.shape == want.shape, (ours.shape, want.shape)
    assert ours.dtype == want.dtype, (ours.dtype, want.dtype)
    if want.dtype.kind == "f":
        tol = 1e-4 if want.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(ours.numpy(), want, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(ours.numpy(), want)


SETTINGS = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(name=hs.sampled_from(sorted(UNARY)), x=arrays())
def test_fuzz_unary(name, x):
    f_st, f_t = UNARY[name]
    _run(f_st, f_t, [x])


@SETTINGS
@given(data=hs.data(), name=hs.sampled_from(sorted(DIM_OPS)), x=arrays(),
       keep=hs.booleans())
def test_fuzz_dims(data, name, x, keep):
    d = data.draw(hs.one_of(hs.integers(-x.ndim - 1, x.ndim), hs.none()))
    fn = DIM_OPS[name]
    _run(lambda t: fn(t, d, keep), lambda t: fn(t, d, keep), [x])


@SETTINGS
@given(data=hs.data(), name=hs.sampled_from(sorted(BINARY)))
def test_fuzz_binary(data, name):
    shape = tuple(data.draw(hs.lists(hs.integers(0, 3), max_size=3)))
    other = tuple(s if data.draw(hs.booleans()) else data.draw(hs.sampled_from([1, s, 2]))
                  for s in shape[data.draw(hs.integers(0, len(shape))):])
    dt = data.draw(hs.sampled_from(DTYPES))
    dt2 = dt if data.draw(hs.booleans()) else data.draw(hs.sampled_from(["int64", "bool", dt]))
    a, b = data.draw(arrays(shape, dt)), data.draw(arrays(other, dt2))
    _run(BINARY[name], BINARY[name], [a, b])


@SETTINGS
@given(data=hs.data(), x=arrays(dtype="float64"))
def test_fuzz_indexing(data, x):
    if x.ndim == 0:
        return
    n = x.shape[0]
    m = data.draw(hs.integers(max(n - 1, 0), n + 1))
    mask = np.array(data.draw(hs.lists(hs.booleans(), min_size=m, max_size=m)), dtype=bool)
    _run(lambda t: t[mask], lambda t: t[torch.tensor(mask)], [x])
    i = data.draw(hs.integers(-n - 1, n))
    _run(lambda t: t[i], lambda t: t[i], [x])


@SETTINGS
@given(data=hs.data(), x=arrays(dtype="float64"))
def test_fuzz_gradients(data, x):
    """Where torch differentiates, our gradients agree (a sample of shape-changing ops)."""
    name = data.draw(hs.sampled_from(["sum", "mean", "amax", "max", "prod", "var", "norm",
                                      "softmax", "logsumexp", "squeeze_d", "cat", "split"]))
    d = data.draw(hs.one_of(hs.integers(-x.ndim - 1, x.ndim), hs.none()))
    fn = DIM_OPS[name]
    tx = torch.tensor(x, requires_grad=True)
    try:
        ty = fn(tx, d, False)
        (tg,) = torch.autograd.grad(ty.sum(), tx)
    except Exception:  # noqa: BLE001
        return
    sx = st.tensor(x, requires_grad=True)
    try:
        sy = fn(sx, d, False)
    except Exception as e:  # noqa: BLE001
        assert _ours(e), repr(e)
        return
    (sg,) = st.grad(sy.sum(), [sx])
    np.testing.assert_allclose(sg.numpy(), tg.numpy(), rtol=1e-10, atol=1e-10, equal_nan=True)


def test_our_error_detector_rejects_numpy_errors():
    try:
        np.zeros(3).sum(axis=5)
    except Exception as e:  # noqa: BLE001
        assert not _ours(e)
    with pytest.raises(IndexError) as info:
        st.tensor(np.zeros(3)).sum(5)
    assert _ours(info.value)


INPLACE = {
    "add_": lambda a, b: a.add_(b), "sub_": lambda a, b: a.sub_(b),
    "mul_": lambda a, b: a.mul_(b), "div_": lambda a, b: a.div_(b),
    "pow_": lambda a, b: a.abs().pow_(b) if a.dtype not in (np.bool_, torch.bool)
    else a.pow_(b),
    "copy_": lambda a, b: a.copy_(b), "iadd": lambda a, b: a.__iadd__(b),
    "imul": lambda a, b: a.__imul__(b), "setitem": lambda a, b: a.__setitem__(
        (Ellipsis,), b) or a,
    "fill_": lambda a, b: a.fill_(1.5), "clamp_": lambda a, b: a.clamp_(-1, 1),
    "zero_": lambda a, b: a.zero_(), "neg_": lambda a, b: a.neg_(),
}


@SETTINGS
@given(data=hs.data(), name=hs.sampled_from(sorted(INPLACE)))
def test_fuzz_inplace(data, name):
    shape = tuple(data.draw(hs.lists(hs.integers(0, 3), max_size=3)))
    other = tuple(data.draw(hs.sampled_from([1, s, 2])) for s in shape[
        data.draw(hs.integers(0, len(shape))):])
    a = data.draw(arrays(shape))
    b = data.draw(arrays(other))
    _run(INPLACE[name], INPLACE[name], [a, b])
