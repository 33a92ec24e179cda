"""docs/torch_names.md stays true: every name in its tables exists in torch and in steepest
(names marked ¹ belong to another issue and are only checked in torch)."""

import re
from pathlib import Path

import pytest
import torch

import steepest as st

DOC = Path(__file__).resolve().parents[2] / "docs" / "torch_names.md"
KINDS = [("torch.linalg", "linalg"), ("nn.functional", "F"), ("torch.nn.X", "nn"),
         ("nn.utils", "utils"), ("Tensor methods", "method")]


def _lookup(root, kind, name):
    if kind == "method":
        return getattr(root.Tensor, name, None)
    obj = {"linalg": root.linalg, "F": root.nn.functional, "nn": root.nn}.get(kind, root)
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj


def _entries():
    kind, out = None, []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            kind = next((k for key, k in KINDS if key in line), "top")
        elif line.startswith("## "):
            kind = None
        elif kind and line.startswith("| `"):
            for name, mark in re.findall(r"`([\w.]+)`( ¹)?", line):
                out.append((kind, name, bool(mark)))
    return out


ENTRIES = _entries()


def test_the_table_is_large_and_mostly_present():
    assert len(ENTRIES) > 400
    present = sum(not other for _, _, other in ENTRIES)
    assert present / len(ENTRIES) > 0.95


@pytest.mark.parametrize("kind,name,other", ENTRIES, ids=[f"{k}:{n}" for k, n, _ in ENTRIES])
def test_name_exists(kind, name, other):
    assert _lookup(torch, kind, name) is not None, f"torch has no {kind} {name}"
    if not other:
        assert _lookup(st, kind, name) is not None, f"steepest has no {kind} {name}"
