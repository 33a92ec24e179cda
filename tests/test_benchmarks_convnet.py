"""Benchmark config C: the hand-written NumPy reference and PyTorch take the same Adam step as
steepest from the same weights (so the timed competitors train the same network)."""

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import convnet  # noqa: E402


def test_config_c_competitors_take_the_same_step():
    rng = np.random.default_rng(0)
    x = rng.random((16, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    w = convnet.initial_weights(0)
    comps = {name: cls(x, y, w, 0) for name, cls in convnet.COMPETITORS.items()}
    for c in comps.values():
        c.step(x, y)
        c.step(x, y)
    ours = [p.data for p in comps["steepest"].model.parameters()]
    torch_params = [p.detach().numpy() for p in comps["torch"].model.parameters()]
    for a, b, c in zip(ours, torch_params, comps["numpy"].params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=2e-5)
    assert convnet.gemm_floor(n=8, reps=1) > 0
