"""The benchmark suite runs and produces sane numbers (no timing assertions).

One quick run of ``python -m benchmarks --quick`` (in-process, minus the optimiser section,
which has its own module and is the slowest on a loaded machine) feeds the checks; the
hand-fused NumPy reference is also checked against steepest step by step.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from benchmarks import __main__ as suite  # noqa: E402
from benchmarks import common, training  # noqa: E402
from benchmarks.reference import ReferenceMLP  # noqa: E402

SECTIONS = "training,threads,op_overhead,time_to_acc,memory"


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = suite.main(["--quick", "--only", SECTIONS, "--out", str(out), "--no-docs"])
    return out, results


def _pos(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_quick_writes_json_and_table(quick):
    out, results = quick
    data = json.loads((out / "results.json").read_text())
    assert data["mode"] == "quick"
    assert "synthetic" in data["data"]["source"]
    for key in ("date", "cpu", "logical_cores", "numpy", "torch", "blas"):
        assert key in data["machine"]
    for section in SECTIONS.split(","):
        assert section in data and "error" not in data[section], data.get(section)
    table = (out / "table.md").read_text()
    assert "config A" in table and "config B" in table and "Targets" in table
    assert "PyTorch eager" in table and "NumPy reference" in table


def test_thread_comparison_covers_every_library(quick):
    out, results = quick
    th = results["threads"]
    assert th["threads"] == [1, 2]
    for cname in ("A",):  # quick mode: config A only (two threads are slow on a busy CI)
        libs = th["configs"][cname]["libraries"]
        assert set(libs) == {"steepest", "steepest_compiled", "torch", "numpy"}
        for v in libs.values():
            assert all(_pos(v["median_s"][t]) for t in ("1", "2"))
            assert _pos(v["ratio_1_over_2"]) and v["faster"] in ("1", "2")
    assert "BLAS threads: 1 vs 2" in (out / "table.md").read_text()


def test_training_numbers_are_sane(quick):
    _, results = quick
    for cname in ("A", "B"):
        res = results["training"][cname]
        assert set(res["libraries"]) == set(training.LIBRARIES)
        for name, lib in res["libraries"].items():
            assert len(lib["epoch_s"]) == 2 and all(_pos(t) for t in lib["epoch_s"]), name
            assert lib["min_s"] <= lib["median_s"] <= lib["max_s"]
            if name == "floor":  # only the products: no model is trained
                assert math.isnan(lib["test_accuracy"]) and math.isnan(lib["final_train_loss"])
                continue
            assert 0.0 <= lib["test_accuracy"] <= 1.0
            assert lib["test_accuracy"] > 0.5, (cname, name, lib["test_accuracy"])
            assert math.isfinite(lib["final_train_loss"])
        for k, v in res["throughput_ratios"].items():
            assert _pos(v), k
        # same initial weights and data order: steepest, torch and the reference agree
        libs = res["libraries"]
        ref = libs["numpy"]["final_train_loss"]
        for name in ("steepest", "steepest_loop", "torch"):
            assert abs(libs[name]["final_train_loss"] - ref) < 1e-3 * max(1.0, ref), name


def test_other_sections_are_sane(quick):
    _, results = quick
    oo = results["op_overhead"]
    assert all(_pos(oo[k]) for k in ("steepest", "torch", "numpy"))
    ta = results["time_to_acc"]
    for name in ("steepest", "torch"):
        runs = ta["libraries"][name]["runs"]
        assert len(runs) == 1
        accs = runs[0]["test_accuracy"]
        assert 1 <= len(accs) <= ta["max_epochs"] and all(0 <= a <= 1 for a in accs)
    mem = results["memory"]["B"]["libraries"]
    assert set(mem) == {"steepest", "steepest_arrays", "torch", "numpy", "sklearn"}
    for name, m in mem.items():
        assert _pos(m["peak_rss_mib"]) and m["incremental_mib"] >= 0, name
    targets = results["targets"]
    assert targets and all(t["value"] is None or _pos(float(t["value"])) for t in targets)


def test_cli_rejects_unknown_section():
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "training,nonsense"])


def test_permutation_is_the_loaders():
    from steepest.data import DataLoader

    order = next(iter(DataLoader((np.arange(50),), batch_size=50, shuffle=True, seed=7)))[0]
    np.testing.assert_array_equal(common.permutation(50, 7), order)


@pytest.mark.parametrize("cname", ["A", "B"])
def test_reference_matches_steepest(cname):
    """Three steps of the hand-fused loop equal steepest's (same weights, same batches)."""
    import steepest.functional as F
    from steepest import Tensor

    cfg = dict(common.CONFIGS[cname])
    cfg["sizes"] = [784, 16, 10] if cname == "A" else [784, 16, 12, 10]  # small and fast
    rng = np.random.default_rng(0)
    X = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    w = training.initial_weights(cfg["sizes"], 0)
    ref = ReferenceMLP([a for a, _ in w], [b for _, b in w], cfg["optimizer"], cfg["lr"])
    ref._buffers(32, 784)
    model = training._steepest_model(cfg["sizes"], w)
    opt = training._steepest_optimizer(cfg, model.parameters())
    for step in range(3):
        idx = np.arange(step * 21 % 32, step * 21 % 32 + 32)
        l_ref = ref.step(X, y, idx)
        loss = F.cross_entropy(model(Tensor(X[idx])), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert abs(float(loss.data) - l_ref) < 1e-5
    lin = [m for m in model if hasattr(m, "weight")]
    for m, W, b in zip(lin, ref.W, ref.b):
        np.testing.assert_allclose(m.weight.data, W, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(m.bias.data, b, rtol=1e-4, atol=1e-6)
        assert W.dtype == np.float32
