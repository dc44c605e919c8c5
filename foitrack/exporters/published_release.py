"""A published release's own files: the SQLite database, the methods note as HTML, CITATION.cff
and the suggested citation, and a zip (an XLSX) made byte-for-byte repeatable.

Each takes plain values (the release's frozen tables) and writes them the same way every time,
so that a release exported again later gives the same bytes, whatever the clock says.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foitrack.exporters.dataset import Table

# Table Schema types as SQLite column types (dates stay ISO text, booleans 0 and 1).
_SQLITE_TYPES = {"integer": "INTEGER", "number": "REAL", "boolean": "INTEGER",
                 "date": "TEXT", "string": "TEXT"}


@dataclass(frozen=True)
class Citation:
    """What a release is cited by."""

    title: str
    organisation: str
    version: int
    published: dt.date
    url: str | None
    licence: str
    description: str

    def text(self) -> str:
        """The suggested citation: 'Organisation (2019). Title, version 1. URL'."""
        where = f" {self.url}" if self.url else ""
        return (f"{self.organisation} ({self.published.year}). {self.title}, version "
                f"{self.version} (published {self.published.isoformat()}). Dataset.{where}\n")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_value(value: Any, kind: str) -> Any:
    if value is None or (value == "" and kind != "string"):
        return None
    if kind == "boolean":
        return int(bool(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_sqlite(tables: Sequence[Table], target: Path) -> None:
    """The tables as an SQLite database at ``target``, each with its primary key, in the order
    given, rows as they come.

    Written to a scratch file, then copied with VACUUM INTO: the copy is laid out afresh, so
    its pages (and the header's counters) depend only on what it holds, not on how it was
    written. Replaces ``target`` whole, so a reader never sees half a database.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        draft = Path(scratch) / "draft.sqlite"
        packed = Path(scratch) / "packed.sqlite"
        connection = sqlite3.connect(draft)
        try:
            for table in tables:
                columns = [f"{_quote(c.name)} {_SQLITE_TYPES.get(c.type, 'TEXT')}"
                           for c in table.columns]
                if table.primary_key:
                    columns.append(f"PRIMARY KEY ({', '.join(map(_quote, table.primary_key))})")
                connection.execute(f"CREATE TABLE {_quote(table.name)} ({', '.join(columns)})")
                marks = ", ".join("?" for _ in table.columns)
                connection.executemany(
                    f"INSERT INTO {_quote(table.name)} VALUES ({marks})",
                    ([_sqlite_value(row.get(c.name), c.type) for c in table.columns]
                     for row in table.rows()))
            connection.commit()
            connection.execute("VACUUM INTO ?", (str(packed),))
        finally:
            connection.close()
        os.replace(packed, target)


def repeatable_zip(data: bytes, when: dt.datetime) -> bytes:
    """The same zip with every entry dated ``when`` and an XLSX's document properties
    (created, modified) set to it: openpyxl stamps the time of saving into both."""
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    date_time = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _restamp_core(body.decode("utf-8"), stamp).encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            copy.writestr(entry, body)
    return out.getvalue()


def _restamp_core(xml: str, stamp: str) -> str:
    for tag in ("dcterms:created", "dcterms:modified"):
        xml = re.sub(rf"(<{tag}[^>]*>)[^<]*(</{tag}>)", rf"\g<1>{stamp}\g<2>", xml)
    return xml


def citation_cff(citation: Citation) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the release as a dataset."""
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite it as below."',
        "type: dataset",
        f"title: {_yaml_text(citation.title)}",
        "authors:",
        f"  - name: {_yaml_text(citation.organisation)}",
        f'version: "{citation.version}"',
        f"date-released: {citation.published.isoformat()}",
        f"license: {_yaml_text(citation.licence)}",
        f"abstract: {_yaml_text(citation.description)}",
    ]
    if citation.url:
        lines.append(f"url: {_yaml_text(citation.url)}")
    return "\n".join(lines) + "\n"


# The formats a release's files come in, as DataCite lists them.
DATACITE_FORMATS = ("application/vnd.sqlite3", "text/csv",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "application/json", "text/html")


def datacite_json(citation: Citation, licences: Sequence[dict[str, str]], *,
                  previous_url: str | None, methods: Sequence[str]) -> str:
    """The release's metadata in the DataCite Metadata Schema 4.5 (its JSON form, the
    ``attributes`` a DOI is registered with): what a repository or DataCite member asks for
    to deposit the release for a DOI. The DOI itself is given by them, so none is here."""
    attributes: dict[str, Any] = {
        "types": {"resourceTypeGeneral": "Dataset",
                  "resourceType": "Figures from Freedom of Information requests"},
        "creators": [{"name": citation.organisation, "nameType": "Organizational"}],
        "titles": [{"title": citation.title}],
        "publisher": {"name": citation.organisation},
        "publicationYear": str(citation.published.year),
        "version": str(citation.version),
        "dates": [{"date": citation.published.isoformat(), "dateType": "Issued"}],
        "language": "en",
        "subjects": [{"subject": "Freedom of Information"}],
        "rightsList": [{"rights": licence.get("title", licence["name"]),
                        "rightsIdentifier": licence["name"],
                        **({"rightsUri": licence["path"]} if licence.get("path") else {})}
                       for licence in licences],
        "descriptions": [{"description": citation.description, "descriptionType": "Abstract"}],
        "formats": list(DATACITE_FORMATS),
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    if methods:
        attributes["descriptions"].append({"description": "\n\n".join(methods),
                                           "descriptionType": "Methods"})
    if citation.url:
        attributes["url"] = citation.url
        attributes["alternateIdentifiers"] = [{"alternateIdentifier": citation.url,
                                               "alternateIdentifierType": "URL"}]
    if previous_url:
        attributes["relatedIdentifiers"] = [{"relatedIdentifier": previous_url,
                                             "relatedIdentifierType": "URL",
                                             "relationType": "IsNewVersionOf"}]
    return json.dumps(attributes, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _yaml_text(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escaping is valid YAML)."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


@dataclass(frozen=True)
class MethodsPage:
    """What the methods note's HTML page shows."""

    title: str
    campaign: str
    version: int
    published: str  # the release's time, in words
    embargo: str | None
    note: str | None
    subject: str
    checked_only: bool
    methods: Sequence[str]
    lines: Sequence[str]
    wording: Sequence[tuple[int, str, str]]  # (version, subject, text)
    citation: str


