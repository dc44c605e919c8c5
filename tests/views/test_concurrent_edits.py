"""Two researchers, two real sessions, the same reply's figures: no silent overwrite."""

from __future__ import annotations

import re

import pytest

from tests.factories import TWO_DESKS_GRID
from tests.pages import grid_cells, grid_form

pytestmark = pytest.mark.postgres

URL = TWO_DESKS_GRID


def test_the_second_save_of_a_changed_cell_gets_a_conflict_not_an_overwrite(desks):
    rosa, chen = desks
    first, second = grid_form(rosa), grid_form(chen)  # both open the grid
    cell = grid_cells(first)[0]
    assert rosa.post(URL, data={**first, cell: "73"}).status_code == 302
    clash = chen.post(URL, data={**second, cell: "75"})
    assert clash.status_code == 409
    text = clash.get_data(as_text=True)
    assert "Saved meanwhile: 73" in text and 'value="75"' in text
    assert grid_form(rosa)[cell] == "73"  # nothing of Chen's was saved
    # Saving again from the conflict page is a deliberate choice: then it is kept.
    again = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', text))
    assert again[f"base-{cell}"] == "73"
    assert chen.post(URL, data={**again, cell: "75"}).status_code == 302
    assert grid_form(rosa)[cell] == "75"


def test_a_cell_left_alone_does_not_undo_a_colleagues_change(desks):
    rosa, chen = desks
    first, second = grid_form(rosa), grid_form(chen)
    one, two = grid_cells(first)[:2]
    assert rosa.post(URL, data={**first, one: "73"}).status_code == 302
    # Chen types only in the other cell; his form still holds the empty first cell.
    saved = chen.post(URL, data={**second, two: "122"}, follow_redirects=True)
    assert "Kept 1 figures someone else changed meanwhile" in saved.get_data(as_text=True)
    now = grid_form(rosa)
    assert now[one] == "73" and now[two] == "122"


def test_a_request_reference_changed_meanwhile_is_not_overwritten(desks):
    rosa, chen = desks
    url = "/campaigns/two-desks/requests/west-mercia"

    def form(client):
        page = client.get(url).get_data(as_text=True)
        reference_form = page.split('/reference"')[1].split("</form>")[0]
        return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', reference_form))

    first, second = form(rosa), form(chen)
    assert first["base"] == ""
    assert rosa.post(f"{url}/reference", data={**first, "reference": "FOI-1"}).status_code == 302
    clash = chen.post(f"{url}/reference", data={**second, "reference": "FOI-2"})
    assert clash.status_code == 409 and "Someone else saved" in clash.get_data(as_text=True)
    assert form(rosa)["reference"] == "FOI-1"
    assert chen.post(f"{url}/reference", data={**form(chen), "reference": "FOI-2"}).status_code == 302
    assert form(rosa)["reference"] == "FOI-2"


def test_a_figures_page_shows_who_changed_it_and_when(desks, session):
    rosa, chen = desks
    cell = grid_cells(grid_form(rosa))[0]
    assert rosa.post(URL, data={**grid_form(rosa), cell: "73"}).status_code == 302
    assert chen.post(URL, data={**grid_form(chen), cell: "<5"}).status_code == 302
    grid = rosa.get(URL).get_data(as_text=True)
    link = re.search(r'href="(/campaigns/two-desks/requests/west-mercia/figures/\d+)"', grid).group(1)
    page = rosa.get(link).get_data(as_text=True)
    history = page.split("<h2>History</h2>")[1]
    assert "create" in history and "update" in history
    assert "73" in history and "&lt;5" in history
    assert history.index("update") < history.index("create")  # newest first
    assert rosa.get(link.replace("/figures/", "/figures/9")).status_code == 404
