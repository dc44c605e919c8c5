"""The JSON API under /api/v1: authorities, campaigns, requests, events, figures, aggregates, exports.

Scripts authenticate with a per-user API token (`Authorization: Bearer foit_...`); the token
acts with its user's role through the same access table as the pages. Errors are RFC 9457
problem details. Each route is declared with `operation`, which also writes its part of the
OpenAPI document served at /api/v1/openapi.json, so the document is generated from the code.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from foitrack.domain.limits import MAX_NOTE
from foitrack.domain.timeline import EventKind, Status
from foitrack.errors import Invalid, NotFound, Problem
from foitrack.exporters.aggregate import row_dict
from foitrack.services import aggregate as agg
from foitrack.services import authorities as authority_service
from foitrack.services import campaigns as campaign_service
from foitrack.services import datasets
from foitrack.services import requests as request_service
from foitrack.services.datasets import CSV_TABLES, EXPORT_FORMATS
from foitrack.web.api import schemas as s
from foitrack.web.context import (
    actor,
    clock_settings,
    db_session,
    external_url,
    site_root,
    today,
    visible_campaigns,
)
from foitrack.web.downloads import dataset_download

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 500


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    response: dict[str, Any]
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    status: int = 200
    public: bool = False
    # Media types and schemas of a success that is not JSON (downloads); None: the JSON response.
    content: dict[str, Any] | None = None
    body_required: bool = True


OPERATIONS: list[Operation] = []


def operation(rule: str, summary: str, response: dict[str, Any], *, method: str = "GET",
              parameters: Iterable[dict[str, Any]] = (), body: dict[str, Any] | None = None,
              status: int = 200, public: bool = False, content: dict[str, Any] | None = None,
              body_required: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view as a route of the API and as an operation of its OpenAPI document."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(rule, method, f"api.{view.__name__}", summary, response, list(parameters),
                       body, status, public, content, body_required)
        OPERATIONS.append(op)

        @functools.wraps(view)
        def checked(**kwargs: Any) -> Any:
            _check_query(op)
            return view(**kwargs)

        return blueprint.route(rule, methods=[method])(checked)

    return decorate


# ---- problems ---------------------------------------------------------------------------------

def problem(status: int, title: str, detail: str, errors: list[Problem] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": p.field, "message": str(p) if p.line else p.message}
                          for p in errors]
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return problem(error.code or 500, error.name, error.description or error.name)


# Domain errors (NotFound 404, Forbidden 403, Conflict 409, Invalid 422) are mapped for the
# whole app in foitrack.web.app, as problem+json here.


# ---- parameters -------------------------------------------------------------------------------

def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 80}}


PAGE = [_query("page", "page number, from 1", {"type": "integer", "minimum": 1, "maximum": 10**9,
                                               "default": 1}),
        _query("per_page", f"items a page, at most {MAX_PER_PAGE}",
               {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 100})]
SLUG = _path("slug", "the campaign's short name")
AUTHORITY = {**_path("authority", "the authority's slug (e.g. west-mercia) or ONS code (e.g. "
                                  "E23000016), in any case"),
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]*$", "maxLength": 80}}
CHECKED = _query("checked", "only figures a second researcher checked", {"type": "boolean"})


def _check_query(op: Operation) -> None:
    """Hold the query string to what the document says of each parameter (lengths, choices,
    whole numbers, yes/no), so that the two cannot disagree: a value the document rules out is
    refused with 422 naming it, an empty one included. Parameters it does not list are ignored.
    :raises Invalid:"""
    problems = []
    for parameter in op.parameters:
        name, schema = parameter["name"], parameter["schema"]
        if parameter["in"] != "query" or name not in request.args:
            continue
        problem = _against(name, request.args[name], schema)
        if problem:
            problems.append(Problem(problem, field=name))
    if problems:
        raise Invalid(problems)


def _against(name: str, value: str, schema: dict[str, Any]) -> str | None:
    """What is wrong with ``value`` for a query parameter of this schema, or None."""
    kind = schema.get("type")
    if "enum" in schema and value not in schema["enum"]:
        return f"{name} must be one of {', '.join(schema['enum'])}"
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,30}", value):
            return f"{name} must be a whole number"
        low, high = schema.get("minimum", -10**30), schema.get("maximum", 10**30)
        if not low <= int(value) <= high:
            return f"{name} must be from {low} to {high}"
    if kind == "boolean" and value.lower() not in ("true", "false", "1", "0"):
        return f"{name} must be true or false"
    if kind == "string":
        if len(value) > schema.get("maxLength", len(value)):
            return f"{name} may be up to {schema['maxLength']} characters long"
        if len(value) < schema.get("minLength", 0):
            return f"{name} must not be empty"
    return None


def _checked_only() -> bool:
    """The ``checked`` filter. :raises Invalid: naming it, for anything but true or false."""
    checked = request.args.get("checked", "false").lower()
    if checked not in ("true", "false", "1", "0"):
        raise Invalid("checked must be true or false", field="checked")
    return checked in ("true", "1")


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(f"{name} must be a whole number", field=name) from None
    if not low <= value <= high:
        raise Invalid(f"{name} must be from {low} to {high}", field=name)
    return value


def _paged(rows: Iterable[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
    page = _int_arg("page", 1, 1, 10**9)
    per_page = _int_arg("per_page", 100, 1, MAX_PER_PAGE)
    rows = list(rows) if total is None else rows
    if total is None:
        total = len(rows)  # type: ignore[arg-type]
    start = (page - 1) * per_page
    items = list(itertools.islice(rows, start, start + per_page))
    more = start + per_page < total
    next_url = external_url(request.endpoint or "", **{
        **(request.view_args or {}), **request.args.to_dict(), "page": page + 1}) if more else None
    return {"items": items, "page": page, "per_page": per_page, "total": total, "next": next_url}


# ---- the document ------------------------------------------------------------------------------

AUTHORITY_SCHEMA = s.obj({
    "slug": s.string("foitrack's key for the authority"),
    "code": s.string("ONS code, e.g. E23000016", nullable=True),
    "name": s.string("full name"), "short_name": s.string("short name"),
    "kind": s.string("e.g. territorial-police"),
    "country": s.string("country", nullable=True), "region": s.string("region", nullable=True),
    "foi_email": s.string("FOI address", nullable=True),
    "website": s.string("website", nullable=True),
    "active": {"type": "boolean", "description": "still asked in new campaigns"},
    "sets": {"type": "array", "items": {"type": "string"}, "description": "sets it belongs to"},
})
EXPORT_LINKS: dict[str, tuple[str, dict[str, str]]] = {
    "xlsx": ("xlsx", {}), "json": ("json", {}), "data_package": ("zip", {}),
    **{f"csv_{table}": ("csv", {"table": table}) for table in CSV_TABLES}}
CAMPAIGN_SCHEMA = s.obj({
    "slug": s.string("short name"), "title": s.string("title"),
    "status": s.string("draft, active or closed"),
    "embargo_until": s.string("embargo date", nullable=True, format="date"),
    "requests": s.integer("how many authorities were asked", minimum=0),
    "created_at": s.string("when it was made", format="date-time"),
    "links": s.obj({name: s.string(f"URL of the {name.replace('_', ' ')}") for name in (
        "requests", "figures", "aggregate", *EXPORT_LINKS)}),
})
TRACKER_SCHEMA = s.object_schema(datasets.TRACKER_COLUMNS)
EVENT_SCHEMA = s.obj({
    "id": s.integer("event id"), "kind": s.string("what happened", enum=[k.value for k in EventKind]),
    "occurred_on": s.string("date", format="date"),
    "outcome": s.string("outcome of a response, review or decision", nullable=True),
    "exemptions": {"type": "array", "items": {"type": "string"}},
    "note": s.string("note", nullable=True),
    "removed": {"type": "boolean", "description": "removed as a mistake (kept, struck through)"},
    "created_by": s.string("who recorded it"),
    "case_reference": s.string("the Commissioner's (tribunal's, court's) case reference",
                               nullable=True),
    "steps_ordered": s.string("the steps a decision notice orders", nullable=True),
    "comply_by": s.string("the date a decision notice gives for them", nullable=True,
                          format="date"),
})
# A narrowed follow-up: a new request (FOIA s.1(1)) with its own clock (s.10(1)), listed on its
# authority's (first) request, which keeps the figures.
FOLLOW_UP_SCHEMA = s.obj({
    "number": s.integer("the follow-up's number: 1, 2, ..."),
    "sent_on": s.string("date sent", format="date", nullable=True),
    "due_on": s.string("its own statutory due date", format="date", nullable=True),
    "status": s.string("where it is", enum=[x.value for x in Status]),
    "outcome": s.string("what stands", nullable=True),
    "wording": s.string("the narrowed question")})
# One request: the tracker's row, its events, and its follow-ups themselves (the tracker
# gives only their number, follow_up_count).
REQUEST_SCHEMA = {**TRACKER_SCHEMA, "properties": {
    **TRACKER_SCHEMA["properties"], "events": {"type": "array", "items": EVENT_SCHEMA},
    "follow_ups": {"type": "array", "items": FOLLOW_UP_SCHEMA}},
    "required": [*TRACKER_SCHEMA["required"], "events", "follow_ups"]}
FIGURE_SCHEMA = s.object_schema(datasets.FIGURE_COLUMNS)
AGGREGATE_SCHEMA = s.object_schema(datasets.AGGREGATE_COLUMNS_DESCRIBED)
# Text a database can keep: no NUL and no unpaired surrogate (refused by foitrack.web). Said
# as the characters allowed, a form schema generators honour; characters beyond U+FFFF (emoji)
# are accepted too, though a portable pattern cannot say so.
STORABLE = "^[\\x01-\\uD7FF\\uE000-\\uFFFF]*$"
NEW_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in EventKind]},
        "occurred_on": {"type": "string", "format": "date"},
        "outcome": {"type": ["string", "null"], "pattern": STORABLE},
        "exemptions": {"type": "array", "items": {"type": "string", "maxLength": 40,
                                                   "pattern": STORABLE}, "maxItems": 20},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE, "pattern": STORABLE},
        "received_on": {"type": ["string", "null"], "format": "date"},
        "due_on": {"type": ["string", "null"], "format": "date"},
        "case_reference": {"type": ["string", "null"], "maxLength": 100, "pattern": STORABLE},
        "steps_ordered": {"type": ["string", "null"], "maxLength": MAX_NOTE, "pattern": STORABLE},
        "comply_by": {"type": ["string", "null"], "format": "date"},
    },
    "required": ["kind", "occurred_on"],
    "additionalProperties": False,
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every operation registered above."""
    paths: dict[str, Any] = {}
    sets = sorted(x.slug for x, _count in authority_service.list_sets(db_session()))
    for op in OPERATIONS:
        # Flask's <slug> and <int(min=1, max=...):job_id> both become OpenAPI's {name}.
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", op.rule)
        responses: dict[str, Any] = {str(op.status): {
            "description": op.summary,
            "content": op.content or {"application/json": {"schema": op.response}}}}
        errors = {"404": "no such campaign, request or authority"} if "{" in path else {}
        if not op.public:
            errors.update({"401": "no valid API token", "403": "the token's role does not allow this"})
        if op.parameters or op.body:
            errors["422"] = "the input has problems; nothing was changed"
        if op.method == "POST":
            errors["409"] = "the change clashes with the current state; nothing was changed"
        for code, text in errors.items():
            responses[code] = {"description": text, "content": {
                "application/problem+json": {"schema": s.PROBLEM}}}
        parameters = [{**p, "schema": {"type": "string", "enum": sets}}
                      if p["name"] == "set" and p["in"] == "query" and sets else p
                      for p in op.parameters]
        item: dict[str, Any] = {"operationId": op.endpoint.removeprefix("api."),
                                "summary": op.summary, "parameters": parameters,
                                "responses": responses}
        if op.public:
            item["security"] = []
        if op.body:
            item["requestBody"] = {"required": op.body_required,
                                   "content": {"application/json": {"schema": op.body}}}
        paths.setdefault("/api/v1" + path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "foitrack API", "version": "1",
                 "description": "FOI campaigns, requests and the figures they returned."},
        "servers": [{"url": site_root()}],
        "components": {"securitySchemes": {"token": {
            "type": "http", "scheme": "bearer",
            "description": "An API token made on the 'API tokens' page; it acts with your role."}}},
        "security": [{"token": []}],
        "paths": paths,
    }


