"""The campaign page's task list (issue 16, point 1): the stages with their states, one button
for the stage the campaign is at, every other action a plain link below, first on a phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from foitrack.services import requests
from foitrack.services.campaign_tasks import TaskStatus, campaign_tasks
from foitrack.services.campaigns import create_campaign, get_campaign, update_campaign
from foitrack.services.figures import check_figures, figures_of
from foitrack.services.requests import request_rows
from tests.factories import (
    MERCIA,
    TEST_ACTOR,
    design_for,
    enter_figures,
    load_forces,
    make_campaign,
    make_user,
)
from tests.pages import bulk, page_text, post_new_campaign, sign_in

TODAY = dt.date(2019, 6, 4)
PAGE = "/campaigns/grooming-2019"


@pytest.fixture
def researcher(app, client, session):
    app.config["TODAY"] = TODAY
    load_forces(session)
    user = make_user(session, role="researcher")
    sign_in(client, user.email)
    return user


def tasks_of(session, slug="grooming-2019", today=TODAY):
    campaign = get_campaign(session, slug)
    rows = request_rows(session, [campaign.id], today)[campaign.id]
    return campaign_tasks(session, campaign, rows, today=today)


def send(session, authorities, on):
    for authority in authorities:
        request = requests.get_request(session, "grooming-2019", authority)
        requests.add_event(session, TEST_ACTOR, request, "sent", on, today=TODAY)
    session.commit()


def answer(session, authority, on=dt.date(2019, 5, 20), outcome="provided"):
    request = requests.get_request(session, "grooming-2019", authority)
    requests.add_event(session, TEST_ACTOR, request, "response", on, today=TODAY, outcome=outcome)
    session.commit()


def primary_buttons(page: str) -> list[str]:
    """The page's main buttons: links drawn as the green button (not the secondary kind)."""
    return re.findall(r'<a class="button"[^>]*>([^<]+)</a>', page)


def task_list(page: str) -> str:
    return page.split('<ol class="task-list">', 1)[1].split("</ol>", 1)[0]


def status_of(page: str, key: str) -> tuple[str, str]:
    """A stage's status and hint as the page shows them."""
    item = task_list(page).split(f'id="task-{key}"', 1)[1].split("</li>", 1)[0]
    hint = re.search(r'<p class="task-list-hint">([^<]*)</p>', item)
    status = re.search(r'<strong class="task-list-status[^"]*">([^<]*)</strong>', item)
    assert hint and status
    return status.group(1), hint.group(1)


# ---- the service ---------------------------------------------------------------------------

def test_a_new_campaign_without_a_design_starts_with_the_design(app, session):
    load_forces(session)
    create_campaign(session, TEST_ACTOR, title="Grooming 2019", slug="grooming-2019",
                    subject=None, request_text="Dear {{ authority.name }}",
                    set_slug="england-wales", authority_keys=[])
    session.commit()
    tasks = tasks_of(session)
    assert tasks.current == "design"
    assert tasks.primary is not None and tasks.primary.label == "Data design"
    assert [(t.key, t.status) for t in tasks.tasks] == [
        ("design", TaskStatus.not_started), ("pilot", TaskStatus.not_started),
        ("send", TaskStatus.not_started), ("chase", TaskStatus.cannot_start),
        ("figures", TaskStatus.cannot_start), ("release", TaskStatus.cannot_start)]
    assert tasks.task("chase").action is None and tasks.task("send").hint == "None of 43 sent"


def test_a_designed_draft_is_at_its_pilot(session):
    make_campaign(session, design_for())
    tasks = tasks_of(session)
    assert tasks.task("design").status is TaskStatus.done
    assert tasks.current == "pilot"
    assert tasks.primary is not None and tasks.primary.permission == "campaigns.bulk"
    assert tasks.primary.url_args == {"slug": "grooming-2019", "_anchor": "requests"}


def test_a_pilot_to_two_then_the_send_is_next(session):
    make_campaign(session, design_for())
    send(session, ["kent", "surrey"], dt.date(2019, 5, 1))
    tasks = tasks_of(session)
    assert (tasks.task("pilot").status, tasks.task("pilot").hint) == (TaskStatus.done,
                                                                      "Sent to 2 first")
    assert (tasks.task("send").status, tasks.task("send").hint) == (TaskStatus.in_progress,
                                                                    "2 of 43 sent")
    assert tasks.current == "send" and tasks.primary is not None
    assert tasks.primary.label == "Send by email"


def test_late_requests_make_the_chase_the_stage(session):
    make_campaign(session, design_for())
    slugs = [row.authority_slug for row in tasks_rows(session)]
    send(session, slugs, dt.date(2019, 5, 1))  # due 30 May: late on 4 June
    for authority in ("kent", "surrey", "sussex"):
        answer(session, authority)
    tasks = tasks_of(session)
    assert tasks.task("pilot").status is TaskStatus.skipped
    assert tasks.task("send").status is TaskStatus.done
    chase = tasks.task("chase")
    assert (chase.status, chase.hint) == (TaskStatus.in_progress, "3 of 43 answered, 40 late")
    assert tasks.current == "chase" and tasks.primary is not None
    assert tasks.primary.endpoint == "mail.chase"
    figures = tasks.task("figures")
    assert figures.hint == "0 figures entered, 3 replies with no figures yet"
    assert figures.action is not None and figures.action.label == "Enter the figures from Kent Police"


