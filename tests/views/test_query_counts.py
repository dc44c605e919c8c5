"""Pages run the same number of SQL queries however much data there is (no N+1)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from benchmarks.generate import generate
from tests.factories import make_user
from tests.pages import sign_in

PAGES = [
    "/", "/campaigns/", "/campaigns/bench-0", "/campaigns/bench-0/aggregate", "/chase",
    "/authorities/", "/authorities/west-mercia", "/campaigns/bench-0/requests/west-mercia",
    "/campaigns/bench-0/requests/west-mercia/figures", "/campaigns/bench-0/release",
    "/campaigns/bench-0/fact-sheets/", "/mail/outbox", "/mail/inbox",
    # A page of a filtered list, and the images drawn from the kept aggregate.
    "/campaigns/bench-0?status=awaiting_response&page=1", "/chase?due_soon=1&page=1",
    "/campaigns/bench-0/aggregate?checked=1", "/campaigns/bench-0/charts/national-total-offences.svg",
    "/campaigns/bench-0/fact-sheets/west-mercia/charts/offences.svg",
]


def count_queries(app, client, path: str) -> int:
    engine = app.extensions["foitrack.db"].engine
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
        assert response.status_code == 200, path
        response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def all_counts(app, session) -> dict[str, int]:
    # Counted as built, not as kept: a write to other campaigns leaves bench-0's pages cached.
    app.extensions.pop("foitrack.web.page_cache", None)
    user = make_user(session, role="researcher")
    client = app.test_client()
    sign_in(client, user.email)
    return {path: count_queries(app, client, path) for path in PAGES}


@pytest.mark.slow
def test_pages_run_as_many_queries_with_three_times_the_data(app, session):
    generate(session, 1000)  # one campaign to the 43 forces, with timelines and figures
    session.commit()
    small = all_counts(app, session)
    generate(session, 2000, seed=2, first=1)  # two more campaigns: three times the data
    session.commit()
    assert all_counts(app, session) == small