@operation("/openapi.json", "This document", {"type": "object"}, public=True)
def openapi() -> Any:
    return jsonify(openapi_document())


# ---- resources ---------------------------------------------------------------------------------

def _authority(a: Any) -> dict[str, Any]:
    return {"slug": a.slug, "code": a.code, "name": a.name, "short_name": a.short_name,
            "kind": a.kind, "country": a.country, "region": a.region, "foi_email": a.foi_email,
            "website": a.website, "active": a.active, "sets": sorted(x.slug for x in a.sets)}


@operation("/authorities", "Authorities, by name", s.page_of(AUTHORITY_SCHEMA), parameters=[
    # The sets that exist are filled in when the document is served (see openapi_document).
    _query("set", "only this set's members", {"type": "string", "minLength": 1, "maxLength": 80}),
    _query("region", "only this region", {"type": "string", "maxLength": 100}),
    _query("q", "names and codes containing this", {"type": "string", "maxLength": 200}), *PAGE])
def authorities() -> Any:
    try:
        found = authority_service.find_authorities(
            db_session(), set_slug=request.args.get("set") or None,
            region=request.args.get("region") or None, search=request.args.get("q"))
    except NotFound as error:  # a filter naming no set is bad input, not a missing resource
        raise Invalid(str(error), field="set") from None
    return jsonify(_paged([_authority(a) for a in found]))


