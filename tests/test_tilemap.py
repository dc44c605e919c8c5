"""The tile map: its layout file against the registry, its colour classes, and its colouring."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from foitrack.domain import tilemap
from foitrack.domain.clock import Regime
from foitrack.domain.tilemap import Mark, Place, Reading
from foitrack.domain.timeline import EventKind, TimelineEvent, derive
from foitrack.paths import PACKAGE_DIR
from foitrack.services.aggregate import AuthorityRow, Cell

CSS = (PACKAGE_DIR / "static" / "foitrack.css").read_text(encoding="utf-8")


def territorial_codes() -> set[str]:
    with tilemap.REGISTRY_FILE.open(encoding="utf-8", newline="") as handle:
        return {row["code"] for row in csv.DictReader(handle)
                if row["kind"] == "territorial-police" and row["country"] in ("England", "Wales")}


def test_the_layout_has_exactly_the_43_territorial_forces_of_england_and_wales():
    with tilemap.TILES_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 43
    assert {row["code"] for row in rows} == territorial_codes()
    assert len(territorial_codes()) == 43


def test_no_two_tiles_share_a_cell_and_labels_are_unique_and_short():
    positions = tilemap.positions().values()
    assert len({(p.row, p.col) for p in positions}) == 43
    assert len({p.label for p in positions}) == 43
    assert all(2 <= len(p.label) <= 4 for p in positions)
    assert all(1 <= p.row <= 12 and 1 <= p.col <= 10 for p in positions)  # the CSS's classes


def test_the_layout_keeps_the_country_recognisable():
    by_label = {p.label: p for p in tilemap.positions().values()}
    assert by_label["Nbr"].row == 1  # Northumbria at the top
    assert by_label["Ken"].col == max(p.col for p in by_label.values() if p.row == by_label["Ken"].row)
    assert by_label["DeC"].row == by_label["Ken"].row and by_label["DeC"].col < by_label["Dor"].col
    welsh = [p for p in tilemap.positions().values() if p.code.startswith("W15")]
    assert all(p.col <= 2 for p in welsh)
    assert abs(by_label["CoL"].col - by_label["MPS"].col) == 1 and by_label["CoL"].row == by_label["MPS"].row


def contrast(a: str, b: str) -> float:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("fill", sorted(tilemap.FILLS))
def test_every_fill_is_drawn_by_the_css_with_readable_text(fill):
    background, text = tilemap.FILLS[fill]
    rule = re.search(r"\.fill-" + re.escape(fill) + r" \{([^}]*)\}", CSS)
    assert rule, f".fill-{fill} is missing from foitrack.css"
    assert background in rule.group(1) and f"color: {text}" in rule.group(1)
    assert contrast(background, text) >= 4.5  # WCAG AA for normal text


def test_every_state_has_a_fill_and_the_css_a_rule_for_each():
    assert all(f"state-{key}" in tilemap.FILLS for key in tilemap.STATES)
    assert ".fill-status-" not in CSS  # the old one-green "Answered" fills are gone


def test_no_two_states_look_alike():
    """Each state differs from every other by its colour, or (where two share a hue) by its
    pattern and glyph: colour is never the only cue."""
    looks = set()
    for key in tilemap.STATES:
        rule = re.search(r"\.fill-state-" + key + r" \{([^}]*)\}", CSS).group(1)
        looks.add((rule, tilemap.STATE_GLYPHS.get(key, "")))
    assert len(looks) == len(tilemap.STATES)
    glyphs = [g for g in tilemap.STATE_GLYPHS.values()]
    assert len(set(glyphs)) == len(glyphs)


def test_the_lowest_value_stands_out_from_the_page_and_from_no_figure():
    """The issue: the lowest class was #e8f1fa, near white (contrast 1.1 with the page)."""
    for fill in (*tilemap.SEQUENTIAL, *tilemap.DIVERGING):
        assert contrast(tilemap.FILLS[fill][0], tilemap.PAGE_BACKGROUND) >= \
            tilemap.MIN_VALUE_CONTRAST, fill
    lowest = tilemap.FILLS["seq-1"][0]
    assert contrast(lowest, "#ffffff") >= 2.0
    # "No figure" and "no reply" are patterned or ringed, never a plain fill a value could have.
    assert "repeating-linear-gradient" in re.search(r"\.fill-no-figure \{([^}]*)\}", CSS).group(1)
    assert "dotted" in re.search(r"\.fill-no-reply \{([^}]*)\}", CSS).group(1)
    assert {"no-figure", "no-reply", "state-refused", "state-not_held"}.isdisjoint(
        tilemap.SEQUENTIAL)


