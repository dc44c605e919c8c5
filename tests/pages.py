"""Using the app through Flask's test client as a browser would: the CSRF token, signing in,
reading and posting the figures grid, the campaign forms, uploads."""

from __future__ import annotations

import html
import io
import re

from flask.testing import FlaskClient

from tests.factories import PASSWORD, REQUEST_TEXT, TWO_DESKS_GRID

# A value for every URL variable the app's routes take, so a test can visit each route.
SAMPLE_ARGS = {"slug": "west-mercia", "authority": "west-mercia", "filename": "foitrack.css",
               "fmt": "csv", "chart": "national-total-offences", "measure": "offences",
               "image_format": "svg", "version": 1, "proposal_id": 1,
               "token": "no-such-link", "link_id": 1}


def csrf_token(client: FlaskClient, path: str = "/auth/sign-in") -> str:
    """The CSRF token from a page's <meta name="csrf-token">, as a browser's form would send."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/auth/sign-in", data={"email": email, "password": password, "csrf_token": token}
    )


def grid_form(client: FlaskClient, url: str = TWO_DESKS_GRID) -> dict[str, str]:
    """The grid as the browser has it: every input's name and value."""
    page = client.get(url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    for name in re.findall(r'<input class="input cell" id="[^"]+" name="([^"]+)"', page):
        fields.setdefault(name, "")
    return fields


def grid_cells(form: dict[str, str]) -> list[str]:
    """The names of the grid's figure cells, in order."""
    return sorted(n for n in form if n.startswith("cell-"))


def cell_names(page: str) -> dict[str, str]:
    """Each grid cell's field name, by its (visually hidden) label."""
    labels = dict(re.findall(r'<label class="visually-hidden" for="(cell-[0-9-]+)">([^<]+)</label>', page))
    return {label: name for name, label in labels.items()}


def seen(client: FlaskClient, url: str) -> dict[str, str]:
    """The values the grid page's "mark checked" form says its reader saw, as a browser posts them."""
    page = client.get(url).get_data(as_text=True)
    return {name: html.unescape(value)
            for name, value in re.findall(r'name="(seen-\d+)" value="([^"]*)"', page)}


def post_new_campaign(client: FlaskClient, **fields):
    """Posts the new-campaign form: "Grooming 2019" to the 43 forces unless ``fields`` say otherwise."""
    data = {"csrf_token": csrf_token(client, "/campaigns/new"), "title": "Grooming 2019",
            "target_set": "england-wales", "request_text": REQUEST_TEXT, **fields}
    return client.post("/campaigns/new", data=data)


def statuses(page: str) -> dict[str, str]:
    """Each request's status in a campaign page's requests table, by authority name."""
    body = page.split('<table class="table" id="requests">', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'">([^<]+)</a></td>\s*<td><span class="tag tag-[a-z_]+">([^<]+)</span>', body))


def bulk(client: FlaskClient, kind: str, on: str, slugs: list[str]):
    """Records one event for several of grooming-2019's requests at once."""
    return client.post("/campaigns/grooming-2019/bulk", data={
        "csrf_token": csrf_token(client, "/campaigns/grooming-2019"), "kind": kind,
        "occurred_on": on, "requests": slugs,
    })


def upload(client: FlaskClient, path: str, name: str, data: bytes, extra: dict | None = None):
    """Posts a file to an upload form."""
    return client.post(path, data={"csrf_token": csrf_token(client, path),
                                   "file": [(io.BytesIO(data), name)], **(extra or {})},
                       content_type="multipart/form-data")


def cache_builds(app) -> int:
    """How many values the app's page cache has built: what a kept page does not add to."""
    return app.extensions["foitrack.web.page_cache"].builds


def page_text(client: FlaskClient, path: str) -> str:
    """The page at ``path``, which must answer 200."""
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def chart_sources(page: str) -> list[str]:
    """The chart images a page shows (their src, unescaped), each once, sorted."""
    return sorted({html.unescape(src) for src in re.findall(r'src="([^"]*/charts/[^"]*)"', page)})


def counting(monkeypatch, *functions: tuple[object, str]) -> list[str]:
    """The name of each call of these (module, function name) from now on; the real ones run."""
    calls: list[str] = []
    for module, name in functions:
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return calls
