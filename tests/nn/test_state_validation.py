"""Module.load_state_dict is all-or-nothing: every entry is checked before any is copied."""

import numpy as np
import pytest

import steepest as st
from steepest.models import mlp
from steepest.nn.module import LoadStateDictError


def _model():
    st.manual_seed(0)
    return mlp([3, 4, 2], batch_norm=True)


@pytest.mark.parametrize("key,value,why", [
    ("3.weight", np.ones((2, 4), np.complex64), "floating dtype"),  # the last layer ...
    ("3.weight", np.array([["a"] * 4] * 2), "floating dtype"),
    ("3.weight", np.ones((2, 4), np.int64), "floating dtype"),
    ("3.weight", np.ones((2, 4), bool), "floating dtype"),
    ("3.weight", np.full((2, 4), 1e300), "NaN or inf once cast to float32"),
    ("3.weight", np.full((2, 4), np.nan, np.float32), "NaN or inf in the file"),
    ("3.bias", "not an array", "not an array"),
    ("1.num_batches_tracked", np.array(1.5), "integer dtype"),
])
def test_bad_entries_are_refused_and_nothing_is_copied(key, value, why):
    model = _model()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    state = {k: v + 1 if v.dtype.kind == "f" else v for k, v in before.items()}
    state[key] = value  # ... is bad, the earlier ones are fine
    with pytest.raises(LoadStateDictError, match="invalid value") as e:
        model.load_state_dict(state)
    assert key in str(e.value) and why in str(e.value)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)  # no layer was overwritten


def test_good_state_still_loads_with_float64_into_float32():
    model = _model()
    state = {k: (v.astype(np.float64) + 1 if v.dtype.kind == "f" else v)
             for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert model[0].weight.data.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.data, state["0.weight"], rtol=1e-6)
