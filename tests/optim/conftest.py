import pytest
import torch


@pytest.fixture(autouse=True)
def torch_float64():
    """torch keeps optimiser scalars (NAdam's mu_product, step) in the default dtype; use
    float64 so that the oracle is exact to ~1e-16 per step."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)
