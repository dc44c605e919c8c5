"""`foitrack tokens`: API tokens made, listed and revoked at the command line, as an
operator or a deployment script would, and then used against the API."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func, select

from foitrack.models import ApiToken, AuditEntry
from foitrack.services import users
from tests.commands import invoke
from tests.factories import TEST_ACTOR, make_user

API = "/api/v1/campaigns"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _counts(session) -> tuple[int, int]:
    """How many tokens and audit entries there are: what a refused command must not change."""
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(ApiToken)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _create(runner, email: str, name: str) -> str:
    result = invoke(runner, "tokens", "create", email, "--name", name)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[-1]


def test_create_prints_only_the_token_on_stdout_and_the_api_accepts_it(runner, client, session):
    rita = make_user(session, role="viewer", email="rita@example.org")
    assert client.get(API).status_code == 401

    result = invoke(runner, "tokens", "create", "Rita@Example.org", "--name", "newsroom scripts")

    assert result.exit_code == 0, result.output
    # stdout is the token and nothing else, so TOKEN=$(... | tail -1) (or plain $(...)) keeps it.
    token = result.stdout.removesuffix("\n")
    assert token.startswith("foit_") and "\n" not in token and len(token) > 40
    assert "it will not be shown again" in result.stderr
    assert "rita@example.org" in result.stderr and token not in result.stderr
    assert client.get(API, headers=_bearer(token)).status_code == 200
    session.expire_all()
    made = session.scalars(select(ApiToken)).one()
    assert (made.user_id, made.name) == (rita.id, "newsroom scripts")
    assert token not in made.token_hash and made.last_used_at is not None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "api_token")).one()
    assert (audit.action, audit.entity_id, audit.user_id) == ("create", str(made.id), None)
    assert audit.after["user"] == "rita@example.org" and token not in json.dumps(audit.after)


def test_list_shows_each_token_and_its_user_but_never_the_token(runner, session):
    make_user(session, email="ann@example.org")
    make_user(session, email="bob@example.org")
    anns = _create(runner, "ann@example.org", "=HYPERLINK(\"x\")")
    bobs = _create(runner, "bob@example.org", "bob's cron")

    table = invoke(runner, "tokens", "list")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["ID", "USER", "NAME", "PREFIX", "CREATED", "LAST", "USED", "REVOKED"]
    assert "bob@example.org" in lines[1] and "bob's cron" in lines[1] and bobs[:9] in lines[1]
    assert "ann@example.org" in lines[2] and lines[2].split()[-2:] == ["never", "-"]
    assert lines[-1] == "(2 tokens; times UTC)"
    for output in (table.output, invoke(runner, "tokens", "list", "--format", "json").output,
                   invoke(runner, "tokens", "list", "--format", "csv").output):
        assert anns not in output and bobs not in output
        assert anns[9:19] not in output and bobs[9:19] not in output

    only_ann = json.loads(invoke(runner, "tokens", "list", "ANN@example.org", "--format", "json").output)
    assert len(only_ann) == 1
    assert list(only_ann[0]) == ["id", "user", "name", "prefix", "created", "last_used", "revoked"]
    assert only_ann[0]["user"] == "ann@example.org" and only_ann[0]["prefix"] == anns[:9]
    assert only_ann[0]["created"].endswith("+00:00")
    assert (only_ann[0]["last_used"], only_ann[0]["revoked"]) == (None, None)

    rows = list(csv.DictReader(io.StringIO(invoke(runner, "tokens", "list", "--format", "csv").output)))
    assert [row["user"] for row in rows] == ["bob@example.org", "ann@example.org"]
    assert rows[1]["name"] == "'=HYPERLINK(\"x\")"  # a spreadsheet shows it, does not run it


def test_revoke_makes_the_api_refuse_the_token_and_is_audited(runner, client, session):
    make_user(session, email="leaver@example.org")
    token = _create(runner, "leaver@example.org", "old laptop")
    assert client.get(API, headers=_bearer(token)).status_code == 200
    token_id = json.loads(invoke(runner, "tokens", "list", "--format", "json").output)[0]["id"]

    result = invoke(runner, "tokens", "revoke", str(token_id))

    assert result.exit_code == 0, result.output
    assert f"Revoked API token {token_id} 'old laptop' of leaver@example.org" in result.output
    assert client.get(API, headers=_bearer(token)).status_code == 401
    listed = json.loads(invoke(runner, "tokens", "list", "--format", "json").output)[0]
    assert listed["revoked"] is not None and listed["last_used"] is not None
    session.expire_all()
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_type == "api_token", AuditEntry.entity_id == str(token_id))).all()
    assert sorted(actions) == ["create", "revoke"]

    before = _counts(session)
    again = invoke(runner, "tokens", "revoke", str(token_id))
    assert again.exit_code == 0 and "was already revoked" in again.output
    assert _counts(session) == before


def test_an_unknown_or_deactivated_account_or_no_name_gets_no_token(runner, session):
    gone = make_user(session, email="gone@example.org")
    make_user(session, email="here@example.org")
    users.update_user(session, TEST_ACTOR, gone, active=False)
    session.commit()
    before = _counts(session)

    unknown = invoke(runner, "tokens", "create", "nobody@example.org", "--name", "x")
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert "no account with the email 'nobody@example.org'; nothing was changed" in unknown.stderr

    deactivated = invoke(runner, "tokens", "create", "gone@example.org", "--name", "x")
    assert deactivated.exit_code == 1 and deactivated.stdout == ""
    assert "the account gone@example.org is deactivated" in deactivated.stderr

    nameless = invoke(runner, "tokens", "create", "here@example.org", "--name", "  ")
    assert nameless.exit_code == 1 and nameless.stdout == ""
    assert "give the token a name" in nameless.stderr

    missing = invoke(runner, "tokens", "create", "here@example.org")
    assert missing.exit_code == 2 and "Missing option '--name'" in missing.stderr

    assert _counts(session) == before


def test_an_unknown_token_id_or_email_is_an_error_that_changes_nothing(runner, client, session):
    make_user(session, email="ann@example.org")
    token = _create(runner, "ann@example.org", "scripts")
    before = _counts(session)

    for token_id in ("999", "0", "-1", str(10**12)):
        result = invoke(runner, "tokens", "revoke", "--", token_id)
        assert result.exit_code == 1, token_id
        assert f"no API token with id {token_id}; nothing was changed" in result.stderr
    assert invoke(runner, "tokens", "revoke", "abc").exit_code == 2

    unknown = invoke(runner, "tokens", "list", "nobody@example.org")
    assert unknown.exit_code == 1 and "no account with the email 'nobody@example.org'" in unknown.stderr

    assert _counts(session) == before
    assert client.get(API, headers=_bearer(token)).status_code == 200
