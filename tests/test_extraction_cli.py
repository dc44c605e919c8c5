"""`foitrack figures extract` (issue 19): proposals from reply files or the request's stored
attachments, as a table or JSON; --accept previews and saves only with --yes, through the grid's
save (its audit trail, a checked figure's change said)."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import select

from foitrack.models import Attachment, AuditEntry, Figure, InboundMessage, StoredFile
from foitrack.services.requests import get_request
from foitrack.storage import FileStore
from tests.commands import invoke
from tests.factories import EXAMPLE_DESIGN, FIGURES_HEADER
from tests.fixtures.reply_corpus import Grid, PdfPage, draw_grid, pdf_bytes


def reply_pdf() -> bytes:
    page = PdfPage()
    top = page.paragraph(50, "West Mercia Police. Offences of sexual communication with a child:")
    grid = Grid([["Platform", "2018/19"]],
                [["Instagram", "12*"], ["FB Messenger", "<5"], ["Not recorded", "not recorded"],
                 ["Total", "40"]], [])
    draw_grid(page, top, grid, True, random.Random(1))
    return pdf_bytes([page])


DESIGN = EXAMPLE_DESIGN.replace('"Messenger"', '{label = "Messenger", aliases = ["FB Messenger"]}', 1)


@pytest.fixture
def campaign(runner, tmp_path):
    invoke(runner, "authorities", "load")
    design = tmp_path / "design.toml"
    design.write_text(DESIGN)
    assert invoke(runner, "campaigns", "create", "--from", str(design)).exit_code == 0
    return runner


def test_json_lists_each_proposal_with_where_it_was_written(campaign, tmp_path):
    reply = tmp_path / "reply.pdf"
    reply.write_bytes(reply_pdf())
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000016",
                    str(reply), "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    got = {(r["category"], r["value"], r["parsed_kind"]) for r in rows}
    assert got == {("Instagram", "12*", "exact"), ("Messenger", "<5", "suppressed"),
                   ("Not recorded", "not recorded", "not_recorded"), ("", "40", "exact")}
    total = next(r for r in rows if r["category"] == "")
    assert total["dimension"] == "" and total["authority"] == "E23000016"
    assert total["file"] == "reply.pdf" and total["location"] == "page 1, table 1, row 5, column 2"
    assert total["measure"] == "offences" and total["period"] == "2018-19"
    assert 0 < total["confidence"] <= 1 and len(total["bbox"]) == 4


def test_accept_previews_and_saves_only_with_yes(campaign, tmp_path, session):
    reply = tmp_path / "reply.pdf"
    reply.write_bytes(reply_pdf())
    args = ("figures", "extract", "grooming-2019", "--authority", "E23000016", str(reply), "--accept")
    result = invoke(campaign, *args)
    assert result.exit_code == 0
    assert "Preview: 4 new, 0 changed, 0 unchanged, 0 conflict." in result.stderr
    assert "Nothing was saved" in result.stderr
    assert session.scalars(select(Figure)).all() == []
    result = invoke(campaign, *args, "--yes")
    assert "Saved: 4 new" in result.stderr
    session.expire_all()
    figures = {f.category.label if f.category else None: f for f in session.scalars(select(Figure))}
    assert figures["Instagram"].value == 12 and figures["Instagram"].caveat == "footnote *"
    assert figures[None].source == "reply.pdf, page 1, table 1, row 5, column 2"
    assert session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "figure",
                                                   AuditEntry.action == "create")) is not None
    # Again: nothing new, nothing changed.
    assert "0 new, 0 changed, 4 unchanged" in invoke(campaign, *args).stderr


def test_a_changed_figure_is_shown_as_a_change(campaign, tmp_path):
    figures = tmp_path / "figures.csv"
    figures.write_text(FIGURES_HEADER + "E23000016,offences,2018-19,,,39,,typed\n")
    assert invoke(campaign, "figures", "import", "grooming-2019", str(figures)).exit_code == 0
    reply = tmp_path / "reply.pdf"
    reply.write_bytes(reply_pdf())
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000016",
                    str(reply), "--accept")
    assert "3 new, 1 changed" in result.stderr
    assert "changed: offences 2018-19 total: 39 -> 40" in result.stderr


def test_without_files_it_reads_the_stored_attachments(campaign, app, session):
    store = FileStore(app.config["STORAGE_PATH"])
    data = reply_pdf()
    request = get_request(session, "grooming-2019", "E23000016")
    raw = StoredFile(sha256=store.put(b"raw message"), filename="message.eml",
                     content_type="message/rfc822", size=11, created_by="test")
    kept = StoredFile(sha256=store.put(data), filename="reply.pdf", content_type="application/pdf",
                      size=len(data), created_by="test")
    message = InboundMessage(message_key="<1@example.org>", request=request, from_address=
                             "foi@westmercia.police.uk", subject="Your request", body_text="",
                             raw_file=raw, received_by="test")
    message.attachments.append(Attachment(filename="reply.pdf", content_type="application/pdf",
                                          size=len(data), stored_file=kept))
    session.add(message)
    session.commit()
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000016",
                    "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 4
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000033")
    assert result.exit_code == 1 and "no stored attachment" in result.output


def test_yes_without_accept_is_refused(campaign):
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000016",
                    "--yes")
    assert result.exit_code == 2 and "--accept" in result.output


def test_the_table_has_a_line_per_proposal_and_says_what_was_skipped(campaign, tmp_path):
    reply = tmp_path / "reply.csv"
    reply.write_text("Offences,2018/19\nInstagram,4\nTikTok,3\nTotal,9\n")
    result = invoke(campaign, "figures", "extract", "grooming-2019", "--authority", "E23000016",
                    str(reply))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "E23000016\toffences\t2018-19\tInstagram\t4\treply.csv: B2\t0.99",
        "E23000016\toffences\t2018-19\ttotal\t9\treply.csv: B4\t0.99"]
    assert "skipped: reply.csv B3 '3': the row's label matches nothing in the design" in result.stderr
    assert "2 proposed, 1 skipped." in result.stderr
