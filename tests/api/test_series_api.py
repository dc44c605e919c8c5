"""GET /api/v1/series/<slug> (issue 18, section 2): the series page's table as JSON, with what
an embargoed campaign holds left out for a token whose user is not let in."""

from __future__ import annotations

import io

import jsonschema

from foitrack.services import api_tokens
from foitrack.services import series as service
from foitrack.services.design import create_from_file
from foitrack.services.figures import import_csv
from foitrack.web import api
from tests.factories import (
    TEST_ACTOR,
    fixture_design,
    fixture_figures,
    make_fixture_campaign,
    make_user,
)


def _linked(session):
    campaigns = [make_fixture_campaign(session, f"series-{year}") for year in (2019, 2020, 2021)]
    for source, repeat in zip(campaigns, campaigns[1:], strict=False):
        service.attach_repeat(session, source, repeat)
    session.commit()


def _token(session, user):
    _, plain = api_tokens.create_token(session, TEST_ACTOR, user, "scripts")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_the_series_as_json_matches_its_schema(client, session, tokens):
    _linked(session)
    response = client.get("/api/v1/series/series", headers=tokens["viewer"])
    assert response.status_code == 200
    body = response.json
    jsonschema.validate(body, api.SERIES_SCHEMA)
    assert [(n["period"], n["total"], n["authorities"]) for n in body["national"]] == [
        ("2017/18", 110, 3), ("2018/19", 131, 3), ("2019/20", 143, 3), ("2020/21", 104, 2)]
    assert [r["text"] for r in body["revisions"]] == [
        "revised: <5 in the 2020 campaign, 3 in the 2021 campaign",
        "revised: 73 in the 2019 campaign, 75 in the 2020 campaign"]


def test_an_embargoed_campaign_is_left_out_for_a_token_not_let_in(client, session):
    owner, outsider = make_user(session), make_user(session, role="viewer")
    _linked(session)
    hidden = create_from_file(session, TEST_ACTOR, fixture_design("series-2022"), owner=owner)
    import_csv(session, TEST_ACTOR, hidden, io.BytesIO(fixture_figures("series-2022")))
    service.link(session, TEST_ACTOR, service.get_series(session, "series"), hidden)
    session.commit()
    outside = client.get("/api/v1/series/series", headers=_token(session, outsider)).get_data(
        as_text=True)
    assert "777" not in outside and "series-2022" not in outside and "2021/22" not in outside
    inside = client.get("/api/v1/series/series", headers=_token(session, owner)).json
    assert inside["periods"][-1]["label"] == "2021/22"


def test_an_unknown_series_or_measure_is_a_problem(client, session, tokens):
    _linked(session)
    missing = client.get("/api/v1/series/nope", headers=tokens["viewer"])
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")
    bad = client.get("/api/v1/series/series?measure=victims", headers=tokens["viewer"])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "measure"
