"""Two researchers saving the same grid at the same moment, found by the load test
(benchmarks/load.py): the second save must wait for the first and then see it, not read the
figures before the first commits and then overwrite them or fail on a duplicate cell."""

from __future__ import annotations

import threading

import pytest

from foitrack.services import figures as figure_service
from tests.factories import TWO_DESKS_GRID
from tests.pages import grid_cells, grid_form

pytestmark = pytest.mark.postgres

URL = TWO_DESKS_GRID


def test_a_save_racing_a_colleagues_save_of_the_same_cell_gets_a_conflict(desks, monkeypatch):
    rosa, chen = desks
    first, second = grid_form(rosa), grid_form(chen)  # both open the grid; the cell is empty
    cell = grid_cells(first)[0]
    read_figures = figure_service.figures_of
    statuses: dict[str, int] = {}
    colleague = threading.Thread(
        target=lambda: statuses.update(chen=chen.post(URL, data={**second, cell: "75"}).status_code))

    def a_colleague_saves_meanwhile(session, found):
        figures = read_figures(session, found)
        if not colleague.is_alive() and "chen" not in statuses:
            # Rosa's save has read the figures; Chen saves before hers is written. Until
            # Rosa's transaction ends his save can only wait, so stop waiting after a while.
            colleague.start()
            colleague.join(timeout=2)
        return figures

    monkeypatch.setattr(figure_service, "figures_of", a_colleague_saves_meanwhile)
    statuses["rosa"] = rosa.post(URL, data={**first, cell: "73"}).status_code
    colleague.join()

    assert statuses == {"rosa": 302, "chen": 409}
    monkeypatch.undo()
    assert grid_form(rosa)[cell] == "73"
