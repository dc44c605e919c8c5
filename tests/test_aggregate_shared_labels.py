"""Categories that share a label across dimensions (every dimension has a "Not recorded") keep
their own numbers: in the changes, the matched panels and the period groups (issue 14, point 1),
and a period group counts only the authorities with a usable figure in each of its periods
(point 6)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from foitrack.services import aggregate, figures, requests
from foitrack.services.design import create_from_file
from tests.factories import TEST_ACTOR, load_forces

AUTHORITIES = ["kent", "surrey", "sussex", "gwent"]

# The README's example design, for three forces.
README_DESIGN = '''
slug = "grooming-2019"
title = "Sexual communication with a child, 2017/18 and 2018/19"
authorities = ["kent", "surrey", "sussex"]
request_text = """Dear {{ authority.name }}, ..."""

[[measures]]
key = "offences"
label = "Offences of sexual communication with a child recorded"
unit = "offences"

[[periods]]
key = "2017-18"
label = "2017/18"
start = 2017-04-01
end = 2018-03-31

[[periods]]
key = "2018-19"
label = "2018/19"
start = 2018-04-01
end = 2019-03-31

[[period_groups]]
key = "two-years"
label = "the two years"
periods = ["2017-18", "2018-19"]

[[dimensions]]
key = "platform"
label = "Communication method"
categories = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other"]
not_recorded = "Not recorded"

[[dimensions]]
key = "age"
label = "Victim age"
categories = ["0-5", "6-8", "9-11", "12-13", "14-15", "16-17"]
not_recorded = "Not recorded"

[[groups]]
key = "facebook-owned"
label = "Facebook-owned apps"
dimension = "platform"
categories = ["Facebook", "Messenger", "Instagram", "WhatsApp"]

[[groups]]
key = "aged-11-or-under"
label = "Aged 11 or younger"
dimension = "age"
categories = ["0-5", "6-8", "9-11"]
'''


def _save(session, campaign, values):
    """``values``: (authority, period, dimension, category) -> the figure as given."""
    for slug in {key[0] for key in values}:
        entries = [figures.Entry("offences", period, dimension, category, text)
                   for (who, period, dimension, category), text in values.items() if who == slug]
        figures.save_figures(session, TEST_ACTOR, requests.get_request(session, campaign.slug, slug),
                             entries)


def _readme_campaign(session, values):
    load_forces(session)
    campaign = create_from_file(session, TEST_ACTOR, README_DESIGN)
    _save(session, campaign, values)
    return campaign


# Platform "Not recorded" 789 -> 929; age was asked about in 2018/19 only, "Not recorded" 742.
NOT_RECORDED = {
    **{(force, "2017-18", "platform", "Not recorded"): text
       for force, text in (("kent", "300"), ("surrey", "289"), ("sussex", "200"))},
    **{(force, "2018-19", "platform", "Not recorded"): text
       for force, text in (("kent", "400"), ("surrey", "329"), ("sussex", "200"))},
    **{(force, "2018-19", "age", "Not recorded"): text
       for force, text in (("kent", "342"), ("surrey", "200"), ("sussex", "200"))},
    **{(force, "2018-19", "age", "12-13"): "10" for force in ("kent", "surrey", "sussex")},
}


def test_the_same_label_in_two_dimensions_keeps_its_own_change(session):
    campaign = _readme_campaign(session, NOT_RECORDED)
    result = aggregate.build(session, campaign)
    changes = {(c.dimension, c.category): c for c in result.changes
               if (c.measure, c.from_period, c.to_period) == ("offences", "2017-18", "2018-19")}
    platform = changes[("platform", "Not recorded")]
    assert (platform.from_total, platform.to_total) == (789, 929)
    assert (platform.panel_size, platform.panel_from, platform.panel_to) == (3, 789, 929)
    # Age was not asked about in 2017/18: no change, and no baseline borrowed from platform.
    assert not [c for c in result.changes if c.dimension == "age"]
    two_years = [r for r in result.rows if r.cell.period == "two-years"]
    nr = [r for r in two_years if (r.cell.dimension, r.cell.category) == ("platform", "Not recorded")]
    assert [(r.total, r.coverage) for r in nr] == [(1718, "3 of 3")]
    # A dimension asked in only one of the two years gets no row for the two years.
    assert not [r for r in two_years if r.cell.dimension == "age"]


def test_a_shared_label_must_name_its_dimension(session):
    campaign = _readme_campaign(session, NOT_RECORDED)
    result = aggregate.build(session, campaign)
    assert result.row("offences", "2018-19", "Not recorded", "platform").total == 929
    assert result.row("offences", "2018-19", "Not recorded", "age").total == 742
    with pytest.raises(KeyError, match="platform.*age|age.*platform"):
        result.row("offences", "2018-19", "Not recorded")
    change = result.change("offences", "2017-18", "2018-19", "Not recorded", dimension="platform")
    assert (change.from_total, change.to_total) == (789, 929)
    with pytest.raises(KeyError):
        result.change("offences", "2017-18", "2018-19", "Not recorded", dimension="age")
    # A label found in one dimension only still needs no dimension.
    assert result.row("offences", "2018-19", "12-13").total == 30


def test_a_period_group_counts_only_authorities_with_a_figure_in_every_period(session):
    values = {
        ("kent", "2017-18", None, None): "50", ("kent", "2018-19", None, None): "70",
        ("surrey", "2017-18", None, None): "<5", ("surrey", "2018-19", None, None): "20",
        # Sussex gave a total for 2018/19 only, and "not recorded" for 2017/18.
        ("sussex", "2017-18", None, None): "not recorded", ("sussex", "2018-19", None, None): "90",
        ("kent", "2017-18", "platform", "Instagram"): "10",
        ("kent", "2018-19", "platform", "Instagram"): "15",
        ("surrey", "2018-19", "platform", "Instagram"): "8",
        ("surrey", "2017-18", "platform", "Facebook"): "4",
        ("surrey", "2018-19", "platform", "Facebook"): "1-4",
    }
    campaign = _readme_campaign(session, values)
    result = aggregate.build(session, campaign)
    total = result.row("offences", "two-years")
    assert (total.total, total.lower_bound, total.upper_bound) == (140, 140, 144)
    assert (total.with_figure, total.left_out, total.complete_only) == (2, 1, True)
    assert total.counts["not_recorded"] == 1  # Sussex's 2017/18, why it is left out
    instagram = result.row("offences", "two-years", "Instagram", "platform")
    assert (instagram.total, instagram.with_figure, instagram.left_out) == (25, 1, 1)
    # The group adds its members' two-year rows: Surrey's Instagram (2018/19 only) is left out.
    group = result.row("offences", "two-years", "facebook-owned", "platform")
    assert (group.total, group.lower_bound, group.upper_bound) == (29, 30, 33)
    assert (group.with_figure, group.left_out) == (2, 0)
    assert not result.row("offences", "2018-19").complete_only


# ---- the property: random designs whose labels collide ----------------------------------------

LABELS = ["Instagram", "Snapchat", "Other", "Unknown", "Not recorded"]
DIMENSIONS = ["platform", "age", "place"]
PERIODS = [("2016-17", 2016), ("2017-18", 2017), ("2018-19", 2018)]
VALUES = st.one_of(st.integers(0, 300).map(str),
                   st.sampled_from(["<5", "1-4", "not recorded", "withheld s.40", "not held"]))


@dataclass(frozen=True)
class Design:
    periods: tuple[str, ...]
    group_periods: tuple[str, ...]
    dimensions: tuple[tuple[str, str, tuple[str, ...]], ...]  # key, not-recorded, categories
    groups: tuple[tuple[str, str, tuple[str, ...]], ...]  # key, dimension, members

    def toml(self) -> str:
        years = dict(PERIODS)
        text = [f'slug = "shared-labels"\ntitle = "Shared labels"\n'
                f'authorities = {AUTHORITIES!r}\nrequest_text = "Dear {{{{ authority.name }}}}"\n'
                '[[measures]]\nkey = "offences"\nlabel = "Offences"\n'.replace("'", '"')]
        for key in self.periods:
            year = years[key]
            text.append(f'[[periods]]\nkey = "{key}"\nlabel = "{key}"\nstart = {year}-04-01\n'
                        f'end = {year + 1}-03-31\n')
        text.append(f'[[period_groups]]\nkey = "the-group"\nlabel = "the group"\n'
                    f'periods = {list(self.group_periods)!r}\n'.replace("'", '"'))
        for key, not_recorded, labels in self.dimensions:
            text.append(f'[[dimensions]]\nkey = "{key}"\nlabel = "{key.title()}"\n'
                        f'categories = {list(labels)!r}\nnot_recorded = "{not_recorded}"\n'
                        .replace("'", '"'))
        for key, dimension, members in self.groups:
            text.append(f'[[groups]]\nkey = "{key}"\nlabel = "A group"\ndimension = "{dimension}"\n'
                        f'categories = {list(members)!r}\n'.replace("'", '"'))
        return "".join(text)

    def cells(self) -> list[tuple[str, str | None, str | None, tuple[str | None, ...]]]:
        """(level, dimension, category label or group key, member labels) of every cell."""
        found: list[tuple[str, str | None, str | None, tuple[str | None, ...]]] = [
            ("total", None, None, (None,))]
        for key, not_recorded, labels in self.dimensions:
            found += [("category", key, label, (label,)) for label in (*labels, not_recorded)]
        found += [("group", dimension, key, members) for key, dimension, members in self.groups]
        return found


@st.composite
def designs(draw) -> Design:
    count = draw(st.integers(2, 3))
    periods = tuple(key for key, _ in PERIODS[3 - count:])
    group_periods = tuple(draw(st.lists(st.sampled_from(periods), min_size=2, max_size=count,
                                        unique=True)))
    dimensions, groups = [], []
    for key in DIMENSIONS[:draw(st.integers(2, 3))]:
        not_recorded = draw(st.sampled_from(["Not recorded", "Unknown"]))
        labels = tuple(draw(st.lists(st.sampled_from([x for x in LABELS if x != not_recorded]),
                                     min_size=1, max_size=3, unique=True)))
        dimensions.append((key, not_recorded, labels))
        if draw(st.booleans()):
            groups.append((f"{key}-group", key, tuple(draw(st.lists(
                st.sampled_from(labels), min_size=1, unique=True)))))
    return Design(periods, group_periods, tuple(dimensions), tuple(groups))


@st.composite
def campaigns(draw) -> tuple[Design, dict[tuple[str, str, str | None, str | None], str]]:
    """A design and its figures: for some authorities and cells, a value in some periods."""
    design = draw(designs())
    places = [(dimension, label) for level, dimension, label, _ in design.cells()
              if level != "group"]
    by_period = st.tuples(*(st.one_of(st.none(), VALUES) for _ in design.periods))
    drawn = draw(st.dictionaries(st.tuples(st.sampled_from(AUTHORITIES), st.sampled_from(places)),
                                 by_period, min_size=8, max_size=24))
    return design, {(who, period, *place): text for (who, place), texts in drawn.items()
                    for period, text in zip(design.periods, texts, strict=True)
                    if text is not None}


def _parsed(text: str) -> tuple[str, int, int]:
    """(kind, lower, upper) of a figure as given: exact, suppressed, or anything else."""
    if text.isdigit():
        return "exact", int(text), int(text)
    if text in ("<5", "1-4"):
        return "suppressed", 0 if text == "<5" else 1, 4
    return "other", 0, 0


def _expected_changes(design, values):
    """Every change and its matched panel, counted in plain Python."""
    expected = {}
    for level, dimension, category, members in design.cells():
        def given(who, period, members=members, dimension=dimension):
            return [_parsed(values[(who, period, dimension, m)]) for m in members
                    if (who, period, dimension, m) in values]
        for i, earlier in enumerate(design.periods):
            for later in design.periods[i + 1:]:
                before = [f for who in AUTHORITIES for f in given(who, earlier)]
                after = [f for who in AUTHORITIES for f in given(who, later)]
                if not before or not after:
                    continue
                panel = [(sum(f[1] for f in given(who, earlier)), sum(f[1] for f in given(who, later)))
                         for who in AUTHORITIES
                         if given(who, earlier) and given(who, later)
                         and all(f[0] == "exact" for f in given(who, earlier) + given(who, later))]
                expected[(level, dimension, category, earlier, later)] = (
                    sum(f[1] for f in before if f[0] == "exact"),
                    sum(f[1] for f in after if f[0] == "exact"),
                    len(panel), sum(p[0] for p in panel), sum(p[1] for p in panel))
    return expected


def _expected_group_rows(design, values):
    """The period group's rows: (total, lower, upper, usable, left out) for each cell."""
    expected = {}
    periods = design.group_periods
    for level, dimension, category, members in design.cells():
        asked = all(any(key[1] == period and key[2] == dimension for key in values)
                    for period in periods)
        if not asked or not any((who, period, dimension, m) in values for who in AUTHORITIES
                                for period in periods for m in members):
            continue
        total = lower = upper = 0
        usable, any_usable = set(), set()
        for who in AUTHORITIES:
            for member in members:
                given = [_parsed(values[(who, p, dimension, member)]) for p in periods
                         if (who, p, dimension, member) in values]
                if any(f[0] != "other" for f in given):
                    any_usable.add(who)
                if len(given) == len(periods) and all(f[0] != "other" for f in given):
                    usable.add(who)
                    total += sum(f[1] for f in given if f[0] == "exact")
                    lower += sum(f[1] for f in given)
                    upper += sum(f[2] for f in given)
        expected[(level, dimension, category)] = (total, lower, upper, len(usable),
                                                  len(any_usable - usable))
    return expected


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=campaigns())
@pytest.mark.slow
def test_changes_panels_and_period_groups_keep_each_dimension_apart(session, drawn):
    design, values = drawn
    try:
        load_forces(session)
        campaign = create_from_file(session, TEST_ACTOR, design.toml())
        _save(session, campaign, values)
        result = aggregate.build(session, campaign, with_authorities=False)
        rows = {(r.cell.level, r.cell.dimension, r.cell.category, r.cell.period): r
                for r in result.rows}
        assert len(rows) == len(result.rows)  # one row a cell
        found = {}
        for change in result.changes:
            key = (change.level, change.dimension, change.category)
            before, after = rows.get((*key, change.from_period)), rows.get((*key, change.to_period))
            assert before is not None and after is not None, f"{change} compares a missing cell"
            assert (change.from_total, change.to_total) == (before.total, after.total)
            found[(*key, change.from_period, change.to_period)] = (
                change.from_total, change.to_total, change.panel_size, change.panel_from,
                change.panel_to)
        assert found == _expected_changes(design, values)
        in_group = {key[:3]: (r.total, r.lower_bound, r.upper_bound, r.with_figure, r.left_out)
                    for key, r in rows.items() if key[3] == "the-group"}
        assert in_group == _expected_group_rows(design, values)
        labels = {key[2] for key in found if key[0] == "category"}
        shared = any(len({key[1] for key in found if key[2] == label}) > 1 for label in labels)
        event(f"changes in a label shared by dimensions: {shared}")
        event(f"period-group rows left out authorities: {any(v[4] for v in in_group.values())}")
    finally:
        session.rollback()
