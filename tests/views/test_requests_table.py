"""The campaign page's requests table: search, the filters, the column sort, and the choices
kept through the page links and a bulk action."""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import event, select

from foitrack.models import Figure, Request
from foitrack.services import figures as figure_service
from foitrack.services import requests as request_service
from foitrack.web.views import paging
from tests.factories import (
    CHECKS_DESIGN,
    MERCIA,
    TEST_ACTOR,
    enter_figures,
    load_forces,
    make_campaign,
    make_user,
    respond,
)
from tests.pages import bulk, csrf_token, post_new_campaign, sign_in, statuses

URL = "/campaigns/grooming-2019"
LATE = ["essex", "kent", "surrey", "sussex"]  # sent 1 May: due 31 May, late on 4 June
SOON = ["dorset", "gwent"]  # sent 8 May: due within the next five working days


@pytest.fixture
def researcher(app, client, session, monkeypatch):
    # Ten rows a page, so the 43 forces make five pages.
    monkeypatch.setattr(paging, "PAGE_SIZE", 10)
    app.config["TODAY"] = dt.date(2019, 6, 4)
    load_forces(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    post_new_campaign(client)
    bulk(client, "sent", "2019-05-01", LATE)
    bulk(client, "sent", "2019-05-08", SOON)
    bulk(client, "chaser_sent", "2019-06-03", ["kent"])
    found = request_service.get_request(session, "grooming-2019", "west-mercia")
    request_service.set_reference(session, TEST_ACTOR, found, "FOI/2019/0457")
    session.commit()
    respond(session, "grooming-2019", "cumbria", outcome="refused", exemptions="s.12",
            today=dt.date(2019, 6, 4))
    return user


def names(client, query: str = "") -> list[str]:
    response = client.get(f"{URL}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(statuses(response.get_data(as_text=True)))


def text(client, query: str) -> str:
    return client.get(f"{URL}{query}").get_data(as_text=True)


def test_search_finds_by_name_in_any_case(client, researcher):
    assert names(client, "?q=mercia") == ["West Mercia Police"]
    assert names(client, "?q=YORK") == ["North Yorkshire Police", "South Yorkshire Police",
                                        "West Yorkshire Police"]
    page = text(client, "?q=york")
    assert 'value="york"' in page and "3 of 43 requests shown, matching “york”." in page


def test_search_finds_by_reference(client, researcher):
    assert names(client, "?q=2019%2F0457") == ["West Mercia Police"]
    assert names(client, "?q=foi%2F2019") == ["West Mercia Police"]


def test_a_search_that_finds_nothing_says_so(client, researcher):
    page = text(client, "?q=atlantis")
    assert statuses(page) == {} and "No request matches “atlantis”." in page


def test_search_and_filter_together(client, researcher):
    assert names(client, "?status=late&q=su") == ["Surrey Police", "Sussex Police"]


def option(page: str, value: str) -> str:
    match = re.search(rf'<option value="{value}" ?(?:selected)?>([^<]+)</option>', page)
    assert match, f"no option {value}"
    return match.group(1)


def test_the_late_filters_due_soon_and_not_chased(client, researcher):
    assert names(client, "?status=late") == ["Essex Police", "Kent Police", "Surrey Police",
                                             "Sussex Police"]
    assert names(client, "?status=due_soon") == ["Dorset Police", "Gwent Police"]
    # Late, and no chaser sent: Kent was chased yesterday.
    assert names(client, "?status=not_chased") == ["Essex Police", "Surrey Police",
                                                   "Sussex Police"]
    page = text(client, "")
    assert option(page, "late") == "Late (4)"
    assert option(page, "due_soon") == "Due soon (2)"
    assert option(page, "not_chased") == "Late, never chased (3)"


def test_the_refused_filter_agrees_with_the_summary(client, researcher):
    assert names(client, "?status=refused") == ["Cumbria Constabulary"]
    page = text(client, "")
    assert option(page, "refused") == "Refused (1)" and "1 refused" in page


def test_a_filter_that_shows_nothing_is_not_offered(client, researcher):
    page = text(client, "")
    assert 'value="findings"' not in page and 'value="unchecked"' not in page
    # Asked for anyway (a link from before), it is shown with its count, chosen.
    assert '<option value="unchecked" selected>Figures not yet checked (0)</option>' in \
        text(client, "?status=unchecked")


@pytest.fixture
def checked_campaign(app, client, session):
    """Two forces: West Mercia's figures jump eightfold (an open finding) and a second
    researcher has checked them; Sussex's are consistent and nobody has checked them."""
    app.config["TODAY"] = dt.date(2019, 7, 1)
    campaign = make_campaign(session, CHECKS_DESIGN)
    for slug in ("west-mercia", "sussex"):
        respond(session, "checks", slug)
    enter_figures(session, campaign, (MERCIA, "2017-18", "", "", "8"),
                  (MERCIA, "2018-19", "", "", "31"), ("E23000033", "2018-19", "", "", "5"))
    checker = make_user(session)
    mercia = session.scalars(select(Figure).join(Request).join(Request.authority)
                             .where(Request.campaign_id == campaign.id)).all()
    figure_service.check_figures(session, TEST_ACTOR,
                                 [f for f in mercia if f.request.authority.slug == "west-mercia"],
                                 checker)
    session.commit()
    sign_in(client, make_user(session).email)
    return campaign


def test_the_figures_unchecked_filter(client, checked_campaign):
    page = client.get("/campaigns/checks?status=unchecked").get_data(as_text=True)
    assert list(statuses(page)) == ["Sussex Police"]
    assert option(page, "unchecked") == "Figures not yet checked (1)"


def test_the_consistency_findings_filter(client, checked_campaign):
    page = client.get("/campaigns/checks?status=findings").get_data(as_text=True)
    assert list(statuses(page)) == ["West Mercia Police"]
    assert option(page, "findings") == "Open consistency findings (1)"
    assert "Consistency checks (1 open)" in page


def header(page: str, label: str) -> str:
    match = re.search(rf'<th scope="col"[^>]*><a class="sort-link"[^>]*>{re.escape(label)}'
                      r'.*?</th>', page)
    assert match, f"no sortable header {label}"
    return match.group(0)


def test_sort_by_due_both_ways_with_aria_sort(client, researcher):
    everyone = [name for number in range(1, 6) for name in names(client, f"?page={number}")]
    # The headers are links, each keeping the filter and the search; Authority is sorted now.
    page = text(client, "?status=awaiting_response")
    assert 'aria-sort="ascending"' in header(page, "Authority")
    due = header(page, "Due")
    assert "aria-sort" not in due
    assert 'href="/campaigns/grooming-2019?status=awaiting_response&amp;sort=due#requests"' in due

    ascending = text(client, "?sort=due")
    assert 'aria-sort="ascending"' in header(ascending, "Due")
    assert "aria-sort" not in header(ascending, "Authority")
    assert 'href="/campaigns/grooming-2019?sort=due&amp;order=desc#requests"' in \
        header(ascending, "Due")
    # Earliest due first (Cumbria's, answered, was due in May); the requests with no due date
    # (not sent) last, by name.
    dated = ["Cumbria Constabulary", "Essex Police", "Kent Police", "Surrey Police",
             "Sussex Police", "Dorset Police", "Gwent Police"]
    assert list(statuses(ascending))[:7] == dated

    descending = text(client, "?sort=due&order=desc")
    assert 'aria-sort="descending"' in header(descending, "Due")
    assert 'href="/campaigns/grooming-2019?sort=due#requests"' in header(descending, "Due")
    # Latest due first, equal dates still by name.
    assert list(statuses(descending))[:7] == ["Dorset Police", "Gwent Police", "Essex Police",
                                               "Kent Police", "Surrey Police", "Sussex Police",
                                               "Cumbria Constabulary"]
    # Still every request, the undated ones last whichever way, by name.
    seen = [name for number in range(1, 6)
            for name in names(client, f"?sort=due&order=desc&page={number}")]
    assert sorted(seen) == sorted(everyone) and len(seen) == 43
    assert seen[7:] == [name for name in everyone if name not in dated]


def test_sort_by_lateness_most_late_last_then_first(client, researcher):
    ascending = names(client, "?status=awaiting_response&sort=late")
    descending = names(client, "?status=awaiting_response&sort=late&order=desc")
    assert ascending[-4:] == ["Essex Police", "Kent Police", "Surrey Police", "Sussex Police"]
    assert descending[:4] == ["Essex Police", "Kent Police", "Surrey Police", "Sussex Police"]


def test_the_page_links_keep_the_search_filter_and_sort(client, researcher):
    page = text(client, "?q=police&sort=status&order=desc")
    assert 'href="/campaigns/grooming-2019?q=police&amp;sort=status&amp;order=desc&amp;page=2' \
           '#requests" rel="next"' in page
    later = text(client, "?status=awaiting_response&q=police&page=1")
    assert "page=2" not in later  # the six awaiting forces, all "Police", fit one page
    # The filter form keeps the order, and the letter preview keeps everything.
    assert '<input type="hidden" name="sort" value="status"><input type="hidden" ' \
           'name="order" value="desc">' in page


def bulk_with(client, slugs: list[str], kind: str = "sent", **kept: str):
    return client.post(f"{URL}/bulk", data={
        "csrf_token": csrf_token(client, URL), "kind": kind, "occurred_on": "2019-06-03",
        "requests": slugs, **kept})


def test_the_bulk_form_carries_the_tables_choices(client, researcher):
    page = text(client, "?status=not_sent&q=police&sort=authority&order=desc&page=2")
    form = page.split('id="bulk-form">', 1)[1].split("</form>", 1)[0]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert {key: value for key, value in hidden.items() if key != "csrf_token"} == {
        "status": "not_sent", "q": "police", "order": "desc", "page": "2"}


def test_the_filter_is_kept_after_a_bulk_action(client, researcher):
    kept = {"status": "not_sent", "q": "police", "sort": "due", "order": "desc", "page": "2"}
    response = bulk_with(client, ["avon-and-somerset"], **kept)
    assert response.status_code == 302
    assert response.location == ("/campaigns/grooming-2019?status=not_sent&q=police&sort=due"
                                 "&order=desc&page=2#requests")
    page = client.get(response.location).get_data(as_text=True)
    assert "Recorded sent on 3 June 2019 for 1 request." in page
    assert '<option value="not_sent" selected>' in page and 'value="police"' in page
    # Nothing recorded (sent already): back to the same list too, saying why.
    response = bulk_with(client, ["avon-and-somerset"], **kept)
    assert urlsplit(response.location).query == urlsplit(
        "?status=not_sent&q=police&sort=due&order=desc&page=2").query
    assert "Nothing was recorded." in client.get(response.location).get_data(as_text=True)


def test_a_bulk_action_that_empties_the_page_goes_back_to_the_last_one(client, researcher):
    page = text(client, "?status=not_sent&page=4")  # 36 not sent: the fourth page has six
    slugs = re.findall(r'name="requests" value="([^"]+)"', page)
    assert len(slugs) == 6
    response = bulk_with(client, slugs, status="not_sent", page="4")
    assert response.location == "/campaigns/grooming-2019?status=not_sent&page=3#requests"
    assert client.get(response.location).status_code == 200


@pytest.mark.parametrize("posted", [
    {"status": "bogus", "sort": "colour", "order": "up", "page": "x"},
    {"next": "https://elsewhere.example/", "page": "//elsewhere.example"},
])
def test_a_bulk_action_keeps_only_the_tables_own_valid_choices(client, researcher, posted):
    response = bulk_with(client, ["avon-and-somerset"], **posted)
    assert response.status_code == 302 and response.location == f"{URL}#requests"


@pytest.mark.parametrize(("query", "message"), [
    ("?sort=colour", "sort: 'colour' is not a column; choose authority, status, sent, due, late"),
    ("?sort=due&order=up", "order: 'up' is not an order; choose asc, desc"),
    ("?status=lost", "status: 'lost' is not a status; choose not_sent"),
    ("?status=late&sort=size&order=sideways",
     "sort: 'size' is not a column; choose authority, status, sent, due, late; "
     "order: 'sideways' is not an order"),
    (f"?q={'x' * 201}", "q: the search is longer than 200 characters"),
])
def test_a_wrong_choice_is_named_not_a_server_error(client, researcher, query, message):
    response = client.get(f"{URL}{query}")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert message in page and statuses(page) == {}


def count_queries(app, client, path: str) -> int:
    engine = app.extensions["foitrack.db"].engine
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
        assert response.status_code == 200, path
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_searching_filtering_and_sorting_run_no_more_queries(app, client, checked_campaign):
    plain = "/campaigns/checks"
    count_queries(app, client, plain)  # the rows and findings kept
    kept = count_queries(app, client, plain)
    for query in ("?status=findings", "?status=unchecked&q=sus", "?sort=late&order=desc",
                  "?q=west&sort=due"):
        assert count_queries(app, client, plain + query) == kept, query


def test_the_query_string_round_trips(client, researcher):
    page = text(client, "?status=late&q=su&sort=sent&order=desc")
    links = re.findall(r'href="(/campaigns/grooming-2019\?[^"]*)"', page)
    # Each sortable header keeps the filter and search and changes only the order.
    sorting = [dict(parse_qsl(urlsplit(html.unescape(link)).query)) for link in links
               if "sort=" in link]
    assert {args["sort"] for args in sorting} == {"status", "sent", "due", "late"}
    assert all(args["status"] == "late" and args["q"] == "su" for args in sorting)
    assert {args["sort"]: args.get("order") for args in sorting}["sent"] is None  # now desc