@operation("/authorities/<authority>", "One authority", AUTHORITY_SCHEMA, parameters=[AUTHORITY])
def authority(authority: str) -> Any:
    return jsonify(_authority(_find_authority(authority)))


def _find_authority(key: str) -> Any:
    """The authority a path names by slug or ONS code, in any case. :raises NotFound:"""
    from foitrack.services.campaigns import find_authorities_by_keys

    # Slugs are kept lower-case and ONS codes upper-case, so each spelling is tried in its form.
    for candidate in dict.fromkeys((key.lower(), key.upper())):
        try:
            return find_authorities_by_keys(db_session(), [candidate], "authority")[0]
        except Invalid:
            continue
    raise NotFound(f"no authority {key!r}")


def _request_for(slug: str, authority: str) -> Any:
    """The campaign's request to an authority named as /authorities/{authority} names it, with
    the same words for every way of not finding it. :raises NotFound:"""
    try:
        return request_service.get_request(db_session(), slug, _find_authority(authority).slug)
    except NotFound:
        raise NotFound(f"campaign {slug!r} has no request to {authority!r}") from None


def _campaign(c: Any, requests: int) -> dict[str, Any]:
    return {
        "slug": c.slug, "title": c.title, "status": c.status.value,
        "embargo_until": c.embargo_until.isoformat() if c.embargo_until else None,
        "requests": requests, "created_at": c.created_at.isoformat(),
        "links": {
            "requests": external_url("api.campaign_requests", slug=c.slug),
            "figures": external_url("api.figures", slug=c.slug),
            "aggregate": external_url("api.aggregate", slug=c.slug),
            # Downloads through the API, so the same token opens them (a page's link needs a
            # signed-in browser).
            **{name: external_url("api.export", slug=c.slug, fmt=fmt, **args)
               for name, (fmt, args) in EXPORT_LINKS.items()},
        },
    }


