"""Press phrasing: exact words for the published figures, and never stronger than the number."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foitrack.domain.phrasing import (
    FRACTIONS,
    change_words,
    fraction_phrase,
    join_authority_names,
    long_date,
    more_than_number,
    more_than_percent,
    number,
    percent,
    rank_words,
    rise_words,
    set_in_text,
    share_words,
)


@pytest.mark.parametrize(
    ("share", "words"),
    [
        (0.204, "one in five (20.4%)"),  # DOMAIN: 20.4% is "one in five"
        (0.253, "more than a quarter (25.3%)"),  # 25.3% is "more than a quarter"
        (0.246, "almost a quarter (24.6%)"),  # 24.6% is not "a quarter"
        (0.25, "a quarter (25.0%)"),
        (0.359, "more than a third (35.9%)"),  # 35.9% is "a third", qualified truthfully
        (0.724, "more than 70% (72.4%)"),
        (0.70, "more than two thirds (70.0%)"),
        (0.80001, "four in five (80.0%)"),
        (0.5, "half (50.0%)"),
        (0.03, "3.0%"),
    ],
)
def test_share_words(share, words):
    assert share_words(share) == words


def test_numbers_and_changes_for_the_press():
    assert number(4373) == "4,373"
    assert change_words(3217, 4373) == "up 36%"
    assert change_words(73, 122) == "up 67%"
    assert change_words(380, 860) == "more than double"
    assert change_words(100, 200) == "double"
    assert change_words(100, 88) == "down 12%"
    assert change_words(5, 5) == "unchanged"
    assert change_words(0, 4) == "up from none"
    assert rise_words(3217, 4373) == "a rise of more than a third"
    assert more_than_number(1220) == "more than 1,200"
    assert more_than_number(1200) == "1,200"
    assert percent(0.0004) == "less than 1%"
    assert more_than_percent(0.724) == "more than 70%"
    assert more_than_percent(0.70) == "more than 60%"  # "more than 70%" needs more than 70%


shares = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(shares)
def test_a_fraction_phrase_is_never_stronger_than_its_number(share):
    phrase = fraction_phrase(share)
    if phrase is None:
        return
    if phrase.claim == "more_than":
        assert share > phrase.fraction
    elif phrase.claim == "almost":
        assert share < phrase.fraction
    else:
        one_in_n = dict((v, n) for v, _, n in FRACTIONS)[phrase.fraction]
        assert abs(share - phrase.fraction) < (0.005 if one_in_n else 0.0005)
        assert round(share * 100) == round(phrase.fraction * 100)


@given(shares)
def test_more_than_a_percentage_is_true(share):
    words = more_than_percent(share)
    if words is not None:
        assert share * 100 > int(words.removeprefix("more than ").removesuffix("%"))


@given(st.integers(min_value=0, max_value=10**9))
def test_more_than_a_number_is_true(value):
    words = more_than_number(value)
    if words.startswith("more than "):
        assert value > int(words.removeprefix("more than ").replace(",", ""))
    else:
        assert words == number(value)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_change_words_point_the_right_way(old, new):
    words = change_words(old, new)
    if new > old:
        assert words.startswith(("up", "more than", "double", "treble")) or "times" in words
    elif new < old:
        assert words.startswith("down")
    else:
        assert words == "unchanged"
    if words.startswith("more than double"):
        assert new > 2 * old


def test_all_none_and_down_to_none():
    assert share_words(1.0) == "all (100.0%)"
    assert share_words(0.0) == "none (0.0%)"
    assert change_words(12, 0) == "down to none"


@given(shares)
def test_one_family_of_share_words(share):
    """Never "more than 10%" where the words have a name ("more than one in ten")."""
    words = share_words(share)
    for named in (10, 20, 40, 50, 60, 80, 90):
        assert not words.startswith(f"more than {named}%")


def test_ranks_lists_sets_and_dates_read_as_written_for_print():
    assert rank_words(1, 43) == "the highest"
    assert rank_words(1, 43, tied=2) == "the joint highest"
    assert rank_words(3, 43, tied=2) == "the joint 3rd highest"
    assert rank_words(14, 43) == "the 14th highest"
    assert rank_words(43, 43) == "the lowest"
    assert rank_words(42, 43, tied=2) == "the joint lowest"
    assert join_authority_names(["Surrey Police", "Sussex Police", "Kent Police"]) == \
        "Surrey, Sussex and Kent Police"
    assert join_authority_names(["West Mercia Police", "Durham Constabulary"]) == \
        "West Mercia Police and Durham Constabulary"
    assert set_in_text("Territorial police forces of England and Wales", 43) == \
        "the 43 territorial police forces of England and Wales"
    assert set_in_text("All UK police forces", 48) == "the 48 UK police forces"
    assert long_date(dt.date(2019, 4, 1)) == "1 April 2019"
