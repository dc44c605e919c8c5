"""The simulated users of the load test: researchers who read and write, viewers who read.

Run by benchmarks/load.py, which starts locust on this file in a subprocess (locust patches
the standard library for gevent on import, which nothing else in a foitrack process expects).
The accounts, requests and tokens come from the JSON file named by FOITRACK_LOAD_CONFIG; the
writes that succeeded go to the file it names, so the runner can find each one in the database.

Every response is checked for the status a browser or script would expect: anything else,
including a redirect to the sign-in page or a 409, counts as a failure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

CONFIG: dict[str, Any] = json.loads(Path(os.environ["FOITRACK_LOAD_CONFIG"]).read_text())
THINK = CONFIG.get("think", [0.5, 2.0])
# What landed, as the users saw it: event notes, and each grid cell's last saved value.
WRITES: dict[str, Any] = {"web_events": [], "api_events": [], "grid_saves": 0, "cells": {},
                          "contended": [], "conflicts": 0}
_researchers = iter(CONFIG["researchers"])
_viewers = iter(CONFIG["viewers"])
_notes = itertools.count(1)


class FormFields(HTMLParser):
    """The fields one form on a page would send, as a browser sends them (inputs, textareas)."""

    def __init__(self, action_ends: str) -> None:
        super().__init__()
        self.action_ends = action_ends
        self.inside = False
        self.found = False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "form" and not self.found:
            action = named.get("action", "")
            self.inside = action == "" if not self.action_ends else action.endswith(self.action_ends)
            self.found = self.inside
        elif self.inside and tag == "input" and named.get("name") and named.get("type") != "submit":
            self.fields[named["name"]] = named.get("value", "")
        elif self.inside and tag == "textarea" and named.get("name"):
            self._textarea = named["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_on(page: str, action_ends: str) -> dict[str, str]:
    """The fields of the form whose action ends with ``action_ends`` ('' for a form posting to
    its own page). :raises AssertionError: when the page has no such form."""
    parser = FormFields(action_ends)
    parser.feed(page)
    assert parser.found and "csrf_token" in parser.fields, f"no form posting to ...{action_ends}"
    return parser.fields


def yesterday() -> str:
    # A note dated yesterday is in the past wherever the server's day boundary falls.
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


class Reader(HttpUser):
    """What every signed-in user does: the pages and the API a team reads all day."""

    abstract = True
    wait_time = between(*THINK)
    account: dict[str, Any]

    def expect(self, method: str, path: str, name: str, status: int = 200, **kwargs: Any) -> Any:
        """One request that fails unless it answers ``status`` (redirects are not followed)."""
        with self.client.request(method, path, name=name, allow_redirects=False,
                                 catch_response=True, **kwargs) as response:
            if response.status_code != status:
                where = response.headers.get("Location", "")
                response.failure(f"{response.status_code} (expected {status}) {where}".strip())
            else:
                response.success()
            return response

    def sign_in(self) -> None:
        page = self.expect("GET", "/auth/sign-in", "sign in (form)").text
        fields = form_on(page, "")
        fields.update(email=self.account["email"], password=CONFIG["password"])
        fields.pop("remember", None)
        self.expect("POST", "/auth/sign-in", "sign in (post)", 302, data=fields)

    def api(self, method: str, path: str, name: str, status: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.account['token']}"}
        return self.expect(method, "/api/v1" + path, name, status, headers=headers, **kwargs)

    def any_request(self) -> tuple[str, str]:
        slug = random.choice(list(CONFIG["campaigns"]))
        return slug, random.choice(CONFIG["campaigns"][slug])

    @task(3)
    def dashboard(self) -> None:
        self.expect("GET", "/", "dashboard")

    @task(3)
    def campaign_page(self) -> None:
        self.expect("GET", f"/campaigns/{random.choice(list(CONFIG['campaigns']))}", "campaign page")

    @task(4)
    def request_page(self) -> None:
        slug, authority = self.any_request()
        self.expect("GET", f"/campaigns/{slug}/requests/{authority}", "request page")

    @task(2)
    def chase_list(self) -> None:
        self.expect("GET", "/chase", "chase list")

    @task(1)
    def aggregate_page(self) -> None:
        self.expect("GET", f"/campaigns/{random.choice(list(CONFIG['campaigns']))}/aggregate",
                    "aggregate page")

    @task(1)
    def figures_csv(self) -> None:
        self.expect("GET", f"/campaigns/{random.choice(list(CONFIG['campaigns']))}/figures.csv",
                    "figures CSV export")

    @task(1)
    def api_campaigns(self) -> None:
        self.api("GET", "/campaigns", "API campaigns")

    @task(2)
    def api_request(self) -> None:
        slug, authority = self.any_request()
        self.api("GET", f"/campaigns/{slug}/requests/{authority}", "API request")

    @task(1)
    def api_requests(self) -> None:
        slug = random.choice(list(CONFIG["campaigns"]))
        self.api("GET", f"/campaigns/{slug}/requests?per_page=100", "API requests")

    @task(1)
    def api_figures(self) -> None:
        slug = random.choice(list(CONFIG["campaigns"]))
        self.api("GET", f"/campaigns/{slug}/figures?per_page=500", "API figures")

    @task(1)
    def api_aggregate(self) -> None:
        slug = random.choice(list(CONFIG["campaigns"]))
        self.api("GET", f"/campaigns/{slug}/aggregate", "API aggregate")


class Viewer(Reader):
    """A viewer: reads pages and the API, writes nothing."""

    weight = 1

    def on_start(self) -> None:
        self.account = next(_viewers)
        self.sign_in()


class Researcher(Reader):
    """A researcher: reads like a viewer, and records events and enters figures.

    Each researcher owns one request, whose grid only they save, and one cell of a grid all
    researchers save at once: the three-way merge must keep every colleague's cell, so no save
    there may end in a conflict (409) or undo another's figure. And all of them now and then
    change the same cell of a third request, where a 409 is the right answer to a stale page.
    """

    weight = 3

    def on_start(self) -> None:
        self.account = next(_researchers)
        self.sign_in()
        # A researcher sits down to enter the figures of a reply they have in hand.
        self.save_own_grid()

    def save_grid(self, slug: str, authority: str, cell_at: int | None, name: str,
                  contended: bool = False) -> None:
        """Open a grid, change one cell to a new number, and post the form as the page gave it.

        With ``contended``, a 409 (a colleague saved the cell since the page was shown) is the
        right answer, counted apart; every save is noted with the value it started from.
        """
        path = f"/campaigns/{slug}/requests/{authority}/figures"
        page = self.expect("GET", path, f"{name} (form)")
        if page.status_code != 200:
            return
        fields = form_on(page.text, "")
        cells = sorted(key for key in fields if key.startswith("cell-"))
        if cell_at is None:
            cell = random.choice(cells)
        elif cell_at < len(cells):
            cell = cells[cell_at]
        else:
            return  # more researchers than cells: this one has none of its own
        old = fields[cell]
        new = str((int(old) + random.randint(1, 500)) % 1000 if old.isdigit() else random.randint(0, 999))
        fields[cell] = new
        fields.update(source="load test", caveat="")
        with self.client.post(path, data=fields, name=f"{name} (save)", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code == 302:
                response.success()
                WRITES["grid_saves"] += 1
                if contended:
                    WRITES["contended"].append([old, new])
                else:
                    WRITES["cells"][f"{slug}/{authority}/{cell}"] = new
            elif contended and response.status_code == 409:
                response.success()
                WRITES["conflicts"] += 1
            else:
                response.failure(f"{response.status_code} (expected 302)")

    def save_own_grid(self) -> None:
        self.save_grid(self.account["campaign"], self.account["authority"], None, "grid, own request")

    @task(3)
    def own_grid(self) -> None:
        self.save_own_grid()

    @task(2)
    def shared_grid(self) -> None:
        shared = CONFIG["shared"]
        self.save_grid(shared["campaign"], shared["authority"], self.account["cell"],
                       "grid, shared request")

    @task(1)
    def same_cell(self) -> None:
        # Everyone at one cell: a conflict is fine, a lost update or a server error is not.
        contended = CONFIG["contended"]
        self.save_grid(contended["campaign"], contended["authority"], 0, "grid, same cell",
                       contended=True)

    @task(2)
    def event_through_the_form(self) -> None:
        slug, authority = self.account["campaign"], self.account["authority"]
        path = f"/campaigns/{slug}/requests/{authority}"
        page = self.expect("GET", path, "request page")
        if page.status_code != 200:
            return
        fields = form_on(page.text, "/events")
        note = f"load note {self.account['email']} {next(_notes)}"
        fields.update(kind="note", occurred_on=yesterday(), occurred_at="", outcome="",
                      exemptions="", due_on="", received_on="", note=note)
        response = self.expect("POST", path + "/events", "event (form)", 302, data=fields)
        if response.status_code == 302:
            WRITES["web_events"].append(note)

    @task(2)
    def event_through_the_api(self) -> None:
        # Any request, so several users write to one request's timeline at the same time.
        slug, authority = self.any_request()
        note = f"load note {self.account['email']} {next(_notes)}"
        response = self.api("POST", f"/campaigns/{slug}/requests/{authority}/events", "API event",
                            201, json={"kind": "note", "occurred_on": yesterday(), "note": note})
        if response.status_code == 201:
            WRITES["api_events"].append(note)


PERCENTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


@events.test_stop.add_listener
def _save_outcome(environment: Any, **_kwargs: Any) -> None:
    """The writes, and the statistics of every request, once the users have stopped.

    Written here rather than read from locust's CSV files: those are written by a greenlet
    that is stopped before the users are, so requests finishing in the stop phase can miss them.
    """
    stats = environment.stats
    rows = []
    for entry in [*sorted(stats.entries.values(), key=lambda e: (e.name, e.method)), stats.total]:
        row = {"name": entry.name, "method": entry.method or "", "count": entry.num_requests,
               "failures": entry.num_failures, "max": entry.max_response_time,
               "req/s": entry.total_rps}
        row.update({key: entry.get_response_time_percentile(p) if entry.num_requests else None
                    for key, p in PERCENTILES.items()})
        rows.append(row)
    failures = [f"{error.occurrences} x {error.method} {error.name}: {error.error}"
                for error in stats.errors.values()]
    failures += [f"{exception['count']} x exception: {exception['msg']}"
                 for exception in environment.runner.exceptions.values()]
    Path(CONFIG["writes"]).write_text(json.dumps({"writes": WRITES, "rows": rows,
                                                  "failures": failures}))

