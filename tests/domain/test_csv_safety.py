"""The one rule for text a spreadsheet would run as a formula (foitrack.domain.csv_safety)."""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from foitrack.domain import csv_safety
from foitrack.domain.csv_safety import (
    FORMULA_STARTS,
    keep_as_text,
    looks_like_formula,
    protect,
    unprotect,
)

PACKAGE = Path(csv_safety.__file__).resolve().parents[1]
PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_protect_puts_an_apostrophe_before_text_a_spreadsheet_would_run(payload):
    assert looks_like_formula(payload)
    assert protect(payload) == "'" + payload


@pytest.mark.parametrize("value", ["Avon and Somerset", "", "'=already quoted", 5, None, -3, True])
def test_protect_leaves_everything_else_as_it_was(value):
    assert protect(value) == value


@pytest.mark.parametrize("text", [*PAYLOADS, "plain", "", "'", "'plain", "''=x"])
def test_unprotect_reads_back_what_protect_wrote(text):
    assert unprotect(protect(text)) == text


def test_unprotect_keeps_an_apostrophe_that_protects_nothing():
    assert unprotect("'tis the season") == "'tis the season"
    assert unprotect("'") == "'"


def test_every_formula_start_is_one_character_so_the_first_decides():
    assert all(len(start) == 1 for start in FORMULA_STARTS)
    for start in FORMULA_STARTS:
        assert looks_like_formula(start + "rest")
        assert not looks_like_formula("x" + start)
    assert not looks_like_formula("")


def test_keep_as_text_makes_an_xlsx_cell_text_and_leaves_the_text_unchanged():
    book = Workbook()
    sheet = book.worksheets[0]
    formula = keep_as_text(sheet.cell(row=1, column=1, value="=1+1"))
    plain = keep_as_text(sheet.cell(row=2, column=1, value="Kent"))
    number = keep_as_text(sheet.cell(row=3, column=1, value=7))
    assert (formula.data_type, formula.quotePrefix) == ("s", True)
    assert (plain.data_type, plain.quotePrefix) == ("s", False)
    assert number.data_type == "n"
    out = io.BytesIO()
    book.save(out)
    read = load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    assert [read.cell(row=r, column=1).value for r in (1, 2, 3)] == ["=1+1", "Kent", 7]
    assert read.cell(row=1, column=1).data_type == "s"  # text, not a formula


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_the_rule_lives_in_one_module_only():
    rule = {"FORMULA_STARTS", "protect", "unprotect", "keep_as_text", "looks_like_formula"}
    elsewhere = {
        str(path.relative_to(PACKAGE)): sorted(_defined_names(path) & rule)
        for path in PACKAGE.rglob("*.py")
        if path.name != "csv_safety.py" and _defined_names(path) & rule
    }
    assert elsewhere == {}
