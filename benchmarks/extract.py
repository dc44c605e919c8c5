"""How well foitrack reads figures out of replies: precision and recall per layout, and time.

    python -m benchmarks.extract [--replies 430] [--seed 7] [--show-errors]

Generates replies (tests/fixtures/reply_corpus.py, seeded) in the layouts police forces use,
extracts proposals from each against the corpus design and compares them with each file's truth.
Precision: proposals that are right (the cell and the value) / proposals made. Recall: cells
found right / cells in the files. Then times the extraction of 43 replies (one campaign's worth,
the layouts in turn), generation not counted. Not part of the test suite (a small run is).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from foitrack.domain.extraction import extract
from foitrack.domain.extraction.matching import Value, read_value
from tests.fixtures.reply_corpus import Reply, corpus, corpus_design

TARGETS = {"table": (0.99, 0.95), "sentences": (0.95, 0.7)}  # (precision, recall)
SECONDS_FOR_43 = 30.0


@dataclass
class Score:
    proposed: int = 0
    right: int = 0
    cells: int = 0
    found: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.proposed if self.proposed else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.cells if self.cells else 1.0


def score(replies: Sequence[Reply], errors: list[str] | None = None) -> dict[str, Score]:
    design = corpus_design()
    scores: dict[str, Score] = {}
    for reply in replies:
        result = extract(reply.filename, reply.data, design)
        s = scores.setdefault(reply.layout, Score())
        truth = {}
        for cell in reply.truth:
            value = read_value(cell.value, design.suppression_threshold)
            assert isinstance(value, Value), cell
            dimension = "platform" if cell.category else None
            truth[(cell.measure, cell.period, dimension, cell.category)] = value.figure
        s.cells += len(truth)
        s.proposed += len(result.proposals)
        for proposal in result.proposals:
            if truth.get(proposal.key) == proposal.parsed:
                s.right += 1
                s.found += 1
            elif errors is not None:
                errors.append(f"{reply.layout} {reply.filename}: wrong {proposal.key} "
                              f"{proposal.value!r} at {proposal.location.text}")
        if errors is not None:
            got = {p.key for p in result.proposals}
            errors += [f"{reply.layout} {reply.filename}: missed {key}" for key in truth
                       if key not in got]
    return scores


def kind(layout: str) -> str:
    return "sentences" if layout.startswith("sentences") else "table"


def timed(count: int = 43, seed: int = 11) -> float:
    replies = corpus(count, seed)
    design = corpus_design()
    start = time.perf_counter()
    for reply in replies:
        extract(reply.filename, reply.data, design)
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=430)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    errors: list[str] | None = [] if args.show_errors else None
    scores = score(corpus(args.replies, args.seed), errors)
    print(f"{args.replies} replies, seed {args.seed}")
    print(f"{'layout':<20} {'cells':>6} {'proposed':>8} {'right':>6} {'precision':>9} {'recall':>7}"
          f"  target")
    ok = True
    for layout, s in scores.items():
        precision, recall = TARGETS[kind(layout)]
        met = s.precision >= precision and s.recall >= recall
        ok = ok and met
        print(f"{layout:<20} {s.cells:>6} {s.proposed:>8} {s.right:>6} {s.precision:>9.3f} "
              f"{s.recall:>7.3f}  {'met' if met else 'MISSED'} (P>={precision}, R>={recall})")
    seconds = timed()
    ok = ok and seconds < SECONDS_FOR_43
    print(f"43 replies extracted in {seconds:.2f} s (target < {SECONDS_FOR_43:.0f} s)")
    for line in errors or []:
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
