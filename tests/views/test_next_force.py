"""Entering 43 replies one after another (issue 16, point 7): the request page and the figures
grid link the previous and next force in the campaign's order, or the filtered list's, and
"Save and go to the next force" saves as the normal button does, then opens the next one."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from foitrack.services import figures, requests
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import csrf_token, grid_form, sign_in

TODAY = dt.date(2019, 6, 4)
CAMPAIGN = "/campaigns/grooming-2019"
# The campaign page's order, by authority name: Essex, Kent, Surrey, Sussex.
FORCES = ["sussex", "kent", "essex", "surrey"]


@pytest.fixture
def researcher(app, client, session):
    """Signed in, with grooming-2019 to four forces: Essex and Surrey sent in April and now late,
    Kent and Sussex not sent."""
    app.config["TODAY"] = TODAY
    campaign = make_campaign(session, design_for(FORCES))
    for force in ("essex", "surrey"):
        request = requests.get_request(session, campaign.slug, force)
        requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 4, 1), today=TODAY)
    session.commit()
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def request_page(force: str, query: str = "") -> str:
    return f"{CAMPAIGN}/requests/{force}{query}"


def grid_page(force: str, query: str = "") -> str:
    return f"{CAMPAIGN}/requests/{force}/figures{query}"


def links(page: str, rel: str) -> list[str]:
    """The previous (rel="prev") or next (rel="next") force's link of a page."""
    return [href.replace("&amp;", "&") for href in re.findall(rf'<a rel="{rel}" href="([^"]+)"', page)]


def add_event(client, force: str, query: str = "", **fields):
    url = request_page(force, query)
    data = {"csrf_token": csrf_token(client, url), "occurred_on": "2019-06-03", **fields}
    return client.post(f"{CAMPAIGN}/requests/{force}/events{query}", data=data)


def kinds(session, force: str) -> list[str]:
    session.expire_all()
    request = requests.get_request(session, "grooming-2019", force)
    return [event.kind.value for event in request.events]


def test_the_request_page_links_the_previous_and_next_force_in_the_campaigns_order(client, researcher):
    page = client.get(request_page("kent")).get_data(as_text=True)
    assert links(page, "prev") == [request_page("essex")]
    assert links(page, "next") == [request_page("surrey")]
    assert "Previous force: Essex Police" in page and "Next force: Surrey Police" in page
    assert "2 of 4" in page
    first = client.get(request_page("essex")).get_data(as_text=True)
    assert links(first, "prev") == [] and "No previous force" in first
    last = client.get(request_page("sussex")).get_data(as_text=True)
    assert links(last, "next") == [] and "No next force" in last


def test_the_request_page_follows_the_filtered_list_it_came_from(client, researcher):
    page = client.get(request_page("essex", "?status=late")).get_data(as_text=True)
    # Kent is next by name, but not late: the late list goes on to Surrey.
    assert links(page, "next") == [request_page("surrey", "?status=late")]
    assert links(page, "prev") == []
    assert "1 of 2" in page
    # The way back is to the filtered list too.
    assert f'href="{CAMPAIGN}?status=late"' in page


def test_the_campaign_pages_filtered_table_links_each_request_with_its_filter(client, researcher):
    """From the campaign page filtered to the late ones, a request's page follows that list."""
    page = client.get(f"{CAMPAIGN}?status=late").get_data(as_text=True).replace("&amp;", "&")
    assert f'href="{request_page("essex", "?status=late")}"' in page
    assert f'href="{request_page("surrey", "?status=late")}"' in page
    unfiltered = client.get(CAMPAIGN).get_data(as_text=True)
    assert f'href="{request_page("kent")}"' in unfiltered  # no filter, none carried


def test_a_filter_the_campaign_page_does_not_know_is_ignored(client, researcher):
    page = client.get(request_page("kent", "?status=nonsense")).get_data(as_text=True)
    assert links(page, "next") == [request_page("surrey")]


def test_save_and_go_to_the_next_force_records_then_opens_the_next_request(client, researcher, session):
    response = add_event(client, "kent", kind="sent", then="next")
    assert response.status_code == 302
    assert response.location == request_page("surrey")
    assert kinds(session, "kent") == ["sent"]
    page = client.get(response.location).get_data(as_text=True)
    assert "Recorded: request sent on 3 June 2019, for Kent Police." in page


def test_the_normal_button_stays_on_the_request(client, researcher, session):
    response = add_event(client, "kent", kind="sent")
    assert response.status_code == 302 and response.location == request_page("kent")


def test_save_and_go_to_the_next_force_on_the_last_goes_back_to_the_campaign(client, researcher, session):
    response = add_event(client, "sussex", kind="sent", then="next")
    assert response.status_code == 302 and response.location == CAMPAIGN
    assert kinds(session, "sussex") == ["sent"]
    page = client.get(CAMPAIGN).get_data(as_text=True)
    assert "Sussex Police was the last request in the list, so here is the campaign again." in page
    # Its button says where it goes.
    last = client.get(request_page("sussex")).get_data(as_text=True)
    assert "Save and go back to the campaign" in last


