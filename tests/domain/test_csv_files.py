"""Every CSV import refuses a file the same way (issue 15: one place for each rule)."""

from __future__ import annotations

import pytest

from foitrack.domain.csv_files import decode_upload, header_reader, records
from foitrack.errors import Invalid, Problem


def header(reader):
    return [column.strip().lower() for column in next(reader)]


def test_text_with_excels_byte_order_mark_is_read() -> None:
    assert decode_upload("\ufeffa,b\n1,2\n".encode()) == "a,b\n1,2\n"


@pytest.mark.parametrize(("filename", "start"), [(None, "the file"), ("forces.csv", "forces.csv")])
def test_bytes_that_are_not_utf8_are_refused_naming_the_byte(filename, start) -> None:
    with pytest.raises(Invalid, match=rf"^{start} is not UTF-8 text \(byte 5\); in Excel"):
        decode_upload(b"a,b\n\xff,2\n", filename)


def test_a_nul_is_refused_naming_its_line_and_file() -> None:
    with pytest.raises(Invalid, match=r"^forces.csv: line 2: holds a NUL"):
        decode_upload(b"a,b\n1,\x002\n", "forces.csv")


def test_records_carry_the_line_they_start_on_and_lose_formula_protection() -> None:
    problems: list[Problem] = []
    text = 'a,b\n1,"two\nlines"\n\n,\n\'=SUM(1),3\n'
    assert list(records(text, header, problems)) == [
        (2, {"a": "1", "b": "two\nlines"}), (6, {"a": "=SUM(1)", "b": "3"})]
    assert problems == []


def test_a_record_with_the_wrong_number_of_cells_is_a_problem_on_its_line() -> None:
    problems: list[Problem] = []
    assert list(records("a,b\n1,2,3\n4,5\n", header, problems)) == [(3, {"a": "4", "b": "5"})]
    assert [(p.line, p.message) for p in problems] == [(2, "has 3 cells but the header has 2")]


@pytest.mark.parametrize("module", ["authority_import", "event_import", "figures", "tracker_import"])
def test_no_import_decodes_a_file_itself(module: str) -> None:
    from pathlib import Path

    import foitrack

    source = (Path(foitrack.__file__).parent / "services" / f"{module}.py").read_text()
    assert "decode_upload" in source
    assert ".decode(\"utf-8-sig\")" not in source and "def refuse_nul" not in source


def test_a_header_reader_names_each_unknown_missing_and_repeated_column_then_the_rule():
    read = header_reader(("a", "b", "c"), ("a", "b"), "the columns are a,b and, if wanted, c")
    assert [cells for _line, cells in records("B,A\n1,2\n", read, [])] == [{"b": "1", "a": "2"}]
    with pytest.raises(Invalid) as caught:
        list(records("a,x,a\n", read, []))
    assert [str(problem) for problem in caught.value.problems] == [
        "line 1: unknown column 'x'", "line 1: the header has no 'b' column",
        "line 1: column 'a' appears more than once",
        "line 1: the columns are a,b and, if wanted, c"]
    with pytest.raises(Invalid, match="the file is empty; the columns are a,b"):
        list(records("", read, []))
