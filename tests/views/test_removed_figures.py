"""A figure emptied on the grid is kept, listed with its request, and put back by an admin."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from foitrack.models import AuditEntry, Figure
from tests.factories import (
    TWO_DESKS_DESIGN,
    TWO_DESKS_GRID,
    make_campaign,
    make_user,
)
from tests.pages import csrf_token, grid_cells, grid_form, sign_in

URL = TWO_DESKS_GRID
REMOVED = URL + "/removed/"


def _form(client) -> dict[str, str]:
    """The grid's fields as a browser sends them: values unescaped (the page writes "&lt;5")."""
    return {name: html.unescape(value) for name, value in grid_form(client).items()}


@pytest.fixture
def desk(app, session):
    make_campaign(session, TWO_DESKS_DESIGN)
    researcher, admin = app.test_client(), app.test_client()
    assert sign_in(researcher, make_user(session).email).status_code == 302
    assert sign_in(admin, make_user(session, role="admin").email).status_code == 302
    form = _form(researcher)
    first, second = grid_cells(form)
    form.update({first: "73", second: "<5"})
    assert researcher.post(URL, data=form).status_code == 302
    return researcher, admin, first, second


def _empty(client, cell):
    form = _form(client)
    form[cell] = ""
    response = client.post(URL, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_an_emptied_cell_is_listed_with_who_removed_it_and_what_it_held(desk, session):
    researcher, _admin, first, _second = desk
    kept = session.scalar(select(Figure).where(Figure.value == 73))
    _empty(researcher, first)
    assert session.scalar(select(Figure).where(Figure.id == kept.id)) is None
    page = researcher.get(REMOVED).get_data(as_text=True)
    assert "73" in page and "Offences · 2023" in page
    assert "An admin can restore it." in page
    assert 'action="/campaigns/two-desks/requests/west-mercia/figures/removed/' not in page
    # The request's trail says so too, besides the figure's own.
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "request")).all()
    assert "remove figure" in actions


def test_an_admin_puts_it_back_in_its_cell_unchecked_with_its_history(desk, session):
    researcher, admin, first, _second = desk
    old = session.scalar(select(Figure).where(Figure.value == 73))
    old_id, old_caveat = old.id, old.caveat
    _empty(researcher, first)
    refused = researcher.post(f"{REMOVED}{old_id}/restore",
                              data={"csrf_token": csrf_token(researcher, REMOVED)})
    assert refused.status_code == 403
    done = admin.post(f"{REMOVED}{old_id}/restore", data={"csrf_token": csrf_token(admin, REMOVED)})
    assert done.status_code == 302 and done.location.endswith(f"/figures/{old_id}")
    session.expire_all()
    back = session.get(Figure, old_id)
    assert (back.value, back.caveat, back.checked_by) == (73, old_caveat, None)
    history = admin.get(done.location).get_data(as_text=True)
    assert "restore" in history and "delete" in history
    assert _form(researcher)[first] == "73"
    assert "No figure of this request has been removed." in admin.get(REMOVED).get_data(as_text=True)


def test_a_cell_given_a_new_value_meanwhile_is_not_overwritten_by_a_restore(desk, session):
    researcher, admin, first, _second = desk
    old_id = session.scalar(select(Figure.id).where(Figure.value == 73))
    _empty(researcher, first)
    form = _form(researcher)
    form[first] = "80"
    assert researcher.post(URL, data=form).status_code == 302
    page = admin.get(REMOVED).get_data(as_text=True)
    assert "Cannot be put back: its cell now holds 80." in page
    response = admin.post(f"{REMOVED}{old_id}/restore", data={"csrf_token": csrf_token(admin, REMOVED)},
                          follow_redirects=True)
    assert "Not restored: the figure cannot be put back: its cell now holds 80." in \
        response.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(Figure.value).where(Figure.value.in_([73, 80]))).all() == [80]


def test_restoring_a_figure_never_removed_from_this_request_is_a_404(desk):
    _researcher, admin, _first, _second = desk
    response = admin.post(f"{REMOVED}999/restore", data={"csrf_token": csrf_token(admin, REMOVED)})
    assert response.status_code == 404


def test_a_new_figure_never_takes_a_removed_figures_id_or_history(desk, session):
    researcher, admin, first, second = desk
    newest = session.scalar(select(Figure.id).order_by(Figure.id.desc()).limit(1))
    cell = first if session.get(Figure, newest).value == 73 else second
    _empty(researcher, cell)
    form = _form(researcher)
    form[cell] = "12"
    assert researcher.post(URL, data=form).status_code == 302
    session.expire_all()
    again = session.scalar(select(Figure).where(Figure.value == 12))
    assert again.id > newest  # SQLite would hand out the removed id again without AUTOINCREMENT
    history = admin.get(f"{URL}/{again.id}").get_data(as_text=True)
    assert "delete" not in history
