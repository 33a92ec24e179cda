"""The results file and the table, on their own."""

import json

import pytest

from steepest.tune.results import ResultsFile, ResultsMismatch, Table, best_record, ranked
from steepest.tune.space import SpaceError

SETTINGS = {"objective": "f", "space": {"lr": {"loguniform": [1e-6, 0.01]}}, "seed": 0}


def rec(trial, status="completed", score=0.5):
    return {"type": "trial", "trial": trial, "round": 0, "index": trial, "status": status,
            "score": score, "config": {"lr": 0.1 * (trial + 1)}, "scores": []}


def test_append_read_back_and_nan_becomes_null(tmp_path):
    f = ResultsFile(tmp_path / "r.jsonl")
    assert f.open(SETTINGS) == []
    f.append(rec(0, score=float("nan")))
    f.append(rec(1))
    f.close()
    header, records = ResultsFile.load(tmp_path / "r.jsonl")
    assert header["settings"] == SETTINGS and len(header["hash"]) == 16
    assert [r["score"] for r in records] == [None, 0.5]
    f = ResultsFile(tmp_path / "r.jsonl")
    assert [r["trial"] for r in f.open(SETTINGS, resume=True)] == [0, 1]
    f.close()


def test_a_header_only_file_is_reused_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsFile(path).open(SETTINGS)  # stopped before any trial: nothing to lose
    f = ResultsFile(path)
    f.open({**SETTINGS, "seed": 1})
    f.close()
    assert json.loads(path.read_text().splitlines()[0])["settings"]["seed"] == 1
    other = tmp_path / "notes.jsonl"
    other.write_text('{"my": "data"}\n')
    with pytest.raises(SpaceError, match="already holds"):
        ResultsFile(other).open(SETTINGS)
    with pytest.raises(ResultsMismatch, match="not a steepest search results file"):
        ResultsFile(other).open(SETTINGS, resume=True)
    assert other.read_text() == '{"my": "data"}\n'


def test_ranking_and_table():
    records = [rec(0, score=0.2), rec(1, "stopped", 0.9), rec(2, score=0.7), rec(3, "failed", None),
               rec(4, score=0.7)]
    assert [r["trial"] for r in ranked(records, "max")] == [2, 4, 0]  # ties: lower trial first
    assert [r["trial"] for r in ranked(records, "min")] == [0, 2, 4]
    assert best_record(records, "max")["trial"] == 2
    assert best_record([rec(1, "stopped", 0.9), rec(3, "failed", None)], "max")["trial"] == 1
    assert best_record([rec(3, "failed", None)], "max") is None
    t = Table([{"trial": 0, "lr": 1e-3, "hidden": [100, 100], "score": None}])
    text = str(t)
    assert "0.001" in text and "[100,100]" in text and "-" in text
    assert t["lr"] == [1e-3] and t[0]["trial"] == 0
    assert t.to_csv().splitlines() == ["trial,lr,hidden,score", '0,0.001,"[100, 100]",']
    with pytest.raises(KeyError, match="no column 'x'"):
        t["x"]
