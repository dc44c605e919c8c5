"""The review page for figures proposed from a reply's files (issue 19): a table per file, a
checkbox and an editable value per proposal, accept/reject selected, the PDF crop beside each,
and the request page's "Figures proposed: N to review"."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from foitrack.models import Figure, FigureProposal, ProposalState
from foitrack.services import proposals
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import make_campaign, make_user
from tests.pages import csrf_token, sign_in
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import attach

PAGE = "/campaigns/grooming-2019/requests/west-mercia/proposals"


@pytest.fixture
def proposed(app, session, client):
    store = FileStore(app.config["STORAGE_PATH"])
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    attach(session, store, request, reply_pdf())
    proposals.make(session, store, request)
    session.commit()
    return {r.category: r.id for r in session.scalars(select(FigureProposal))}


def signed_in(client, session, role):
    sign_in(client, make_user(session, role=role).email)


def test_the_page_lists_each_proposal_with_its_crop_and_labels(client, session, proposed):
    signed_in(client, session, "researcher")
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h2>reply.pdf</h2>" in page
    assert "page 1, table 1, row 5, column 2" in page and "12*" in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    inputs = [tag for tag in re.findall(r"<input[^>]*>", page)
              if 'type="hidden"' not in tag and 'type="submit"' not in tag]
    assert len(inputs) == 9  # a checkbox and a value for each of the 4, and the confirmation
    for tag in inputs:
        name = re.search(r'\bid="([^"]+)"', tag)
        assert name is not None and f'for="{name.group(1)}"' in page, tag
    crop = re.search(r'src="([^"]+crop\.png)"', page)
    assert crop is not None
    image = client.get(crop.group(1))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")


def test_the_request_page_says_how_many_wait(client, session, proposed):
    signed_in(client, session, "researcher")
    page = client.get("/campaigns/grooming-2019/requests/west-mercia").get_data(as_text=True)
    assert "Figures proposed: 4 to review" in page and PAGE in page


def test_accepting_selected_with_an_edit_saves_figures(client, session, proposed):
    signed_in(client, session, "researcher")
    token = csrf_token(client, PAGE)
    total, instagram = proposed[None], proposed["Instagram"]
    response = client.post(PAGE, data={"csrf_token": token, f"accept-{total}": "1",
                                       f"value-{total}": "41", f"accept-{instagram}": "1",
                                       f"value-{instagram}": "12*", "accept_selected": "1"})
    assert response.status_code == 302
    session.expire_all()
    figures = {f.category.label if f.category else None: f for f in session.scalars(select(Figure))}
    assert figures[None].value == 41 and figures["Instagram"].value == 12
    assert figures["Instagram"].caveat == "footnote *"  # unedited: the file's footnote kept
    assert session.get(FigureProposal, total).state is ProposalState.ACCEPTED
    page = client.get(PAGE).get_data(as_text=True)
    assert "Accepted: 2 new, 0 changed, 0 unchanged." in page
    assert f"accept-{total}" not in page and "Figures proposed from" in page


def test_a_bad_edited_value_names_the_cell_and_changes_nothing(client, session, proposed):
    signed_in(client, session, "researcher")
    token = csrf_token(client, PAGE)
    total, instagram = proposed[None], proposed["Instagram"]
    response = client.post(PAGE, data={"csrf_token": token, f"accept-{total}": "1",
                                       f"value-{total}": "forty", f"accept-{instagram}": "1",
                                       "accept_selected": "1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was changed" in page
    assert "reply.pdf, page 1, table 1, row 5, column 2: &#39;forty&#39;" in page
    assert f'id="value-{total}-error"' in page
    session.expire_all()
    assert session.scalars(select(Figure)).all() == []
    assert all(p.state is ProposalState.PENDING for p in session.scalars(select(FigureProposal)))


def test_rejecting_selected(client, session, proposed):
    signed_in(client, session, "researcher")
    token = csrf_token(client, PAGE)
    response = client.post(PAGE, data={"csrf_token": token, f"accept-{proposed['Messenger']}": "1",
                                       "reject_selected": "1"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(FigureProposal, proposed["Messenger"]).state is ProposalState.REJECTED
    assert session.scalars(select(Figure)).all() == []


def test_a_checked_figure_needs_the_confirmation(client, session, proposed):
    signed_in(client, session, "researcher")
    token = csrf_token(client, PAGE)
    total = proposed[None]
    client.post(PAGE, data={"csrf_token": token, f"accept-{total}": "1", f"value-{total}": "39",
                            "accept_selected": "1"})
    session.expire_all()
    figure = session.scalars(select(Figure)).one()
    figure.checked_by = "checker@example.org"
    session.commit()
    request = get_request(session, "grooming-2019", "E23000016")
    store = FileStore(client.application.config["STORAGE_PATH"])
    session.execute(FigureProposal.__table__.delete())
    proposals.make(session, store, request)
    session.commit()
    again = session.scalars(select(FigureProposal).where(FigureProposal.category.is_(None))).one().id
    page = client.get(PAGE).get_data(as_text=True)
    assert "would change a checked figure" in page
    refused = client.post(PAGE, data={"csrf_token": token, f"accept-{again}": "1",
                                      "accept_selected": "1"})
    assert refused.status_code == 400 and "checked by checker@example.org" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Figure)).one().value == 39
    done = client.post(PAGE, data={"csrf_token": token, f"accept-{again}": "1",
                                   "confirm_checked": "y", "accept_selected": "1"})
    assert done.status_code == 302
    session.expire_all()
    assert session.scalars(select(Figure)).one().value == 40


def test_viewers_may_not_review_but_see_the_crop(client, session, proposed):
    signed_in(client, session, "viewer")
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/{proposed[None]}/crop.png").status_code == 200
    assert client.get("/campaigns/grooming-2019/requests/kent/proposals/"
                      f"{proposed[None]}/crop.png").status_code == 404


def test_a_sheet_proposal_shows_its_neighbourhood(app, client, session):
    store = FileStore(app.config["STORAGE_PATH"])
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    attach(session, store, request, b"Offences,2018/19\nInstagram,4\nTotal,9\n", name="reply.csv")
    proposals.make(session, store, request)
    session.commit()
    signed_in(client, session, "researcher")
    page = client.get(PAGE).get_data(as_text=True)
    assert "The cells around B2" in page and "<td><mark>4</mark></td>" in page
    assert "crop.png" not in page
