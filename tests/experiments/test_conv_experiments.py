"""The convolution experiments in --quick mode: figures exist and the claims hold."""

from __future__ import annotations

import pytest

from tests.experiments.test_experiments import _run

pytest.importorskip("matplotlib")


def test_restricted_architectures(tmp_path):
    r = _run("restricted-architectures", tmp_path)
    assert r["sizes"] == [100, 300, 1000]
    assert all(r["claims"].values()), r["claims"]


def test_conv_features(tmp_path):
    r = _run("conv-features", tmp_path)
    assert r["receptive_field_conv2_measured"] == r["receptive_field_theory"]["conv2"]
    assert all(r["claims"].values()), r["claims"]
