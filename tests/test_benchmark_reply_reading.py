"""Issue 17 point 6's target, on a small run of the benchmark's generated letters: the sections
proposed have precision at least 0.98 and recall at least 0.9 (figures in docs/benchmarks.md)."""

from __future__ import annotations

from benchmarks import reply_reading


def test_the_reader_meets_its_targets_on_a_small_corpus():
    letters = reply_reading.corpus(400, seed=5)
    total, by_label, _ = reply_reading.score(letters)
    assert total.precision >= 0.98
    assert total.recall >= 0.9
    # Every kind of finding is in the corpus, and letters citing nothing are too.
    assert {"s.12", "s.14", "s.40(2)", "s.40(5)", "ncnd", "not_held", "s.1(3)", "s.9",
            "s.10(3)"} <= set(by_label)
    assert any(not item.truth for item in letters)


def test_the_runner_prints_its_table(capsys):
    assert reply_reading.main(["--letters", "50"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["label", "cited", "tp", "fp", "fn", "precision", "recall"]
    assert out[-1].split()[0] == "all"