_STYLE = """body{font-family:Georgia,serif;max-width:42em;margin:2em auto;padding:0 1em;
line-height:1.5;color:#111}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em}
.request{white-space:pre-wrap;border-left:3px solid #999;padding-left:1em}
@media print{body{margin:0;max-width:none;font-size:11pt}a{color:inherit}
h2{break-after:avoid}li,p{break-inside:avoid}}"""


def methods_html(page: MethodsPage) -> str:
    """The methods note as a standalone HTML page, set for the screen and for printing to PDF."""
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
        f"<title>{e(page.title)}: methods (version {page.version})</title>",
        f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>{e(page.title)}</h1>",
        f"<p>Version {page.version}, published {e(page.published)}"
        + (f"; embargoed until {e(page.embargo)}" if page.embargo else "") + ".</p>",
        f"<p>Covers {e(page.subject)}"
        + ("; only figures a second researcher checked." if page.checked_only else ".") + "</p>",
    ]
    if page.note:
        parts += ["<h2>What changed in this version</h2>", f"<p>{e(page.note)}</p>"]
    parts += ["<h2>Findings</h2>", "<ul>", *(f"<li>{e(line)}</li>" for line in page.lines),
              "</ul>", "<h2>Methods</h2>", *(f"<p>{e(line)}</p>" for line in page.methods)]
    for number, subject, text in page.wording:
        parts += [f"<h2>The request (wording {number})</h2>", f"<p><strong>{e(subject)}</strong></p>",
                  f'<p class="request">{e(text)}</p>']
    parts += ["<h2>How to cite</h2>", f"<p>{e(page.citation.strip())}</p>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"
