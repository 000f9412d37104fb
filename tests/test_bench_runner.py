"""The bench runner (bench/__main__.py): one row id means one row, or the run fails loudly and writes nothing."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

import bench.__main__ as runner
from bench.common import row


def rows(*ids: str) -> list[dict]:
    return [row(i, f"row {i}", "1 ms", "report") for i in ids]


@pytest.mark.parametrize(("given", "duplicated"), [
    ({"a": rows("1", "1a", "2"), "b": rows("T1", "T2")}, []),
    ({"a": rows("11", "11a"), "b": rows("11", "11b"), "c": rows("11")}, ["'11' is given 3 times, by a, b, c"]),
    ({"a": rows("4", "4b", "4b")}, ["'4b' is given 2 times, by a, a"]),
    ({"a": rows("12a"), "b": rows("12A", "12a ")}, []),  # ids are compared as given: these are three
    ({}, []),
])  # fmt: skip
def test_duplicate_ids_names_each_id_given_more_than_once_and_who_gave_it(given, duplicated):
    assert [d.removeprefix("row id ") for d in runner.duplicate_ids(given)] == duplicated


def test_a_run_with_a_duplicate_id_fails_loudly_and_leaves_results_alone(monkeypatch, capsys, tmp_path):
    modules = {"bench.bench_one": rows("11", "11a"), "bench.bench_two": rows("11", "12")}
    monkeypatch.setattr(runner.importlib, "import_module",
                        lambda name: SimpleNamespace(run=lambda quick: modules[name]))  # fmt: skip
    monkeypatch.setattr(runner, "MODULES", ["bench_one", "bench_two"])
    monkeypatch.setattr(runner, "HERE", tmp_path)  # where RESULTS.md would go
    monkeypatch.setattr(sys, "argv", ["bench"])
    assert runner.main() == 1
    err = capsys.readouterr().err
    assert "BENCH FAILURE: row id '11' is given 2 times, by bench_one, bench_two" in err
    assert not (tmp_path / "RESULTS.md").exists()
    modules["bench.bench_two"] = rows("12")
    assert runner.main() == 0 and (tmp_path / "RESULTS.md").exists()
