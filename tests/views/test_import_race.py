"""A figure import or a "mark checked", and a grid save of the same request at the same moment
(found by the load test's review): the grid save must wait for the other and then see what it
wrote, not write between its read and its write. Without that, an import failed on the
one-figure-a-cell index (a 500) or, for a cell emptied meanwhile, reported its value as saved
while it was not; a check marked a number its checker never saw, or failed (a 500)."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import select

from foitrack.models import Figure
from foitrack.services import figures as figure_service
from foitrack.services import templates
from foitrack.services.campaigns import get_campaign
from foitrack.storage import FileStore
from tests.factories import TEST_ACTOR, TWO_DESKS_GRID, blank, cell_for, saved
from tests.pages import csrf_token, grid_cells, grid_form, seen

pytestmark = pytest.mark.postgres

URL = TWO_DESKS_GRID
IMPORT = "/campaigns/two-desks/figures/import"
ROW = "West Mercia Police,offences,2023,,,80,,\n"


@pytest.mark.parametrize("before", ["73", ""], ids=["emptied-meanwhile", "new-meanwhile"])
def test_a_grid_save_during_an_import_waits_and_then_gets_a_conflict(desks, monkeypatch,
                                                                     before):
    rosa, chen = desks
    form = grid_form(rosa)
    cell = min(grid_cells(form), key=lambda name: int(name.split("-")[2]))  # offences, 2023
    if before:
        assert rosa.post(URL, data={**form, cell: before}).status_code == 302
    chens = grid_form(chen)
    # Chen empties the cell Rosa filled, or fills the empty one.
    chens_value = "" if before else "75"
    token = csrf_token(rosa, IMPORT)
    statuses: dict[str, int] = {}
    colleague = threading.Thread(
        target=lambda: statuses.update(chen=chen.post(URL, data={**chens, cell: chens_value})
                                       .status_code))
    start_writing = figure_service._BulkWriter.__init__

    def a_colleague_saves_meanwhile(writer, *args, **kwargs):
        start_writing(writer, *args, **kwargs)  # the figures the import is merged with, read
        if not colleague.is_alive() and "chen" not in statuses:
            colleague.start()
            colleague.join(timeout=2)  # until the import ends he can only wait

    monkeypatch.setattr(figure_service._BulkWriter, "__init__", a_colleague_saves_meanwhile)
    imported = rosa.post(IMPORT, data={
        "csrf_token": token,
        "file": (io.BytesIO(("authority,measure,period,dimension,category,value,caveat,source\n"
                             + ROW).encode()), "f.csv")}, content_type="multipart/form-data")
    statuses["rosa"] = imported.status_code
    colleague.join()
    monkeypatch.undo()

    assert statuses == {"rosa": 302, "chen": 409}
    assert grid_form(rosa)[cell] == "80"  # what the import said it saved, saved


@pytest.mark.parametrize("rosas_value", ["80", ""], ids=["changed-meanwhile", "emptied-meanwhile"])
def test_a_grid_save_during_mark_checked_waits_for_it(desks, session, monkeypatch,
                                                      rosas_value):
    rosa, chen = desks
    form = grid_form(rosa)
    cell = min(grid_cells(form), key=lambda name: int(name.split("-")[2]))
    assert rosa.post(URL, data={**form, cell: "73"}).status_code == 302
    rosas = grid_form(rosa)
    token = csrf_token(chen, URL)
    statuses: dict[str, int] = {}
    colleague = threading.Thread(
        target=lambda: statuses.update(rosa=rosa.post(URL, data={**rosas, cell: rosas_value})
                                       .status_code))
    mark = figure_service.check_figures

    def rosa_saves_meanwhile(*args, **kwargs):
        # Chen's check has read the figures (73); Rosa changes or empties the cell before his
        # check is written. Until his transaction ends her save can only wait.
        if not colleague.is_alive() and "rosa" not in statuses:
            colleague.start()
            colleague.join(timeout=2)
        return mark(*args, **kwargs)

    monkeypatch.setattr(figure_service, "check_figures", rosa_saves_meanwhile)
    statuses["chen"] = chen.post(f"{URL}/check", data={"csrf_token": token, **seen(chen, URL)}
                                 ).status_code
    colleague.join()
    monkeypatch.undo()

    assert statuses == {"chen": 302, "rosa": 302}
    session.expire_all()
    figures = session.scalars(select(Figure)).all()
    # Chen checked the 73 he read; Rosa's change came after and took the check off, or her
    # emptying removed it: never a number Chen did not see marked checked by him.
    assert [(f.figure_value.text, f.checked_by) for f in figures] == (
        [("80", None)] if rosas_value else [])


@pytest.mark.parametrize("before", ["73", ""], ids=["emptied-meanwhile", "new-meanwhile"])
def test_a_grid_save_during_a_template_import_waits_and_then_gets_a_conflict(
        desks, session, monkeypatch, tmp_path, before):
    rosa, chen = desks
    form = grid_form(rosa)
    cell = min(grid_cells(form), key=lambda name: int(name.split("-")[2]))  # offences, 2023, total
    if before:
        assert rosa.post(URL, data={**form, cell: before}).status_code == 302
    chens = grid_form(chen)
    chens_value = "" if before else "75"
    campaign = get_campaign(session, "two-desks")
    book = blank(session, campaign)
    book["Figures"][cell_for(book["Figures"], "Total")] = 80  # the first Total: 2023
    plan = templates.preview(session, campaign, [("reply.xlsx", saved(book))])
    statuses: dict[str, int] = {}
    colleague = threading.Thread(
        target=lambda: statuses.update(chen=chen.post(URL, data={**chens, cell: chens_value})
                                       .status_code))
    read_figures = figure_service.figures_of

    def a_colleague_saves_meanwhile(*args):
        figures = read_figures(*args)  # the figures the import is merged with
        if not colleague.is_alive() and "chen" not in statuses:
            colleague.start()
            colleague.join(timeout=2)  # until the import ends he can only wait
        return figures

    monkeypatch.setattr(figure_service, "figures_of", a_colleague_saves_meanwhile)
    report = templates.apply(session, TEST_ACTOR, plan, FileStore(tmp_path / "files"))
    session.commit()
    colleague.join()
    monkeypatch.undo()

    assert (report.created, report.changed) == ((0, 1) if before else (1, 0))
    assert statuses == {"chen": 409}
    assert grid_form(rosa)[cell] == "80"
