"""JSON Schemas of what the API returns, built from the same column lists the exports use, so
the OpenAPI document and the data cannot drift apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from foitrack.exporters.dataset import Column

_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": ["integer", "null"]},
    "number": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date"},
    "string": {"type": "string"},
}


def object_schema(columns: Iterable[Column]) -> dict[str, Any]:
    """An object with exactly these columns, typed as the data package types them."""
    columns = list(columns)
    return {
        "type": "object",
        "properties": {c.name: {**_TYPES[c.type], "description": c.description} for c in columns},
        "required": [c.name for c in columns],
        "additionalProperties": False,
    }


def typed(row: Mapping[str, Any], columns: Iterable[Column]) -> dict[str, Any]:
    """A row as JSON: dates as ISO 8601, and the exports' empty cells as null where a number,
    date or yes/no belongs."""
    out: dict[str, Any] = {}
    for c in columns:
        value = row.get(c.name)
        if c.type == "string":
            value = "" if value is None else str(value)
        elif value == "":
            value = None
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[c.name] = value
    return out


def string(description: str, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": ["string", "null"] if nullable else "string", "description": description, **extra}


def integer(description: str, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": ["integer", "null"] if nullable else "integer", "description": description,
            **extra}


def obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return obj({
        "items": {"type": "array", "items": item},
        "page": integer("this page's number, from 1", minimum=1),
        "per_page": integer("items a page", minimum=1),
        "total": integer("items on every page together", minimum=0),
        "next": string("the next page's URL; null on the last page", nullable=True),
    })


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": obj({"field": string("where", nullable=True),
                                                  "message": string("what is wrong")})},
    },
    "required": ["type", "title", "status", "detail"],
}
