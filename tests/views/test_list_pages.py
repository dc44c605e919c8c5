"""The campaign page and the chase list a page at a time: the counts and map cover every
request, the filters and page links keep each other, and a change shows at once."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from foitrack.services import requests as request_service
from foitrack.web.views import paging
from tests.factories import TEST_ACTOR, load_forces, make_user
from tests.pages import bulk, post_new_campaign, sign_in, statuses

URL = "/campaigns/grooming-2019"


@pytest.fixture
def researcher(app, client, session, monkeypatch):
    # Ten rows a page, so the 43 forces make five pages (a real page holds 50).
    monkeypatch.setattr(paging, "PAGE_SIZE", 10)
    app.config["TODAY"] = dt.date(2019, 6, 4)
    load_forces(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    post_new_campaign(client)
    return user


def names(page: str) -> list[str]:
    return list(statuses(page))


def test_the_requests_come_a_page_at_a_time_in_authority_order(client, researcher):
    seen: list[str] = []
    for number in range(1, 6):
        page = client.get(f"{URL}?page={number}").get_data(as_text=True)
        seen += names(page)
        assert f"{(number - 1) * 10 + 1}–{min(number * 10, 43)} of 43 requests." in page
    assert len(seen) == 43 and seen == sorted(seen) and seen[0] == "Avon and Somerset Constabulary"
    first = client.get(URL).get_data(as_text=True)
    assert names(first) == seen[:10]
    assert 'href="/campaigns/grooming-2019?page=2#requests" rel="next"' in first


@pytest.mark.parametrize("asked", ["6", "0", "two", "-1"])
def test_a_page_that_does_not_exist_is_named_and_shows_nothing(client, researcher, asked):
    response = client.get(f"{URL}?page={asked}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"page: &#39;{asked}&#39; is not a page of this list; choose 1 to 5" in page
    assert names(page) == []
    assert len(names(client.get(URL).get_data(as_text=True))) == 10  # the empty page is not kept


def test_the_status_filter_pages_too_and_the_counts_and_map_cover_every_request(
        client, researcher):
    page = client.get(URL).get_data(as_text=True)
    slugs = re.findall(r'name="requests" value="([^"]+)"', page)  # the first page's ten
    second = re.findall(r'name="requests" value="([^"]+)"',
                        client.get(f"{URL}?page=2").get_data(as_text=True))
    # Ticked on two pages, recorded in one action: the action covers every request ticked.
    assert bulk(client, "sent", "2019-05-01", slugs + second[:2]).status_code == 302
    page = client.get(f"{URL}?status=awaiting_response").get_data(as_text=True)
    assert '<option value="awaiting_response" selected>Awaiting response (12)</option>' in page
    assert '<option value="not_sent" >Not sent (31)</option>' in page
    assert "1–10 of 12 requests." in page
    assert set(statuses(page).values()) == {"Awaiting response"}
    assert 'href="/campaigns/grooming-2019?status=awaiting_response&amp;page=2#requests"' \
        in page
    rest = client.get(f"{URL}?status=awaiting_response&page=2").get_data(as_text=True)
    assert len(statuses(rest)) == 2
    assert "12 sent, 0 answered" in rest
    # The map's key counts all 43, whichever page or filter is shown.
    assert re.search(r"Awaiting response\D{0,80}12", rest) and re.search(r"Not sent\D{0,80}31", rest)
    late = client.get(f"{URL}?status=late").get_data(as_text=True)  # due 31 May, late on 4 June
    assert len(statuses(late)) == 10 and "1–10 of 12 requests." in late


def test_an_unknown_status_is_named(client, researcher):
    response = client.get(f"{URL}?status=lost")
    assert response.status_code == 400
    assert "status: &#39;lost&#39; is not a status; choose not_sent" in response.get_data(as_text=True)
    assert len(names(client.get(URL).get_data(as_text=True))) == 10


def test_a_change_from_another_worker_shows_on_the_next_load(client, researcher, session):
    assert statuses(client.get(URL).get_data(as_text=True))["Avon and Somerset Constabulary"] == \
        "Not sent"
    # Written through the service in a session of its own, as another gunicorn worker would.
    found = request_service.get_request(session, "grooming-2019", "avon-and-somerset")
    request_service.add_event(session, TEST_ACTOR, found, "sent", dt.date(2019, 6, 3),
                              today=dt.date(2019, 6, 4))
    session.commit()
    page = client.get(URL).get_data(as_text=True)
    assert statuses(page)["Avon and Somerset Constabulary"] == "Awaiting response"
    assert "1 sent, 0 answered" in page


def chase_names(page: str) -> list[str]:
    body = page.split('<table class="table" id="chase">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'">([^<]+)</a></td>', body)


def test_the_chase_list_pages_latest_first_and_the_csv_has_every_row(client, researcher):
    early = ["kent", "surrey", "sussex"]
    bulk(client, "sent", "2019-04-01", early)
    rest = [slug for number in range(1, 6) for slug in re.findall(
        r'name="requests" value="([^"]+)"', client.get(f"{URL}?page={number}").get_data(as_text=True))
        if slug not in early]
    assert bulk(client, "sent", "2019-05-01", rest).status_code == 302
    first = client.get("/chase").get_data(as_text=True)
    assert "43 requests, 10 a page" in first
    assert chase_names(first)[:3] == ["Kent Police", "Surrey Police", "Sussex Police"]
    shown = []
    for number in range(1, 6):
        shown += chase_names(client.get(f"/chase?page={number}").get_data(as_text=True))
    assert len(shown) == len(set(shown)) == 43
    assert client.get("/chase?page=6").status_code == 400
    assert chase_names(client.get("/chase").get_data(as_text=True)) == shown[:10]
    rows = list(csv.reader(io.StringIO(client.get("/chase.csv").get_data(as_text=True))))
    assert len(rows) == 44 and [r[0] for r in rows[1:]] == shown


def test_the_chase_list_drops_a_request_as_soon_as_its_response_is_recorded(
        client, researcher, session):
    bulk(client, "sent", "2019-05-01", ["kent"])
    assert chase_names(client.get("/chase").get_data(as_text=True)) == ["Kent Police"]
    found = request_service.get_request(session, "grooming-2019", "kent")
    request_service.add_event(session, TEST_ACTOR, found, "response", dt.date(2019, 6, 4),
                              today=dt.date(2019, 6, 4), outcome="provided")
    session.commit()
    page = client.get("/chase").get_data(as_text=True)
    assert "Nothing is late." in page and "0 requests" in page


def test_a_viewer_sees_no_tick_boxes_but_the_same_pages(client, researcher, session):
    viewer = make_user(session, role="viewer")
    other = client.application.test_client()
    sign_in(other, viewer.email)
    page = other.get(f"{URL}?page=2").get_data(as_text=True)
    assert len(statuses(page)) == 10 and 'name="requests"' not in page