def test_a_refused_event_stays_on_its_request_whichever_button(client, researcher, session):
    response = add_event(client, "kent", kind="response", then="next")  # no outcome
    assert response.status_code == 400
    assert kinds(session, "kent") == []
    assert "Kent Police" in response.get_data(as_text=True)


def test_the_filtered_list_is_followed_after_the_save_takes_the_request_out_of_it(
        client, researcher, session):
    # Answering Essex takes it off the late list; the next late one is still Surrey.
    response = add_event(client, "essex", "?status=late", kind="response", outcome="provided",
                         then="next")
    assert response.location == request_page("surrey", "?status=late")
    response = add_event(client, "surrey", "?status=late", kind="response", outcome="provided",
                         then="next")
    assert response.location == f"{CAMPAIGN}?status=late"
    page = client.get(response.location).get_data(as_text=True)
    assert "Surrey Police was the last of the requests shown as Late, so here is the campaign again." in page


def test_the_request_page_carries_the_filter_to_its_forms_and_the_grid(client, researcher):
    page = client.get(request_page("essex", "?status=late")).get_data(as_text=True)
    assert f'action="{CAMPAIGN}/requests/essex/events?status=late"' in page
    assert f'href="{grid_page("essex", "?status=late")}"' in page
    response = add_event(client, "essex", "?status=late", kind="acknowledged")
    assert response.location == request_page("essex", "?status=late")


def test_the_grid_links_the_previous_and_next_forces_grids(client, researcher):
    page = client.get(grid_page("kent")).get_data(as_text=True)
    assert links(page, "prev") == [grid_page("essex")]
    assert links(page, "next") == [grid_page("surrey")]
    late = client.get(grid_page("essex", "?status=late")).get_data(as_text=True)
    assert links(late, "next") == [grid_page("surrey", "?status=late")]


def typed(client, force: str, value: str, query: str = "") -> dict[str, str]:
    """A force's grid form as the browser has it, with its first cell typed in."""
    form = grid_form(client, grid_page(force, query))
    first = sorted(name for name in form if name.startswith("cell-"))[0]
    return {**form, first: value}


def saved_values(session, force: str) -> list[str]:
    session.expire_all()
    request = requests.get_request(session, "grooming-2019", force)
    return [figure.figure_value.text for figure in figures.figures_of(session, request).values()]


def test_save_and_go_to_the_next_force_on_the_grid(client, researcher, session):
    response = client.post(grid_page("kent"), data={**typed(client, "kent", "17"), "then": "next"})
    assert response.status_code == 302 and response.location == grid_page("surrey")
    assert saved_values(session, "kent") == ["17"]
    page = client.get(response.location).get_data(as_text=True)
    assert "Saved figures for Kent Police" in page and "Figures from Surrey Police" in page


def test_the_grid_save_button_stays_on_the_grid(client, researcher, session):
    response = client.post(grid_page("kent"), data=typed(client, "kent", "17"))
    assert response.status_code == 302 and response.location == grid_page("kent")


def test_save_and_go_to_the_next_force_on_the_last_grid_goes_back_to_the_campaign(
        client, researcher, session):
    response = client.post(grid_page("sussex"), data={**typed(client, "sussex", "4"), "then": "next"})
    assert response.location == CAMPAIGN
    assert saved_values(session, "sussex") == ["4"]
    assert "Sussex Police was the last request in the list" in client.get(CAMPAIGN).get_data(as_text=True)


def test_the_grid_follows_the_filtered_list(client, researcher, session):
    response = client.post(grid_page("essex", "?status=late"),
                           data={**typed(client, "essex", "9", "?status=late"), "then": "next"})
    assert response.location == grid_page("surrey", "?status=late")


def test_a_grid_that_is_not_saved_stays_on_its_force(client, researcher, session):
    response = client.post(grid_page("kent"), data={**typed(client, "kent", "four"), "then": "next"})
    assert response.status_code == 400
    assert saved_values(session, "kent") == []


def test_the_request_page_follows_the_tables_newer_filters_too(client, researcher, session):
    """Opened from the table filtered to refusals (or late, never chased), a request's page
    goes on through that list, not through every force."""
    essex = requests.get_request(session, "grooming-2019", "essex")
    surrey = requests.get_request(session, "grooming-2019", "surrey")
    for request in (essex, surrey):
        requests.add_event(session, TEST_ACTOR, request, "response", dt.date(2019, 4, 20),
                           today=TODAY, outcome="refused", exemptions=["s.12"])
    session.commit()
    page = client.get(request_page("essex", "?status=refused")).get_data(as_text=True)
    assert links(page, "next") == [request_page("surrey", "?status=refused")]
    assert "1 of 2" in page and ">Refused</a>" in page
    table = client.get(f"{CAMPAIGN}?status=refused").get_data(as_text=True).replace("&amp;", "&")
    assert f'href="{request_page("essex", "?status=refused")}"' in table