def test_nobody_late_means_no_chase_and_the_figures_come_next(session):
    make_campaign(session, design_for())
    slugs = [row.authority_slug for row in tasks_rows(session)]
    send(session, slugs, dt.date(2019, 5, 28))  # due in June
    answer(session, "west-mercia", dt.date(2019, 6, 3))
    enter_figures(session, campaign_of(session), (MERCIA, "2018-19", "", "", "10"),
                  (MERCIA, "2018-19", "platform", "Instagram", "4"))
    tasks = tasks_of(session)
    chase = tasks.task("chase")
    assert chase.action is None and chase.hint.startswith("1 of 43 answered; nobody is late")
    figures = tasks.task("figures")
    assert figures.status is TaskStatus.in_progress
    assert figures.hint == "2 figures entered, 2 figures to check"
    assert tasks.current == "figures" and tasks.primary is not None
    assert tasks.primary.label == "Check the figures from West Mercia Police"
    assert tasks.task("release").hint == "0 of 2 figures checked"


def test_a_closed_campaign_has_nothing_left_to_do(session):
    campaign = make_campaign(session, design_for())
    send(session, [row.authority_slug for row in tasks_rows(session)], dt.date(2019, 5, 1))
    update_campaign(session, TEST_ACTOR, campaign, {"status": "closed"})
    session.commit()
    tasks = tasks_of(session)
    assert tasks.current is None and tasks.primary is None
    assert tasks.task("release").status is TaskStatus.done


def tasks_rows(session):
    campaign = campaign_of(session)
    return request_rows(session, [campaign.id], TODAY)[campaign.id]


def campaign_of(session):
    return get_campaign(session, "grooming-2019")


# ---- the page ------------------------------------------------------------------------------

def test_a_draft_shows_the_design_as_its_one_button_and_no_chase(client, researcher):
    post_new_campaign(client)
    page = page_text(client, PAGE)
    assert primary_buttons(page) == ["Data design"]
    assert 'aria-current="step"' in task_list(page).split('id="task-design"', 1)[1][:40]
    assert status_of(page, "design") == ("Not started", "Say which figures to ask for: "
                                         "measures, periods and breakdowns")
    assert status_of(page, "chase") == ("Cannot start yet", "Nothing sent yet")
    assert "Chase the late ones" not in page
    # Every other action is a plain link, each once: the design's is the button alone.
    assert page.count(">Data design</a>") == 1
    for name in ("Send by email", "Import figures (CSV)", "Release lines", "Aggregate", "XLSX",
                 "Message wording", "Edit campaign"):
        assert page.count(f">{name}</a>") == 1, name


def test_a_sent_campaign_with_late_requests_makes_the_chase_its_button(client, researcher,
                                                                       session):
    post_new_campaign(client)
    slugs = re.findall(r'name="requests" value="([^"]+)"', page_text(client, PAGE))
    bulk(client, "sent", "2019-05-01", slugs)
    for authority in ("kent", "surrey", "sussex"):
        answer(session, authority)
    page = page_text(client, PAGE)
    assert primary_buttons(page) == ["Chase the late ones"]
    assert page.count(">Chase the late ones</a>") == 1
    assert status_of(page, "chase") == ("In progress", "3 of 43 answered, 40 late")
    assert status_of(page, "send") == ("Done", "All 43 sent")
    assert status_of(page, "figures") == ("Cannot start yet", "Design the data first")
    # The design not done shows, its link below: the late replies come first.
    assert status_of(page, "design")[0] == "Not started" and page.count(">Data design</a>") == 1


def test_figures_to_check_and_findings_are_counted(client, researcher, session):
    make_campaign(session, design_for())
    slugs = [row.authority_slug for row in tasks_rows(session)]
    send(session, slugs, dt.date(2019, 5, 28))
    # Figures with no response recorded: a consistency finding.
    enter_figures(session, campaign_of(session), (MERCIA, "2018-19", "", "", "10"))
    page = page_text(client, PAGE)
    status, hint = status_of(page, "figures")
    assert status == "In progress"
    assert hint.startswith("1 figure entered, 1 figure to check, ")
    assert re.search(r"\d+ consistency findings?$", hint)
    assert primary_buttons(page) == ["Check the figures from West Mercia Police"]


def test_the_findings_button_keeps_the_checks_link(client, researcher, session):
    """When the findings are all that is left, the checks link is the button, with its id."""
    make_campaign(session, design_for())
    send(session, [row.authority_slug for row in tasks_rows(session)], dt.date(2019, 5, 28))
    enter_figures(session, campaign_of(session), (MERCIA, "2018-19", "", "", "10"))
    user = make_user(session, role="researcher")
    request = requests.get_request(session, "grooming-2019", "west-mercia")
    check_figures(session, TEST_ACTOR, figures_of(session, request).values(), user)
    session.commit()
    page = page_text(client, PAGE)
    buttons = re.findall(r'<a class="button" id="checks-link" href="[^"]+">Consistency checks '
                         r'\((\d+) open\)</a>', page)
    assert len(buttons) == 1 and int(buttons[0]) > 0
    assert page.count('id="checks-link"') == 1


def test_a_viewer_sees_the_stages_but_no_button_they_cannot_use(app, client, session):
    app.config["TODAY"] = TODAY
    make_campaign(session, design_for())
    sign_in(client, make_user(session, role="viewer").email)
    page = page_text(client, PAGE)
    assert status_of(page, "pilot")[0] == "Not started"
    assert primary_buttons(page) == []
    assert "Send by email" not in page and "Data design" not in page


def test_the_task_list_comes_before_the_map_and_the_requests(client, researcher):
    post_new_campaign(client)
    page = page_text(client, PAGE)
    tasks = page.index('<ol class="task-list">')
    assert tasks < page.index("<h2>Requests</h2>") and tasks < page.index('id="requests"')
    assert tasks < page.index('<dl class="summary-list">')
