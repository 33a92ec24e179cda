import numpy as np
import pytest

import steepest as st


@pytest.fixture
def rng():
    st.manual_seed(0)
    return np.random.default_rng(0)


@pytest.fixture
def test_device():
    """The device of this run (``STEEPEST_TEST_DEVICE``: unset = "cpu", "standin", "cuda"),
    made usable for the test; yields the steepest device name ("cpu" or "cuda")."""
    from tests import oracle

    with oracle.on_device(oracle.DEVICE) as dev:
        yield dev or "cpu"
