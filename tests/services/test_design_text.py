"""The design page's TOML is read by a service, not by the view (issue 15: one place per rule)."""

from __future__ import annotations

import pytest

from foitrack.errors import Invalid
from foitrack.services.design import parse_design_text


def test_text_that_is_not_toml_is_one_problem_saying_so() -> None:
    with pytest.raises(Invalid) as raised:
        parse_design_text("[[measures]\nkey = ")
    assert len(raised.value.problems) == 1
    assert str(raised.value.problems[0]).startswith("The design is not valid TOML:")


def test_every_problem_in_the_design_is_named() -> None:
    with pytest.raises(Invalid) as raised:
        parse_design_text('suppression_threshold = 0\n[[measures]]\nlabel = "Offences"\n')
    fields = {problem.field for problem in raised.value.problems}
    assert "suppression_threshold" in fields
    assert any(field and field.startswith("measures") for field in fields)


def test_a_good_design_comes_back_parsed() -> None:
    design = parse_design_text(
        '[[measures]]\nkey = "offences"\nlabel = "Offences"\n'
        '[[periods]]\nkey = "2018-19"\nlabel = "2018/19"\nstart = 2018-04-01\nend = 2019-03-31\n')
    assert [m.key for m in design.measures] == ["offences"]
    assert [p.key for p in design.periods] == ["2018-19"]
