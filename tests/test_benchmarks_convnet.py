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


def test_config_c_peak_memory_reports_both_growths():
    """The subprocess measurement reports growth after a warm step and from setup; the
    report renders both."""
    m = convnet.peak_memory("steepest", synthetic=True, quick=True, threads=1)
    assert set(m) == {"peak_mib", "peak_total_mib"}
    assert m["peak_total_mib"] >= 0
    lib = {"ms_per_step": 1.0, "seconds_per_epoch": {"median": 1.0}, "test_accuracy": 0.5,
           **m}
    lines = convnet.render({"description": "C", "libraries": {"steepest": lib},
                            "gemm_floor_ms_per_step": 1.0, "throughput_vs_torch": 1.0,
                            "throughput_vs_numpy_reference": 1.0})
    assert "from setup" in lines[1]
    assert lines[3].count("|") == 7