@operation("/campaigns", "Campaigns, newest first", s.page_of(CAMPAIGN_SCHEMA), parameters=[
    _query("status", "only campaigns with this status",
           {"type": "string", "enum": ["draft", "active", "closed"]}), *PAGE])
def campaigns() -> Any:
    session = db_session()
    status = request.args.get("status")  # checked against the document (_check_query)
    found = [c for c in campaign_service.list_campaigns(session, visible_campaigns())
             if not status or c.status.value == status]
    counts = campaign_service.request_counts(session, [c.id for c in found])
    return jsonify(_paged([_campaign(c, counts.get(c.id, 0)) for c in found]))


@operation("/campaigns/<slug>", "One campaign", CAMPAIGN_SCHEMA, parameters=[SLUG])
def campaign(slug: str) -> Any:
    session = db_session()
    found = campaign_service.get_campaign(session, slug)
    return jsonify(_campaign(found, campaign_service.request_counts(session, [found.id]).get(found.id, 0)))


def _tracker(session: Any, found: Any) -> list[dict[str, Any]]:
    return [s.typed(row, datasets.TRACKER_COLUMNS)
            for row in datasets.tracker_rows(session, found, today(), clock_settings())]


@operation("/campaigns/<slug>/requests", "A campaign's requests, with their derived status",
           s.page_of(TRACKER_SCHEMA), parameters=[
               SLUG, _query("status", "only requests with this status",
                            {"type": "string", "enum": [x.value for x in Status]}), *PAGE])
def campaign_requests(slug: str) -> Any:
    session = db_session()
    status = request.args.get("status")  # checked against the document (_check_query)
    rows = _tracker(session, campaign_service.get_campaign(session, slug))
    return jsonify(_paged([r for r in rows if not status or r["status"] == status]))


def _event(e: Any) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind.value, "occurred_on": e.occurred_on.isoformat(),
            "outcome": e.outcome, "exemptions": list(e.exemptions or []), "note": e.note,
            "removed": e.removed_at is not None, "created_by": e.created_by,
            "case_reference": e.case_reference, "steps_ordered": e.steps_ordered,
            "comply_by": e.comply_by.isoformat() if e.comply_by else None}


def _follow_up(follow_up: Any) -> dict[str, Any]:
    state = request_service.state_of(follow_up, today(), clock_settings())
    due = state.response_deadline.due if state.response_deadline else None
    return {"number": follow_up.follow_up_number,
            "sent_on": state.sent_on.isoformat() if state.sent_on else None,
            "due_on": due.isoformat() if due else None, "status": state.status.value,
            "outcome": state.outcome, "wording": follow_up.question or ""}


