"""The JSON API: tokens, resources, paging, filters, problems, and the OpenAPI document."""

from __future__ import annotations

import re

from foitrack.models import ApiToken
from foitrack.services import api_tokens
from foitrack.web import api, permissions
from tests.factories import TEST_ACTOR, make_user
from tests.pages import csrf_token, sign_in


def test_no_token_is_refused_with_a_problem(client, grooming):
    response = client.get("/api/v1/campaigns")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401 and "Bearer" in response.headers["WWW-Authenticate"]
    assert client.get("/api/v1/campaigns", headers={"Authorization": "Bearer foit_nonsense"}
                      ).status_code == 401


def test_a_browser_session_does_not_open_the_api(client, session, grooming):
    # The API takes JSON without CSRF tokens, so a signed-in cookie alone must not drive it.
    user = make_user(session, role="admin")
    sign_in(client, user.email)
    assert client.get("/api/v1/campaigns").status_code == 401


def test_campaigns_and_their_links(client, grooming, tokens):
    response = client.get("/api/v1/campaigns", headers=tokens["viewer"])
    assert response.status_code == 200
    body = response.json
    assert body["total"] == 1 and body["next"] is None
    campaign, = body["items"]
    assert campaign["slug"] == "grooming-2019" and campaign["requests"] == 43
    assert campaign["links"]["aggregate"].endswith("/api/v1/campaigns/grooming-2019/aggregate")
    assert client.get("/api/v1/campaigns?status=closed", headers=tokens["viewer"]).json["total"] == 0
    bad = client.get("/api/v1/campaigns?status=finished", headers=tokens["viewer"])
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "status"


def test_the_aggregate_gives_the_published_totals(client, grooming, tokens):
    rows = client.get("/api/v1/campaigns/grooming-2019/aggregate?per_page=500",
                      headers=tokens["viewer"]).json["items"]
    totals = {r["period"]: r["total"] for r in rows if r["level"] == "total"}
    assert totals == {"2017-18": 3217, "2018-19": 4373, "two-years": 3217 + 4373}
    share = next(r for r in rows if r["category"] == "Instagram" and r["period"] == "2018-19")
    assert isinstance(share["share_where_recorded"], float)


def test_figures_are_paged_in_a_stable_order(client, grooming, tokens):
    first = client.get("/api/v1/campaigns/grooming-2019/figures?per_page=50",
                       headers=tokens["viewer"]).json
    assert first["total"] == 784 and len(first["items"]) == 50
    assert "page=2" in first["next"]
    second = client.get(first["next"], headers=tokens["viewer"]).json
    assert second["page"] == 2 and second["items"][0] != first["items"][0]
    pages = [first, second]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"], headers=tokens["viewer"]).json)
    every = [f for page in pages for f in page["items"]]
    assert len(every) == 784
    west_mercia = [f for f in every if f["authority_code"] == "E23000016" and not f["dimension"]]
    assert sorted((f["period"], f["value"]) for f in west_mercia) == [("2017-18", 73), ("2018-19", 122)]


def test_requests_filter_by_status(client, grooming, tokens):
    body = client.get("/api/v1/campaigns/grooming-2019/requests?status=not_sent&per_page=10",
                      headers=tokens["viewer"]).json
    assert body["total"] == 43 and len(body["items"]) == 10
    assert client.get("/api/v1/campaigns/grooming-2019/requests?status=answered",
                      headers=tokens["viewer"]).json["total"] == 0


def test_a_researcher_records_an_event_a_viewer_may_not(client, grooming, tokens):
    url = "/api/v1/campaigns/grooming-2019/requests/west-mercia/events"
    event = {"kind": "sent", "occurred_on": "2019-05-01"}
    refused = client.post(url, json=event, headers=tokens["viewer"])
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    made = client.post(url, json=event, headers=tokens["researcher"])
    assert made.status_code == 201
    assert made.json["status"] == "awaiting_response" and made.json["sent_on"] == "2019-05-01"
    assert made.json["events"][0]["kind"] == "sent"
    # A response cannot come before the request was sent: refused, nothing written.
    early = client.post(url, json={"kind": "response", "occurred_on": "2019-04-01",
                                   "outcome": "provided"}, headers=tokens["researcher"])
    assert early.status_code == 409 and early.json["errors"]
    after = client.get("/api/v1/campaigns/grooming-2019/requests/west-mercia", headers=tokens["viewer"])
    assert [e["kind"] for e in after.json["events"]] == ["sent"]


def test_bad_event_bodies_name_the_field(client, grooming, tokens):
    url = "/api/v1/campaigns/grooming-2019/requests/west-mercia/events"
    for body, field in ((["not", "an", "object"], None), ({"kind": "sent"}, "occurred_on"),
                        ({"kind": "posted", "occurred_on": "2019-05-01"}, "kind"),
                        ({"kind": "sent", "occurred_on": "2019-02-30"}, "occurred_on"),
                        ({"kind": "sent", "occurred_on": "2019-05-01", "colour": "red"}, "colour")):
        response = client.post(url, json=body, headers=tokens["researcher"])
        assert response.status_code == 422, body
        assert response.json["errors"][0]["field"] == field, body


