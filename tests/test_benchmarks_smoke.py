"""A smoke run of the benchmark runner at its smallest size: it runs and prints its table.

The figures themselves live in docs/benchmarks.md; speed is never asserted here."""

from __future__ import annotations

import pytest

from benchmarks import run

pytestmark = pytest.mark.slow


def test_the_runner_prints_its_table(capsys):
    assert run.main(["--sizes", "1000", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:5] == ["backend", "figures", "aggregate_s", "floor_s",
                                    "aggregate_ratio"]
    assert lines[1].split()[0] == "sqlite" and lines[1].split()[1] == "1,032"


def test_the_send_benchmark_runs_a_send_and_a_chase_of_43(capsys):
    from benchmarks import send

    assert send.main(["--runs", "1", "--throttle", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0:2] for line in lines[1:5]] == [
        ["web", "send"], ["worker", "send"], ["web", "chase"], ["worker", "chase"]]
    assert "86 messages received" in lines[5]  # 43 requests and 43 chasers, each once
