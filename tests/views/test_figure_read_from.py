"""A figure accepted from a proposal shows where in the reply file it was read (issue 19): on its
drill-down and in the aggregate's "figures behind this number", the file, its SHA-256 and the
place, beside the crop of the PDF page (or a sheet's neighbouring cells)."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from foitrack.models import Figure, FigureProposal
from foitrack.services import figures, proposals
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, make_campaign, make_user
from tests.pages import sign_in
from tests.test_extraction_cli import DESIGN, reply_pdf
from tests.test_figure_proposals import attach

REQUEST = "/campaigns/grooming-2019/requests/west-mercia"
CELL = "/campaigns/grooming-2019/aggregate/cell?measure=offences&period=2018-19"
TOTAL_AT = "page 1, table 1, row 5, column 2"


def accepted(app, session, data: bytes, name: str) -> Figure:
    """The total figure, accepted from the proposals read from ``data``."""
    store = FileStore(app.config["STORAGE_PATH"])
    campaign = make_campaign(session, DESIGN)
    request = get_request(session, campaign.slug, "E23000016")
    attach(session, store, request, data, name=name)
    proposals.make(session, store, request)
    rows = proposals.pending(session, request)
    proposals.accept(session, TEST_ACTOR, request, [r.id for r in rows])
    session.commit()
    return session.scalars(select(Figure).where(Figure.category_id.is_(None))).one()


@pytest.fixture
def from_pdf(app, session) -> Figure:
    return accepted(app, session, reply_pdf(), "reply.pdf")


def viewer(client, session):
    sign_in(client, make_user(session, role="viewer").email)


def read_from(session, figure: Figure) -> int:
    return session.scalars(select(FigureProposal.id).where(
        FigureProposal.figure_id == figure.id)).one()


def crops_in(page: str) -> list[str]:
    return re.findall(r'src="([^"]+/crop\.png)"', page)


def test_accepting_keeps_the_figure_each_proposal_saved(session, from_pdf):
    kept = session.scalars(select(FigureProposal).where(FigureProposal.category.is_(None))).one()
    assert kept.figure_id == from_pdf.id
    assert proposals.read_from(session, [from_pdf.id])[from_pdf.id].location == TOTAL_AT


def test_the_figure_page_shows_the_file_place_and_crop(client, session, from_pdf):
    viewer(client, session)
    page = client.get(f"{REQUEST}/figures/{from_pdf.id}").get_data(as_text=True)
    assert f"reply.pdf, {TOTAL_AT}" in page
    assert hashlib.sha256(reply_pdf()).hexdigest() in page
    assert crops_in(page) == [f"{REQUEST}/proposals/{read_from(session, from_pdf)}/crop.png"]
    assert f'alt="Page 1 of reply.pdf around the cell {TOTAL_AT}"' in page
    image = client.get(crops_in(page)[0])
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")


def test_the_figures_behind_a_number_show_the_crop(client, session, from_pdf):
    viewer(client, session)
    page = client.get(CELL).get_data(as_text=True)
    assert f">{TOTAL_AT}</a>" in page and f"{REQUEST}/figures/{from_pdf.id}" in page
    assert crops_in(page) == [f"{REQUEST}/proposals/{read_from(session, from_pdf)}/crop.png"]
    assert client.get(crops_in(page)[0]).data.startswith(b"\x89PNG")


def test_a_figure_typed_in_has_no_crop(client, session, from_pdf):
    figures.save_figures(session, TEST_ACTOR, from_pdf.request, [figures.Entry(
        "offences", "2018-19", None, None, "41", None, "letter p.2")])
    session.commit()
    viewer(client, session)
    page = client.get(f"{REQUEST}/figures/{from_pdf.id}").get_data(as_text=True)
    assert "letter p.2" in page and 'id="read-from"' not in page and crops_in(page) == []
    assert crops_in(client.get(CELL).get_data(as_text=True)) == []


def test_the_crop_is_found_as_the_figure_page_is(client, session, from_pdf):
    crop = f"/proposals/{read_from(session, from_pdf)}/crop.png"
    assert client.get(REQUEST + crop).status_code in (302, 401)  # signed out
    viewer(client, session)
    assert client.get(REQUEST + crop).status_code == 200
    assert client.get("/campaigns/grooming-2019/requests/kent" + crop).status_code == 404


def test_a_sheet_figure_shows_its_neighbouring_cells(app, client, session):
    figure = accepted(app, session, b"Offences,2018/19\nInstagram,4\nSnapchat,3\nTotal,9\n",
                      "reply.csv")
    viewer(client, session)
    page = client.get(f"{REQUEST}/figures/{figure.id}").get_data(as_text=True)
    assert "reply.csv, B4" in page and "The cells around B4" in page
    assert "<td><mark>9</mark></td>" in page and crops_in(page) == []
    assert "<td><mark>9</mark></td>" in client.get(CELL).get_data(as_text=True)