def test_unknown_things_are_404_problems(client, grooming, tokens):
    for path in ("/api/v1/campaigns/nope", "/api/v1/campaigns/grooming-2019/requests/nope",
                 "/api/v1/authorities/nope", "/api/v1/no-such-thing"):
        response = client.get(path, headers=tokens["viewer"])
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path


def test_a_revoked_token_stops_working(client, session, grooming):
    user = make_user(session, role="viewer")
    token, plain = api_tokens.create_token(session, TEST_ACTOR, user, "one-off")
    session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    session.expire_all()
    assert session.get(ApiToken, token.id).last_used_at is not None
    api_tokens.revoke_token(session, TEST_ACTOR, user, token.id)
    session.commit()
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 401


def test_tokens_are_made_shown_once_and_revoked_from_the_page(client, session):
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    page = client.post("/account/tokens/", data={"name": "newsroom scripts",
                                                 "csrf_token": csrf_token(client, "/account/tokens/")})
    text = page.get_data(as_text=True)
    plain = text.split('id="new-token" value="')[1].split('"')[0]
    assert plain.startswith("foit_")
    assert client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    again = client.get("/account/tokens/").get_data(as_text=True)
    assert plain not in again and "newsroom scripts" in again
    token = session.query(ApiToken).one()
    assert token.token_hash != plain and plain not in token.token_hash
    client.post(f"/account/tokens/{token.id}/revoke",
                data={"csrf_token": csrf_token(client, "/account/tokens/")})
    assert client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
            routed |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed
    # And every API operation is in the access table with a role, the same table as the pages.
    assert all(op.endpoint in permissions.ROUTE_ROLES for op in api.OPERATIONS)


def test_a_deactivated_users_token_stops_working(client, session, grooming):
    user = make_user(session, role="researcher")
    _, plain = api_tokens.create_token(session, TEST_ACTOR, user, "leaver")
    session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 200
    user.active = False
    session.commit()
    assert client.get("/api/v1/campaigns", headers=headers).status_code == 401


def test_every_export_link_opens_with_the_token_and_gives_the_pages_download(client, session, grooming,
                                                                            tokens):
    import io
    import zipfile

    from openpyxl import load_workbook

    links = client.get("/api/v1/campaigns/grooming-2019", headers=tokens["viewer"]).json["links"]
    assert set(links) >= {"xlsx", "json", "data_package", "csv_figures", "csv_aggregate",
                          "csv_tracker", "csv_coverage", "csv_changes"}
    browser = client.application.test_client()
    sign_in(browser, make_user(session, role="viewer").email)
    for name, link in links.items():
        if name in ("requests", "figures", "aggregate"):
            continue
        path = link.removeprefix("http://localhost")
        response = client.get(path, headers=tokens["viewer"])
        assert response.status_code == 200, (name, response.status_code)
        assert "attachment" in response.headers["Content-Disposition"]
        # The same file the campaign page's link gives a signed-in browser (the XLSX and the
        # ZIP carry their build time, so those are compared by content below).
        page = browser.get(path.removeprefix("/api/v1"))
        assert page.status_code == 200, name
        if name.startswith("csv") or name == "json":
            assert response.data == page.data, name
    tidy = client.get("/api/v1/campaigns/grooming-2019/export.csv", headers=tokens["viewer"]).data
    assert tidy.startswith("\ufeff".encode()) and b"E23000016" in tidy
    workbook = load_workbook(io.BytesIO(client.get("/api/v1/campaigns/grooming-2019/export.xlsx",
                                                   headers=tokens["viewer"]).data))
    assert {"README", "Aggregate", "Figures", "Requests", "Coverage", "Changes", "Release",
            "Release numbers", "Methods"} <= set(workbook.sheetnames)
    package = zipfile.ZipFile(io.BytesIO(client.get(
        "/api/v1/campaigns/grooming-2019/export.zip", headers=tokens["viewer"]).data))
    assert "grooming-2019/datapackage.json" in package.namelist()


def test_the_changes_table_is_an_export_choice_in_the_document_and_the_api(client, grooming,
                                                                            tokens):
    document = client.get("/api/v1/openapi.json").json
    parameters = document["paths"]["/api/v1/campaigns/{slug}/export.{fmt}"]["get"]["parameters"]
    table = next(p for p in parameters if p["name"] == "table")
    assert table["schema"]["enum"] == ["figures", "aggregate", "tracker", "coverage", "changes",
                                       "reference_figures"]
    response = client.get("/api/v1/campaigns/grooming-2019/export.csv?table=changes",
                          headers=tokens["viewer"])
    assert response.status_code == 200
    assert response.get_data(as_text=True).splitlines()[0] == (
        "\ufeffmeasure,from_period,to_period,dimension,category,level,from_total,to_total,"
        "change,panel_size,panel_from,panel_to,panel_change,change_ratio,panel_ratio")


def test_bad_export_parameters_are_named_problems(client, grooming, tokens):
    for query, field in (("export.pdf", "fmt"), ("export.csv?table=secrets", "table"),
                         ("export.csv?checked=perhaps", "checked")):
        response = client.get(f"/api/v1/campaigns/grooming-2019/{query}", headers=tokens["viewer"])
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert response.json["errors"][0]["field"] == field
    assert client.get("/api/v1/campaigns/grooming-2019/export.csv").status_code == 401