def test_the_css_places_every_row_and_column_used():
    for position in tilemap.positions().values():
        assert f".tile-r{position.row} {{ grid-row: {position.row}; }}" in CSS
        assert f".tile-c{position.col} {{ grid-column: {position.col}; }}" in CSS


# ---- classes ----------------------------------------------------------------------------

def test_quantile_classes_put_values_into_the_right_bins():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    bounds = tilemap.quantile_bounds(values)
    assert bounds == [2, 4, 6, 8, 10]
    assert [tilemap.class_of(v, bounds) for v in values] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_one_large_force_does_not_flatten_the_others():
    bounds = tilemap.quantile_bounds([10, 12, 14, 16, 18, 20, 22, 24, 26, 900])
    assert tilemap.class_of(900, bounds) == 4 and tilemap.class_of(14, bounds) == 1


def test_ties_merge_classes_and_the_fills_still_spread_over_the_scale():
    bounds = tilemap.quantile_bounds([5, 5, 5, 5, 9])
    assert bounds == [5, 9]
    assert [tilemap.sequential_fill(i, 2) for i in range(2)] == ["seq-1", "seq-5"]


def test_diverging_classes_split_at_zero_and_the_median_change():
    changes = [-40, -10, 0, 5, 20, 60]
    threshold = tilemap.change_threshold(changes)
    assert threshold == 20
    assert [tilemap.diverging_class(v, threshold) for v in changes] == [0, 1, 2, 3, 4, 4]


# ---- maps -------------------------------------------------------------------------------

WEST_MERCIA = Place("E23000016", "West Mercia Police", "/wm")
KENT = Place("E23000032", "Kent Police", "/kent")
BTP = Place(None, "British Transport Police", "/btp")


def tile(map_, code):
    return next(t for t in map_.tiles if t.position.code == code)


def sent(on):
    """The state on TODAY of a request sent ``on`` and not yet answered."""
    return sent_with([TimelineEvent(EventKind.sent, on)])


def sent_with(events):
    return derive(events, Regime.foia, TODAY)


TODAY = dt.date(2019, 6, 4)
SENT = TimelineEvent(EventKind.sent, dt.date(2019, 5, 1))  # due 30 May


def responded(outcome, *exemptions):
    return sent_with([SENT, TimelineEvent(EventKind.response, dt.date(2019, 5, 20),
                                          outcome=outcome, exemptions=exemptions)])


def test_a_force_without_a_tile_is_listed_not_dropped():
    map_ = tilemap.status_map([(WEST_MERCIA, responded("provided")),
                               (BTP, sent(dt.date(2019, 4, 26)))])
    assert [m.name for m in map_.off_map] == ["British Transport Police"]
    assert map_.off_map[0].text.startswith("Overdue")
    assert len(map_.tiles) == 43


def test_forces_not_asked_are_drawn_empty_and_counted_in_the_legend():
    map_ = tilemap.status_map([(WEST_MERCIA, responded("provided"))])
    assert tile(map_, "E23000032").mark == Mark("Kent Police", "not-asked", "not asked")
    assert tile(map_, "E23000016").mark.title == "West Mercia Police: Answered with figures"
    assert [(e.text, e.count) for e in map_.legend] == [("Answered with figures", 1),
                                                        ("Not asked", 42)]