def _request_body(found: Any) -> dict[str, Any]:
    return {**s.typed(datasets.tracker_row(found, today(), clock_settings()), datasets.TRACKER_COLUMNS),
            "events": [_event(e) for e in sorted(found.events, key=lambda e: (e.occurred_on, e.id))],
            "follow_ups": [_follow_up(f) for f in found.follow_ups]}


@operation("/campaigns/<slug>/requests/<authority>", "One request and its timeline",
           REQUEST_SCHEMA, parameters=[SLUG, AUTHORITY])
def request_detail(slug: str, authority: str) -> Any:
    return jsonify(_request_body(_request_for(slug, authority)))


def _date(body: dict[str, Any], name: str, required: bool = False) -> dt.date | None:
    raw = body.get(name)
    if raw in (None, ""):
        if required:
            raise Invalid(f"{name} is required", field=name)
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise Invalid(f"{name} must be a date as YYYY-MM-DD", field=name) from None


@operation("/campaigns/<slug>/requests/<authority>/events", "Record an event on a request",
           REQUEST_SCHEMA, method="POST", parameters=[SLUG, AUTHORITY], body=NEW_EVENT, status=201)
def add_event(slug: str, authority: str) -> Any:
    session = db_session()
    found = _request_for(slug, authority)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("send a JSON object with at least kind and occurred_on")
    unknown = sorted(set(body) - set(NEW_EVENT["properties"]))
    if unknown:
        raise Invalid(f"unknown fields: {', '.join(unknown)}", field=unknown[0])
    kind = body.get("kind")
    if kind not in {k.value for k in EventKind}:
        raise Invalid("kind must be one of " + ", ".join(k.value for k in EventKind), field="kind")
    exemptions = body.get("exemptions") or []
    note, outcome = body.get("note"), body.get("outcome")
    if not isinstance(exemptions, list) or not all(isinstance(x, str) for x in exemptions):
        raise Invalid("exemptions must be a list of sections, e.g. [\"s.12\"]", field="exemptions")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise Invalid(f"note must be text of up to {MAX_NOTE:,} characters", field="note")
    if outcome is not None and not isinstance(outcome, str):
        raise Invalid("outcome must be text", field="outcome")
    occurred_on = _date(body, "occurred_on", required=True) or today()
    received_on, due_on = _date(body, "received_on"), _date(body, "due_on")
    comply_by = _date(body, "comply_by")
    case_reference, steps_ordered = body.get("case_reference"), body.get("steps_ordered")
    for name, value in (("case_reference", case_reference), ("steps_ordered", steps_ordered)):
        if value is not None and not isinstance(value, str):
            raise Invalid(f"{name} must be text", field=name)
    try:
        request_service.add_event(
            session, actor(), found, kind, occurred_on, today=today(), note=note,
            outcome=outcome or None, exemptions=exemptions, received_on=received_on, due_on=due_on,
            case_reference=case_reference, steps_ordered=steps_ordered, comply_by=comply_by)
    except Invalid as error:
        # Well-formed, but the request's timeline does not allow it (a response before the
        # request was sent, a date in the future...): a clash with its state, so 409.
        session.rollback()
        return problem(409, "Conflict", "The request's timeline does not allow this event; "
                       "nothing was recorded.", error.problems)
    session.commit()
    session.refresh(found)
    response = jsonify(_request_body(found))
    response.status_code = 201
    response.headers["Location"] = url_for("api.request_detail", slug=slug, authority=authority)
    return response


@operation("/campaigns/<slug>/figures", "Every figure the authorities gave", s.page_of(FIGURE_SCHEMA),
           parameters=[SLUG, CHECKED, *PAGE])
def figures(slug: str) -> Any:
    session = db_session()
    found = campaign_service.get_campaign(session, slug)
    checked = _checked_only()
    total = campaign_service.figure_count(session, found, checked_only=checked)
    rows = (s.typed(r, datasets.FIGURE_COLUMNS)
            for r in datasets.figure_rows(session, found, checked_only=checked))
    return jsonify(_paged(rows, total))


@operation("/campaigns/<slug>/aggregate", "The national aggregate: totals, bounds, shares, coverage",
           s.page_of(AGGREGATE_SCHEMA), parameters=[SLUG, *PAGE])
