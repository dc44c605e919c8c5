"""The three-way merge that keeps two people's edits of the same figures from overwriting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from foitrack.domain.edit_merge import CellConflict, merge


def test_a_cell_i_left_alone_keeps_the_value_saved_meanwhile():
    result = merge({"a": "10"}, {"a": "10"}, {"a": "12"})
    assert result.values == {"a": "12"} and result.kept_theirs == ["a"] and not result.conflicts


def test_a_cell_we_both_changed_differently_is_a_conflict():
    result = merge({"a": "10"}, {"a": "11"}, {"a": "12"})
    assert result.conflicts == [CellConflict("a", "10", "11", "12")]


def test_the_same_change_twice_is_no_conflict():
    assert not merge({"a": "10"}, {"a": "not recorded"}, {"a": "Not  recorded"}).conflicts


def test_a_form_without_bases_takes_what_was_typed():
    assert merge({"a": None}, {"a": "5"}, {"a": "7"}).values == {"a": "5"}


values = st.sampled_from(["", "1", "2", "<5", "not recorded"])


@given(st.dictionaries(st.sampled_from("abcd"), st.tuples(values, values, values), min_size=1))
def test_nothing_anyone_changed_is_silently_lost(cells):
    base = {k: b for k, (b, _, _) in cells.items()}
    mine = {k: m for k, (_, m, _) in cells.items()}
    theirs = {k: t for k, (_, _, t) in cells.items()}
    result = merge(base, mine, theirs)
    conflicted = {c.name for c in result.conflicts}
    for name in cells:
        if name in conflicted:
            continue
        # Whatever is saved is my change if I made one, else theirs.
        expected = mine[name] if mine[name] != base[name] else theirs[name]
        assert result.values[name] == expected