def test_answers_are_told_apart_not_one_green_answered():
    """The issue: provided, refused, NCND and not held were all one green "Answered"."""
    states = {"provided": responded("provided"), "refused": responded("refused", "s.12"),
              "ncnd": responded("ncnd", "s.23(5)"), "not_held": responded("not_held")}
    fills = {name: tilemap.request_state(state) for name, state in states.items()}
    assert fills == {"provided": "figures", "refused": "refused", "ncnd": "ncnd",
                     "not_held": "not_held"}
    assert tilemap.state_words(states["refused"], "refused") == "Refused (s.12)"


def test_waiting_requests_show_how_late_they_are_and_an_extension():
    extended = sent_with([SENT, TimelineEvent(EventKind.extension, dt.date(2019, 5, 20),
                                              due_on=dt.date(2019, 6, 27))])
    found = {
        "awaiting": sent(dt.date(2019, 5, 20)),
        "due_soon": sent(dt.date(2019, 5, 7)),
        "overdue": sent(dt.date(2019, 4, 26)),
        "very_overdue": sent(dt.date(2019, 3, 1)),
        "extended": extended,
        "not_sent": sent_with([]),
    }
    assert {key: tilemap.request_state(state) for key, state in found.items()} == {
        key: key for key in found}
    assert tilemap.state_words(extended, "extended") == "Extended by the authority, due 2019-06-27"


def test_the_key_lists_each_state_shown_with_its_count_and_glyph():
    map_ = tilemap.status_map([
        (WEST_MERCIA, responded("refused", "s.12")), (KENT, sent(dt.date(2019, 3, 1))),
        (Place("E23000031", "Surrey Police"), responded("refused"))])
    assert [(e.fill, e.text, e.count, e.glyph) for e in map_.legend] == [
        ("state-refused", "Refused", 2, "×"), ("state-very_overdue", "Very overdue", 1, "!!!"),
        ("not-asked", "Not asked", 40, "")]
    assert tile(map_, KENT.code).mark.glyph == "!!!"
    assert tile(map_, KENT.code).mark.title.startswith("Kent Police: Very overdue, ")


def test_a_refusal_on_the_figure_map_is_not_drawn_as_no_reply():
    """The issue: on the figures map a s.12 refusal looked like no reply."""
    refused = tilemap.answer_reading(responded("refused", "s.12"))
    waiting = tilemap.answer_reading(sent(dt.date(2019, 5, 20)))
    assert refused == Reading("refused", "no figure: refused (s.12)")
    assert waiting.kind == "awaiting"
    map_ = tilemap.figure_map([(WEST_MERCIA, refused), (KENT, waiting),
                               (CITY, Reading("value", "3", 3))])
    fills = {tile(map_, p.code).mark.fill for p in (WEST_MERCIA, KENT, CITY)}
    assert len(fills) == 3 and "no-figure" not in fills
    assert tile(map_, WEST_MERCIA.code).mark.glyph == "×"
    assert [(e.text, e.count) for e in map_.legend][1:3] == [("Refused or withheld", 1),
                                                             ("No reply yet", 1)]


def test_a_figure_map_gives_each_class_the_range_it_holds():
    map_ = tilemap.figure_map([
        (WEST_MERCIA, Reading("value", "122", 122)), (KENT, Reading("value", "300", 300)),
        (Place("E23000031", "Surrey Police"), Reading("suppressed", "1 to 4 (suppressed)")),
        (Place("E23000033", "Sussex Police"), Reading("none", "not held")),
    ])
    assert tile(map_, WEST_MERCIA.code).mark.fill == "seq-1"
    assert tile(map_, KENT.code).mark.fill == "seq-5"
    assert tile(map_, "E23000031").mark.fill == "suppressed"
    assert tile(map_, "E23000033").mark.title == "Sussex Police: not held"
    assert [(e.fill, e.text, e.count) for e in map_.legend] == [
        ("seq-1", "122", 1), ("seq-5", "300", 1), ("suppressed", "Suppressed (a small number)", 1),
        ("no-figure", "No figure", 1), ("not-asked", "Not asked", 39)]
    # A withheld or not-held figure is an answer, drawn as the status map draws it.
    assert tilemap.readings([row("kent", "2018-19", "withheld")], "offences", "2018-19") == {
        "kent": Reading("refused", "withheld")}