def aggregate(slug: str) -> Any:
    session = db_session()
    result = agg.build(session, campaign_service.get_campaign(session, slug), with_authorities=False)
    return jsonify(_paged([s.typed(row_dict(r), datasets.AGGREGATE_COLUMNS_DESCRIBED)
                           for r in result.rows]))


@operation("/campaigns/<slug>/export.<fmt>", "The campaign's dataset as a file: CSV (one table), "
           "XLSX, JSON, or a Frictionless data package (ZIP)", {}, parameters=[
               SLUG,
               {"name": "fmt", "in": "path", "required": True, "description": "the file format",
                "schema": {"type": "string", "enum": list(EXPORT_FORMATS)}},
               _query("table", "for CSV: which table", {"type": "string", "enum": list(CSV_TABLES),
                                                        "default": "figures"}),
               CHECKED],
           content={media: {"schema": {}} for media in EXPORT_FORMATS.values()})
def export(slug: str, fmt: str) -> Any:
    found = campaign_service.get_campaign(db_session(), slug)  # first: see foitrack.web._check_visible
    if fmt not in EXPORT_FORMATS:
        raise Invalid(f"the format must be one of {', '.join(EXPORT_FORMATS)}", field="fmt")
    table = request.args.get("table", "figures")
    if table not in CSV_TABLES:
        raise Invalid(f"table must be one of {', '.join(CSV_TABLES)}", field="table")
    return dataset_download(found, fmt, table, _checked_only())


# ---- background jobs: sending and chasing --------------------------------------------------------

