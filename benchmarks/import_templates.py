"""Times the preview and import of the 43 filled response templates of the acceptance campaign.

    python -m benchmarks.import_templates

Each force's figures (tests/fixtures/grooming-2019.csv) are written into its own template as
the force would fill it; the timer covers reading all 43 files, the preview and the import.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from foitrack import migrate
from foitrack.db import Database, make_engine
from foitrack.services import requests, templates
from foitrack.services.audit import Actor
from foitrack.services.design import create_from_file
from foitrack.services.registry import load_registry
from foitrack.storage import FileStore

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def filled_templates(session: object, campaign: object) -> list[tuple[str, bytes]]:
    given: dict[str, dict[tuple[str, str, str], str]] = {}
    with (FIXTURES / "grooming-2019.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["period"], row["dimension"], row["category"])
            given.setdefault(row["authority"], {})[key] = row["value"]
    files = []
    for request in requests.campaign_requests(session, campaign):  # type: ignore[arg-type]
        book = load_workbook(io.BytesIO(templates.template_bytes(campaign, request)))  # type: ignore[arg-type]
        sheet = book["Figures"]
        mine = given.get(request.authority.code or "", {})
        for row in range(13, sheet.max_row + 1):
            category = sheet[f"D{row}"].value
            key = (sheet[f"H{row}"].value, sheet[f"I{row}"].value or "",
                   "" if category == "Total" else category)
            if key in mine:
                value = mine[key]
                sheet[f"E{row}"] = int(value) if value.isdigit() else value
        out = io.BytesIO()
        book.save(out)
        files.append((f"{request.authority.slug}.xlsx", out.getvalue()))
    return files


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'db.sqlite3'}")
    migrate.upgrade(engine)
    actor = Actor.system("benchmark")
    with Database(engine).session() as session:
        load_registry(session, actor)
        campaign = create_from_file(session, actor, (FIXTURES / "grooming-2019.toml").read_text())
        session.commit()
        files = filled_templates(session, campaign)
        start = time.perf_counter()
        plan = templates.preview(session, campaign, files)
        templates.apply(session, actor, plan, FileStore(folder / "files"))
        session.commit()
        took = time.perf_counter() - start
    print(f"{len(files)} templates: preview and import {took:.2f} s, {plan.count('new')} figures")


if __name__ == "__main__":
    main()
