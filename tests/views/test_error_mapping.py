"""Domain errors are mapped once, for the whole app: NotFound 404, Forbidden 403, Conflict 409,
Invalid 422; problem+json under the API, the error page everywhere else."""

from __future__ import annotations

import pytest

from foitrack.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Problem
from foitrack.web import permissions

RAISED: dict[str, DomainError] = {
    "not-found": NotFound("no campaign 'hidden-plans'"),
    "forbidden": Forbidden("only the campaign's owner may do this"),
    "conflict": Conflict("someone else changed it first"),
    "invalid": Invalid([Problem("must be a whole number", field="count")]),
}
STATUS = {"not-found": 404, "forbidden": 403, "conflict": 409, "invalid": 422}


@pytest.fixture
def raising_app(app, monkeypatch):
    """The app with two routes that raise the error their URL names: one a page, one under the
    API (an ``api.`` endpoint belongs to the API blueprint), both open to everyone."""

    def raise_it(kind: str) -> None:
        raise RAISED[kind]

    app.add_url_rule("/raises/<kind>", endpoint="pages_under_test.raise_it", view_func=raise_it)
    app.add_url_rule("/api/v1/raises/<kind>", endpoint="api.raise_under_test",
                     view_func=raise_it)
    monkeypatch.setitem(permissions.ROUTE_ROLES, "pages_under_test.raise_it", permissions.PUBLIC)
    monkeypatch.setitem(permissions.ROUTE_ROLES, "api.raise_under_test", permissions.PUBLIC)
    return app


@pytest.mark.parametrize("kind", ["conflict", "forbidden", "not-found", "invalid"])
def test_a_domain_error_under_the_api_is_problem_json_with_its_status(raising_app, kind):
    response = raising_app.test_client().get(f"/api/v1/raises/{kind}")
    assert response.status_code == STATUS[kind]
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == STATUS[kind]


def test_the_api_problem_names_the_conflict_and_the_refusal(raising_app):
    client = raising_app.test_client()
    conflict = client.get("/api/v1/raises/conflict").get_json()
    assert conflict == {"type": "about:blank", "title": "Conflict", "status": 409,
                        "detail": "someone else changed it first"}
    forbidden = client.get("/api/v1/raises/forbidden").get_json()
    assert forbidden == {"type": "about:blank", "title": "Forbidden", "status": 403,
                         "detail": "only the campaign's owner may do this"}


def test_the_api_keeps_its_not_found_and_invalid_answers(raising_app):
    client = raising_app.test_client()
    assert client.get("/api/v1/raises/not-found").get_json() == {
        "type": "about:blank", "title": "Not Found", "status": 404,
        "detail": "no campaign 'hidden-plans'"}
    assert client.get("/api/v1/raises/invalid").get_json() == {
        "type": "about:blank", "title": "Unprocessable Content", "status": 422,
        "detail": "Nothing was changed: the input has problems.",
        "errors": [{"field": "count", "message": "must be a whole number"}]}


@pytest.mark.parametrize("kind", ["conflict", "forbidden", "not-found", "invalid"])
def test_a_domain_error_under_a_page_is_the_error_page_with_its_status(raising_app, kind):
    response = raising_app.test_client().get(f"/raises/{kind}")
    assert response.status_code == STATUS[kind]
    assert response.mimetype == "text/html"
    assert "Go to the start page" in response.get_data(as_text=True)


def test_a_page_says_what_clashed_or_was_wrong(raising_app):
    client = raising_app.test_client()
    conflict = client.get("/raises/conflict").get_data(as_text=True)
    assert "Not done" in conflict and "someone else changed it first" in conflict
    invalid = client.get("/raises/invalid").get_data(as_text=True)
    assert "Not accepted" in invalid and "count: must be a whole number" in invalid


def test_a_page_keeps_the_plain_words_of_a_404_and_a_403(raising_app):
    """A missing or hidden thing's own message is not shown: it could name what is hidden."""
    client = raising_app.test_client()
    missing = client.get("/raises/not-found").get_data(as_text=True)
    assert "There is no such page." in missing and "hidden-plans" not in missing
    assert missing == client.get("/no/such/page").get_data(as_text=True)
    refused = client.get("/raises/forbidden").get_data(as_text=True)
    assert "Your role does not allow this page." in refused
    assert "owner" not in refused
