import numpy as np
import pytest

import steepest as st


@pytest.fixture
def rng():
    st.manual_seed(0)
    return np.random.default_rng(0)
