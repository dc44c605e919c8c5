"""Exporters: exact output for the authority list and the chase list."""

from __future__ import annotations

import datetime as dt
import io

from foitrack.domain.timeline import Lateness, Status
from foitrack.exporters import authorities, chase
from foitrack.services.requests import ChaseRow

ROW = {
    "code": "E23000016", "name": "West Mercia Police", "short_name": "West Mercia",
    "region": "West Midlands", "country": "England", "kind": "territorial-police",
    "slug": "west-mercia", "foi_email": "foi@example.org", "website": "https://w.example/",
    "former_names": ["West Mercia Constabulary"], "active": True,
    "sets": ["england-wales", "west-midlands"],
}


def test_authorities_csv():
    out = io.StringIO()
    authorities.write_csv([ROW, {**ROW, "name": "=1+1", "former_names": [], "active": False}], out)
    assert out.getvalue() == (
        "code,name,short_name,region,country,kind,slug,foi_email,website,former_names,active,sets\r\n"
        "E23000016,West Mercia Police,West Mercia,West Midlands,England,territorial-police,"
        "west-mercia,foi@example.org,https://w.example/,West Mercia Constabulary,yes,"
        "england-wales | west-midlands\r\n"
        "E23000016,'=1+1,West Mercia,West Midlands,England,territorial-police,west-mercia,"
        "foi@example.org,https://w.example/,,no,england-wales | west-midlands\r\n"
    )


def test_authorities_table():
    out = io.StringIO()
    authorities.write_table([ROW], out)
    assert out.getvalue() == (
        "SLUG         CODE       NAME                REGION         KIND\n"
        "west-mercia  E23000016  West Mercia Police  West Midlands  territorial-police\n"
        "(1 authority)\n"
    )


def test_authorities_json_keeps_lists():
    out = io.StringIO()
    authorities.write_json([ROW], out)
    assert out.getvalue().startswith('[\n  {\n    "code": "E23000016",')
    assert '"sets": [\n      "england-wales",\n      "west-midlands"\n    ]' in out.getvalue()


def test_chase_csv():
    row = ChaseRow(
        campaign_slug="grooming-2019", campaign_title="Grooming", authority_slug="west-mercia",
        authority_name="West Mercia Police", authority_code="E23000016", reference="FOI/1",
        due=dt.date(2019, 5, 9), working_days_late=3, lateness=Lateness.overdue,
        last_chased=None, status=Status.awaiting_response,
    )
    out = io.StringIO()
    chase.write_csv([row], out)
    assert out.getvalue() == (
        "authority,code,campaign,due,working_days_late,lateness,last_chased,reference,status\r\n"
        "West Mercia Police,E23000016,grooming-2019,2019-05-09,3,overdue,,FOI/1,awaiting_response\r\n"
    )
