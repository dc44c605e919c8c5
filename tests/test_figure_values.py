"""Reading figures as authorities write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foitrack.domain.figure_values import FigureValue, NotAFigure, ValueKind, parse


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        ("122", FigureValue(ValueKind.exact, value=122), "122"),
        (" 4,373 ", FigureValue(ValueKind.exact, value=4373), "4373"),
        ("0", FigureValue(ValueKind.exact, value=0), "0"),
        ("<5", FigureValue(ValueKind.suppressed, lower=0, upper=4), "<5"),
        ("< 10", FigureValue(ValueKind.suppressed, lower=0, upper=9), "<10"),
        ("1-4", FigureValue(ValueKind.suppressed, lower=1, upper=4), "1-4"),
        ("Not Recorded", FigureValue(ValueKind.not_recorded), "not recorded"),
        ("NOT HELD", FigureValue(ValueKind.not_held), "not held"),
        ("withheld s.40(2)", FigureValue(ValueKind.withheld, exemption="s.40(2)"), "withheld s.40(2)"),
        ("Withheld under section 31", FigureValue(ValueKind.withheld, exemption="s.31"), "withheld s.31"),
        ("not provided", FigureValue(ValueKind.not_provided), "not provided"),
    ],
)
def test_values_are_read_and_written_one_way(text, expected, canonical):
    value = parse(text)
    assert value == expected and value.text == canonical


def test_a_star_needs_the_campaigns_threshold():
    assert parse("*", threshold=5) == FigureValue(ValueKind.suppressed, lower=0, upper=4)
    with pytest.raises(NotAFigure, match="needs the suppression threshold"):
        parse("*")


@pytest.mark.parametrize(
    ("text", "message"),
    [("-3", "cannot be negative"), ("2.5", "whole number"), ("4-1", "runs backwards"),
     ("<0", "nothing is below 0"), ("lots", "is not a figure"), ("", "is empty"),
     ("9" * 20, "too large")],
)
def test_bad_values_say_what_is_accepted(text, message):
    with pytest.raises(NotAFigure, match=message):
        parse(text)


values = st.one_of(
    st.integers(min_value=0, max_value=10**9).map(lambda v: FigureValue(ValueKind.exact, value=v)),
    st.integers(min_value=1, max_value=10**6).map(
        lambda v: FigureValue(ValueKind.suppressed, lower=0, upper=v - 1)),
    st.tuples(st.integers(1, 1000), st.integers(1, 1000)).filter(lambda t: t[0] < t[1]).map(
        lambda t: FigureValue(ValueKind.suppressed, lower=t[0], upper=t[1])),
    st.sampled_from([FigureValue(ValueKind.not_recorded), FigureValue(ValueKind.not_held),
                     FigureValue(ValueKind.not_provided),
                     FigureValue(ValueKind.withheld, exemption="s.40(2)")]),
)


@given(values)
def test_writing_then_reading_gives_the_same_value(value):
    assert parse(value.text) == value


@given(st.text(max_size=30))
def test_any_text_is_a_figure_or_a_clear_refusal(text):
    try:
        value = parse(text)
    except NotAFigure as error:
        assert str(error)
    else:
        assert value.kind in ValueKind
        if value.kind is ValueKind.suppressed:
            assert 0 <= value.lower <= value.upper