# Job ids are whole numbers a database integer holds: a larger one is no job, not a crash.
JOB_RULE = "<int(min=1, max=2147483647):job_id>"
JOB_ID = {"name": "job_id", "in": "path", "required": True, "description": "the job's number",
          "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}
JOB_MESSAGE_SCHEMA = s.obj({
    "id": s.integer("the message's number"),
    "authority": s.string("the authority it is to (null for a digest)", nullable=True),
    "to": s.string("the address"),
    "subject": s.string("the subject"),
    "state": s.string("queued: waiting; sending: going now, or (once the job has finished) "
                      "interrupted and to be checked by hand; sent; outbox: written to the "
                      "outbox folder, not sent (no mail server set); failed; cancelled",
                      enum=["queued", "sending", "sent", "outbox", "failed", "cancelled"]),
    "sent_at": s.string("when the mail server accepted it", nullable=True, format="date-time"),
    "error": s.string("why it failed, or what to check", nullable=True),
})
JOB_SCHEMA = s.obj({
    "id": s.integer("the job's number"),
    "kind": s.string("what the job does", enum=["send", "chase", "fetch", "digest", "export"]),
    "state": s.string("where it stands", enum=["queued", "running", "done", "failed",
                                               "cancelled"]),
    "campaign": s.string("the campaign's short name", nullable=True),
    "done": s.integer("messages sent or written to the outbox (or items done)", minimum=0),
    "total": s.integer("messages (or items) in all", minimum=0),
    "failed": s.integer("messages that failed (tried again by the next send)", minimum=0),
    "left": s.integer("messages still to go", minimum=0),
    "summary": s.string("the outcome in words", nullable=True),
    "error": s.string("why the job stopped, if it failed", nullable=True),
    "created_at": s.string("when it was asked for", format="date-time"),
    "finished_at": s.string("when it finished", nullable=True, format="date-time"),
    "messages": {"type": "array", "items": JOB_MESSAGE_SCHEMA},
    "result": s.string("an export's file, once built: download it with the same token",
                       nullable=True),
})
JOB_STARTED_SCHEMA = s.obj({
    "job": s.integer("the job's number"),
    "url": s.string("where to follow it: GET it until its state is done, failed or cancelled"),
})
SEND_BODY = {"type": "object", "additionalProperties": False, "properties": {
    "authorities": {"type": "string", "maxLength": 4000, "pattern": STORABLE,
                    "description": "only these: a set's name or comma-separated codes or slugs "
                                   "(default: every authority of the campaign)"},
    "attach_template": {"type": "boolean", "default": False,
                        "description": "attach each authority's response template"},
}}
CHASE_BODY = {"type": "object", "additionalProperties": False, "properties": {}}


def _json_object(allowed: dict[str, Any]) -> dict[str, Any]:
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise Invalid("send a JSON object (or nothing)")
    unknown = sorted(set(body) - set(allowed["properties"]))
    if unknown:
        raise Invalid(f"unknown fields: {', '.join(unknown)}", field=unknown[0])
    return body


def _started(job: Any) -> Response:
    response = jsonify({"job": job.id, "url": url_for("api.job", job_id=job.id)})
    response.status_code = 202
    response.headers["Location"] = url_for("api.job", job_id=job.id)
    return response


@operation("/campaigns/<slug>/send", "Email the campaign's request to every authority not yet "
           "sent to, in the background (answers at once with the job to follow)",
           JOB_STARTED_SCHEMA, method="POST", parameters=[SLUG], body=SEND_BODY, status=202,
           body_required=False)
def campaign_send(slug: str) -> Any:
    from foitrack.errors import Conflict
    from foitrack.services import jobs, mail

    session = db_session()
    found = campaign_service.get_campaign(session, slug)
    body = _json_object(SEND_BODY)
    subset, attach = body.get("authorities"), body.get("attach_template", False)
    if "authorities" in body and not isinstance(subset, str):
        raise Invalid("authorities must be a set's name or comma-separated codes",
                      field="authorities")
    if not isinstance(attach, bool):
        raise Invalid("attach_template must be true or false", field="attach_template")
    ids, _label = agg.subset_ids(session, subset)  # NotFound (404) names the one not found
    chosen = [r for r in request_service.campaign_requests(session, found)
              if ids is None or r.authority_id in ids]
    try:
        job = jobs.send_campaign(session, actor(), found, chosen,
                                 mail.settings_from(current_app.config), today(), attach)
    except Invalid as error:
        session.rollback()
        raise Conflict(str(error)) from None
    session.commit()  # the job goes to the queue once this commits
    return _started(job)


@operation("/campaigns/<slug>/chase", "Email a chaser to each late request of the campaign not "
           "chased within the chase interval, in the background", JOB_STARTED_SCHEMA,
           method="POST", parameters=[SLUG], body=CHASE_BODY, status=202, body_required=False)
def campaign_chase(slug: str) -> Any:
    from foitrack.errors import Conflict
    from foitrack.services import jobs, mail

    session = db_session()
    found = campaign_service.get_campaign(session, slug)
    _json_object(CHASE_BODY)
    job, skipped = jobs.chase(session, actor(), mail.settings_from(current_app.config), today(),
                              clock_settings(), found)
    if job is None:
        session.rollback()
        raise Conflict("no request of this campaign needs chasing now"
                       + (f" ({'; '.join(skipped[:5])})" if skipped else ""))
    session.commit()
    return _started(job)


def _job_message(m: Any) -> dict[str, Any]:
    return {"id": m.id, "authority": m.request.authority.name if m.request else None,
            "to": m.to_address, "subject": m.subject, "state": m.status.value,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None, "error": m.last_error}


@operation(f"/jobs/{JOB_RULE}", "A background job: its state, progress and messages", JOB_SCHEMA,
           parameters=[JOB_ID])
def job(job_id: int) -> Any:
    from foitrack.services import jobs

    session = db_session()
    found = jobs.get_job(session, job_id)
    progress = jobs.progress(session, found)
    return jsonify({
        "id": found.id, "kind": found.kind.value, "state": found.state.value,
        "campaign": found.campaign.slug if found.campaign else None,
        "done": progress.done, "total": progress.total, "failed": progress.failed,
        "left": progress.left, "summary": found.summary or progress.summary(),
        "error": found.error, "created_at": found.created_at.isoformat(),
        "finished_at": found.finished_at.isoformat() if found.finished_at else None,
        "messages": [_job_message(m) for m in jobs.messages_of(session, found)],
        "result": url_for("api.job_result", job_id=found.id) if found.result_file_id else None,
    })


@operation(f"/jobs/{JOB_RULE}/result", "An export job's file, once built", {},
           parameters=[JOB_ID], content={media: {"schema": {}} for media in
                                         EXPORT_FORMATS.values()})
def job_result(job_id: int) -> Any:
    import io

    from flask import send_file

    from foitrack.services import jobs
    from foitrack.storage import FileStore, safe_filename

    found = jobs.get_job(db_session(), job_id)
    if found.result_file is None:
        raise NotFound(f"job {job_id} has no file (yet)")
    data = FileStore(current_app.config["STORAGE_PATH"]).read(found.result_file.sha256)
    return send_file(io.BytesIO(data), mimetype=found.result_file.content_type,
                     as_attachment=True,
                     download_name=safe_filename(found.result_file.filename, "export"))


EXPORT_JOB_BODY = {"type": "object", "additionalProperties": False, "required": ["format"],
                   "properties": {
                       "format": {"type": "string", "enum": list(EXPORT_FORMATS)},
                       "table": {"type": "string", "enum": list(CSV_TABLES), "default": "figures",
                                 "description": "for CSV: which table"},
                       "checked": {"type": "boolean", "default": False,
                                   "description": "only figures a second researcher checked"}}}


@operation("/campaigns/<slug>/exports", "Build the campaign's dataset file in the background, "
           "for a campaign too large to download within one request", JOB_STARTED_SCHEMA,
           method="POST", parameters=[SLUG], body=EXPORT_JOB_BODY, status=202)
def campaign_export_job(slug: str) -> Any:
    from foitrack.services import jobs

    session = db_session()
    found = campaign_service.get_campaign(session, slug)
    body = _json_object(EXPORT_JOB_BODY)
    fmt, table, checked = body.get("format"), body.get("table", "figures"), body.get("checked",
                                                                                       False)
    if not isinstance(checked, bool):
        raise Invalid("checked must be true or false", field="checked")
    if not isinstance(fmt, str) or not isinstance(table, str):
        raise Invalid("format and table must be text", field="format")
    job = jobs.export(session, actor(), found, fmt, table, checked)
    session.commit()
    return _started(job)


# ---- series (issue 18) ---------------------------------------------------------------------------

_SERIES_CELL = s.obj({
    "kind": s.string("exact, suppressed, not_recorded, not_held, withheld or not_provided"),
    "value": s.integer("the exact figure", nullable=True),
    "text": s.string("the value as written, e.g. 75, <5 or not recorded"),
    "campaign": s.string("the campaign whose answer it is (the latest that has one)"),
    "revised": {"type": "boolean", "description": "an earlier campaign had another answer"},
})
_SERIES_CHANGE = s.obj({
    "from_period": s.string("the earlier period's label"),
    "to_period": s.string("the later period's label"),
    "panel_size": s.integer("authorities with exact figures for both", minimum=0),
    "panel_from": s.integer("their total in the earlier period"),
    "panel_to": s.integer("their total in the later period"),
    "change": s.integer("panel_to minus panel_from"),
    "ratio": {"type": ["number", "null"], "description": "panel_to / panel_from"},
    "comparable": {"type": "boolean", "description": "the periods are of the same length"},
})
_SERIES_REVISION = s.obj({
    **{name: s.string(name.replace("_", " "), nullable=name == "authority_code") for name in (
        "authority_code", "authority", "authority_slug", "measure", "period", "earlier_campaign",
        "earlier_value", "later_campaign", "later_value", "text", "used")},
    "period_start": s.string("first day", format="date"),
    "period_end": s.string("last day", format="date"),
})
SERIES_SCHEMA = s.obj({
    "series": s.string("the series' short name"), "name": s.string("its name"),
    "measure": s.obj({"key": s.string("measure key"), "label": s.string("measure label")}),
    "campaigns": {"type": "array", "items": s.obj({"slug": s.string("campaign"),
                                                    "title": s.string("title")})},
    "periods": {"type": "array", "items": s.obj({
        "label": s.string("the column's label"), "start": s.string("first day", format="date"),
        "end": s.string("last day", format="date"),
        "campaign": s.string("the latest campaign that asked it"),
        "asked_by": {"type": "array", "items": {"type": "string"}}})},
    "authorities": {"type": "array", "items": s.obj({
        "code": s.string("ONS code", nullable=True), "slug": s.string("authority"),
        "name": s.string("name"),
        "values": {"type": "object", "description": "by period label; null: no answer",
                   "additionalProperties": {"anyOf": [{"type": "null"}, _SERIES_CELL]}}})},
    "national": {"type": "array", "items": s.obj({
        "period": s.string("period label"),
        "total": s.integer("the exact figures added", minimum=0),
        "authorities": s.integer("authorities with an exact figure", minimum=0),
        "asked": s.integer("authorities asked for the period", minimum=0)})},
    "changes": {"type": "array", "items": _SERIES_CHANGE},
    "revisions": {"type": "array", "items": _SERIES_REVISION},
})


@operation("/series/<slug>", "A series: each authority's figure for every period asked by its "
           "campaigns you may see, national totals, matched-panel changes and revisions",
           SERIES_SCHEMA, parameters=[
               _path("slug", "the series' short name"),
               _query("measure", "the measure's key (default: the latest campaign's first)",
                      {"type": "string", "minLength": 1, "maxLength": 80})])
def series(slug: str) -> Any:
    from flask_login import current_user

    from foitrack.exporters.series import table_dict
    from foitrack.services import series as series_service

    session = db_session()
    viewer = current_user._get_current_object()
    found = series_service.visible_series(session, slug, viewer, today())
    return jsonify(table_dict(series_service.series_table(
        session, found, viewer, today(), request.args.get("measure") or None)))
