"""Series across years (issue 18, section 2): three linked campaigns, each re-asking the year
before; figures matched by the period's dates, the latest answer used, revisions caught,
changes on matched panels, and an embargoed campaign kept from whoever is not let in."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import event, select

from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import AuditEntry, Campaign, Series
from foitrack.services import membership
from foitrack.services import series as service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from tests.factories import (
    EXAMPLE_DESIGN,
    TEST_ACTOR,
    fixture_design,
    fixture_figures,
    load_forces,
    make_fixture_campaign,
    make_user,
)

TODAY = dt.date(2024, 6, 1)
OPERATOR = membership.OPERATOR


def _linked(session, years=(2019, 2020, 2021)) -> list[Campaign]:
    """The series fixtures, each the repeat of the one before (as "Repeat next year" links)."""
    campaigns = [make_fixture_campaign(session, f"series-{year}") for year in years]
    for source, repeat in zip(campaigns, campaigns[1:], strict=False):
        service.attach_repeat(session, source, repeat)
    session.commit()
    return campaigns


def _embargoed(session, owner):
    campaign = create_from_file(session, TEST_ACTOR, fixture_design("series-2022"), owner=owner)
    import_csv(session, TEST_ACTOR, campaign, io.BytesIO(fixture_figures("series-2022")))
    session.commit()
    return campaign


def _values(table, slug):
    row = table.row(slug)
    return [None if (cell := row.cell(p)) is None else cell.text for p in table.periods]


def test_a_repeat_makes_a_series_named_from_its_source_without_the_year(session):
    first, second, third = _linked(session)
    series = session.scalar(select(Series))
    assert (series.slug, series.name) == ("series", "Online grooming")
    assert [c.slug for c in series.campaigns] == ["series-2019", "series-2020", "series-2021"]
    assert first.series_id == second.series_id == third.series_id == series.id


def test_a_series_is_not_named_after_a_source_hidden_from_its_repeats_readers(session):
    """An open repeat of an embargoed campaign: whoever sees the repeat sees the series'
    name, so it is the repeat's, not the hidden source's."""
    load_forces(session)
    secret = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "secret-2019"\nembargo_until = 2099-01-01').replace(
        'title = "Sexual communication with a child, 2017/18 and 2018/19"',
        'title = "Unpublished findings 2019"'))
    open_repeat = create_from_file(session, TEST_ACTOR, EXAMPLE_DESIGN.replace(
        'slug = "grooming-2019"', 'slug = "open-2020"\nrepeat_of = "secret-2019"'))
    assert secret.series is open_repeat.series
    assert (secret.series.slug, "Unpublished" in secret.series.name) == ("open", False)


def test_a_second_series_from_the_same_slug_gets_a_number(session):
    _linked(session, (2019, 2020))
    other = make_fixture_campaign(session, "series-2021")
    repeat = make_fixture_campaign(session, "grooming-2019")
    made = service.attach_repeat(session, other, repeat)
    assert made.slug == "series-2"


def test_periods_are_matched_by_their_dates_not_their_keys(session):
    _linked(session)
    table = service.series_table(session, service.get_series(session, "series"), OPERATOR, TODAY)
    assert [(p.label, p.start, p.end) for p in table.periods] == [
        ("2017/18", dt.date(2017, 4, 1), dt.date(2018, 3, 31)),
        ("2018/19", dt.date(2018, 4, 1), dt.date(2019, 3, 31)),
        ("2019/20", dt.date(2019, 4, 1), dt.date(2020, 3, 31)),
        ("2020/21", dt.date(2020, 4, 1), dt.date(2021, 3, 31)),
    ]
    assert [(p.campaign, p.asked_by) for p in table.periods] == [
        ("series-2019", ("series-2019",)),
        ("series-2020", ("series-2019", "series-2020")),
        ("series-2021", ("series-2020", "series-2021")),
        ("series-2021", ("series-2021",)),
    ]


def test_each_authority_has_its_most_recent_answer_for_each_period(session):
    _linked(session)
    table = service.series_table(session, service.get_series(session, "series"), OPERATOR, TODAY)
    assert [r.authority.slug for r in table.rows] == ["cumbria", "kent", "west-mercia"]
    assert _values(table, "west-mercia") == ["60", "75", "90", "100"]
    assert _values(table, "cumbria") == ["10", "12", "3", "4"]
    # Kent did not answer 2018/19 again in 2020: its 2019 answer stands.
    assert _values(table, "kent") == ["40", "44", "50", "not recorded"]
    assert table.row("kent").cells[(dt.date(2018, 4, 1), dt.date(2019, 3, 31))].campaign == \
        "series-2019"
    assert table.row("west-mercia").cells[(dt.date(2018, 4, 1), dt.date(2019, 3, 31))].revised


def test_national_totals_count_only_exact_figures(session):
    _linked(session)
    table = service.series_table(session, service.get_series(session, "series"), OPERATOR, TODAY)
    assert [(p.period.label, p.total, p.authorities, p.asked) for p in table.national] == [
        ("2017/18", 110, 3, 3), ("2018/19", 131, 3, 3), ("2019/20", 143, 3, 3),
        ("2020/21", 104, 2, 3)]


def test_changes_are_on_the_matched_panel_of_consecutive_periods_of_the_same_length(session):
    _linked(session)
    table = service.series_table(session, service.get_series(session, "series"), OPERATOR, TODAY)
    assert [(c.from_period.label, c.to_period.label, c.panel_size, c.panel_from, c.panel_to,
             c.change, c.comparable) for c in table.changes] == [
        ("2017/18", "2018/19", 3, 110, 131, 21, True),
        ("2018/19", "2019/20", 3, 131, 143, 12, True),
        # Kent's 2020/21 is "not recorded": it leaves the panel, not the total's 50.
        ("2019/20", "2020/21", 2, 93, 104, 11, True),
    ]
    assert table.change("2019/20", "2020/21").ratio == pytest.approx(104 / 93)


def test_a_different_answer_to_a_period_asked_again_is_a_revision(session):
    _linked(session)
    found = service.series_revisions(session, service.get_series(session, "series"), OPERATOR,
                                     TODAY)
    assert [(r.authority.slug, r.period_label, r.earlier.slug, r.earlier_text, r.later.slug,
             r.later_text) for r in found] == [
        ("cumbria", "2019/20", "series-2020", "<5", "series-2021", "3"),
        ("west-mercia", "2018/19", "series-2019", "73", "series-2020", "75"),
    ]
    mercia = found[1]
    assert mercia.sentence == "revised: 73 in the 2019 campaign, 75 in the 2020 campaign"
    assert mercia.used == "The 2019 campaign's release used 73; the 2020 campaign's used 75"


def test_a_later_refusal_takes_no_figure_back(session):
    """Kent gave 44 for 2018/19 in 2019; asked again in 2020 it withheld it. The 44 stays in
    the table, the national total and the matched panel, and is no revision."""
    _first, second, _third = _linked(session)
    import_csv(session, TEST_ACTOR, second, io.BytesIO(
        b"authority,measure,period,dimension,category,value,caveat,source\n"
        b"E23000032,offences,fy2018,,,withheld s.12,,Reply\n"))
    session.commit()
    series = service.get_series(session, "series")
    table = service.series_table(session, series, OPERATOR, TODAY)
    assert _values(table, "kent") == ["40", "44", "50", "not recorded"]
    assert [(p.total, p.authorities) for p in table.national][1] == (131, 3)
    assert [(c.panel_size, c.panel_to) for c in table.changes][0] == (3, 131)
    assert [(r.authority.slug, r.later_text) for r in table.later_refusals] == [
        ("kent", "withheld s.12")]
    assert [r.authority.slug for r in service.series_revisions(session, series, OPERATOR,
                                                               TODAY)] == [
        "cumbria", "west-mercia"]


def test_each_campaign_s_own_aggregate_keeps_its_own_answer(session):
    from foitrack.services import aggregate

    first, second, _third = _linked(session)
    assert aggregate.build(session, first).row("offences", "2018-19").total == 73 + 12 + 44
    assert aggregate.build(session, second).row("offences", "fy2018").total == 75 + 12


def test_an_embargoed_campaign_is_left_out_for_whoever_is_not_let_in(session):
    owner = make_user(session)
    outsider = make_user(session, role="viewer")
    _linked(session)
    hidden = _embargoed(session, owner)
    service.link(session, TEST_ACTOR, service.get_series(session, "series"), hidden)
    session.commit()
    series = service.get_series(session, "series")

    seen = service.series_table(session, series, outsider, TODAY)
    assert [p.label for p in seen.periods] == ["2017/18", "2018/19", "2019/20", "2020/21"]
    assert _values(seen, "west-mercia")[-1] == "100"
    assert "series-2022" not in {c.slug for c in seen.campaigns}
    assert all(r.later.slug != "series-2022"
               for r in service.series_revisions(session, series, outsider, TODAY))
    assert [s.campaigns[-1][0] for s in service.list_series(session, outsider, TODAY)] == [
        "series-2021"]

    let_in = service.series_table(session, series, owner, TODAY)
    assert [p.label for p in let_in.periods][-1] == "2021/22"
    assert _values(let_in, "west-mercia")[-2:] == ["101", "777"]


def test_a_table_of_chosen_campaigns_never_adds_one_the_viewer_may_not_see(session):
    # A page keys its kept table on the campaigns it saw the viewer may see; the table is built
    # of those alone, so a membership changed in between can leave one out, never add one.
    owner = make_user(session)
    outsider = make_user(session, role="viewer")
    linked = _linked(session)
    hidden = _embargoed(session, owner)
    series = service.get_series(session, "series")
    service.link(session, TEST_ACTOR, series, hidden)
    session.commit()
    chosen = [linked[0].id, hidden.id]
    for_owner = service.series_table(session, series, owner, TODAY, only=chosen)
    assert {c.slug for c in for_owner.campaigns} == {linked[0].slug, "series-2022"}
    for_outsider = service.series_table(session, series, outsider, TODAY, only=chosen)
    assert {c.slug for c in for_outsider.campaigns} == {linked[0].slug}


def test_a_series_of_hidden_campaigns_does_not_exist_for_an_outsider(session):
    owner = make_user(session)
    outsider = make_user(session, role="viewer")
    make_fixture_campaign(session, "series-2019")  # loads the forces
    hidden = _embargoed(session, owner)
    made = service.create_series(session, TEST_ACTOR, slug="secret", name="Secret")
    service.link(session, TEST_ACTOR, made, hidden)
    session.commit()
    with pytest.raises(NotFound):
        service.visible_series(session, "secret", outsider, TODAY)
    assert service.list_series(session, outsider, TODAY) == []
    assert service.visible_series(session, "secret", owner, TODAY).slug == "secret"


def test_the_table_is_read_in_a_fixed_number_of_queries(session, app):
    _linked(session)
    series = service.get_series(session, "series")
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        service.series_table(session, series, OPERATOR, TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 5


def test_a_measure_no_campaign_has_is_refused_by_name(session):
    _linked(session)
    with pytest.raises(Invalid, match="'victims'.*its measures: offences") as raised:
        service.series_table(session, service.get_series(session, "series"), OPERATOR, TODAY,
                             "victims")
    assert raised.value.problems[0].field == "measure"


def test_link_unlink_and_the_one_series_rule(session):
    first, second, _third = _linked(session, (2019, 2020, 2021))
    other = service.create_series(session, TEST_ACTOR, slug="other", name="Other")
    with pytest.raises(Conflict, match="already in the series 'series'"):
        service.link(session, TEST_ACTOR, other, first)
    assert service.unlink(session, TEST_ACTOR, first).slug == "series"
    service.link(session, TEST_ACTOR, other, first)
    session.commit()
    assert first.series.slug == "other"
    with pytest.raises(Conflict, match="in no series"):
        service.unlink(session, TEST_ACTOR, make_fixture_campaign(session, "grooming-2019"))
    assert session.scalars(select(AuditEntry.after).where(
        AuditEntry.entity_type == "campaign", AuditEntry.entity_id == str(first.id),
        AuditEntry.action == "update")).all()[-2:] == [{"series": None}, {"series": "other"}]


def test_create_names_each_bad_field(session):
    with pytest.raises(Invalid) as raised:
        service.create_series(session, TEST_ACTOR, slug="Bad Slug", name="")
    assert [p.field for p in raised.value.problems] == ["slug", "name"]
    service.create_series(session, TEST_ACTOR, slug="taken", name="Taken")
    with pytest.raises(Invalid, match="already the name of a series"):
        service.create_series(session, TEST_ACTOR, slug="taken", name="Again")


def test_an_unknown_series_is_not_found(session):
    with pytest.raises(NotFound, match="no series 'nope'"):
        service.get_series(session, "nope")