def row(slug, period, kind="exact", value=None, lower=None, upper=None):
    return AuthorityRow(slug=slug, name=slug, short_name=slug, code=None,
                        cell=Cell("offences", period, None, None, "total"), kind=kind, value=value,
                        lower=lower, upper=upper, rank=None, ranked=None, caveat=None, figure_id=0)


ROWS = [row("west-mercia", "2017-18", value=73), row("west-mercia", "2018-19", value=122),
        row("surrey", "2017-18", "suppressed", lower=1, upper=4), row("surrey", "2018-19", value=9),
        row("kent", "2018-19", "not_held"), row("dorset", "2017-18", value=0),
        row("dorset", "2018-19", value=3)]


def test_readings_of_a_figure():
    found = tilemap.readings(ROWS, "offences", "2018-19")
    assert found["west-mercia"] == Reading("value", "122", 122.0)
    assert found["kent"] == Reading("not_held", "not held")


def test_readings_of_a_change_need_two_exact_figures():
    found = tilemap.readings(ROWS, "offences", "2018-19", earlier="2017-18", show="change_pct")
    assert found["west-mercia"].text == "73 → 122 (+67%)"
    assert round(found["west-mercia"].value, 1) == 67.1
    assert found["surrey"] == Reading("suppressed", "1 to 4 (suppressed), then 9")
    assert found["kent"].kind == "not_held"
    assert found["dorset"].kind == "none"  # no percentage change from nothing
    absolute = tilemap.readings(ROWS, "offences", "2018-19", earlier="2017-18", show="change")
    assert absolute["west-mercia"] == Reading("value", "73 → 122 (+49)", 49.0)
    assert absolute["dorset"].value == 3


CITY = Place("E23000034", "City of London Police")
SMALL = "resident population under 100,000: a rate per resident is not meaningful for it"


def test_an_unranked_rate_has_its_own_fill_and_stays_out_of_the_scale():
    """City of London's rate (110.2 on 9 offences) would be the darkest class and push the
    others down a class each; it is shown apart, and the legend says why."""
    map_ = tilemap.figure_map([
        (WEST_MERCIA, Reading("value", "9.5", 9.5)), (KENT, Reading("value", "5.5", 5.5)),
        (CITY, Reading("unranked", "110.2 (9; not ranked)", 110.2, SMALL)),
    ], fmt=lambda v: f"{v:,.1f}")
    assert tile(map_, CITY.code).mark.fill == "not-ranked"
    assert (tile(map_, KENT.code).mark.fill, tile(map_, WEST_MERCIA.code).mark.fill) == (
        "seq-1", "seq-5")
    assert [(e.fill, e.text, e.count) for e in map_.legend][:3] == [
        ("seq-1", "5.5", 1), ("seq-5", "9.5", 1),
        ("not-ranked", f"Not ranked, so not coloured ({SMALL})", 1)]


def test_unranked_rates_for_different_reasons_send_the_reader_to_each_square():
    map_ = tilemap.figure_map([
        (WEST_MERCIA, Reading("unranked", "9.5", 9.5, "one reason")),
        (CITY, Reading("unranked", "110.2", 110.2, SMALL)),
    ])
    assert ("not-ranked", "Not ranked, so not coloured: each square says why", 2) in [
        (e.fill, e.text, e.count) for e in map_.legend]


def test_a_rate_without_a_rank_reads_as_unranked_and_says_why():
    city = row("city-of-london", "2018-19", value=9)
    city.rate, city.rate_note = 110.2, SMALL
    ranked = row("west-mercia", "2018-19", value=122)
    ranked.rate, ranked.rate_rank, ranked.rate_ranked = 9.5, 20, 42
    found = tilemap.readings([city, ranked], "offences", "2018-19", show="rate")
    assert found["city-of-london"] == Reading(
        "unranked", f"110.2 per 100,000 people (9; not ranked: {SMALL}; not coloured by rate)",
        110.2, SMALL)
    assert found["west-mercia"] == Reading(
        "value", "9.5 per 100,000 people (122; rank 20 of 42 by rate)", 9.5)
