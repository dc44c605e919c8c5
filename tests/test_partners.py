"""Partners' private links to an embargoed release (foitrack.services.partners and `foitrack
partners`), and the scheduler's record of a release opening to the public (its real tick)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from foitrack.cli import AppLoader, main
from foitrack.errors import Conflict, Invalid, NotFound
from foitrack.models import AuditEntry, ReleaseOpening, ReleasePartner
from foitrack.services import embargo, partners, publishing
from tests.factories import TEST_ACTOR
from tests.test_publish import answered_campaign, publish

EMBARGO = dt.datetime(2019, 9, 19, 23, 1, tzinfo=dt.UTC)  # 00:01 UK time on 20 September
BEFORE = EMBARGO - dt.timedelta(hours=1)


@pytest.fixture
def campaign(session):
    made = answered_campaign(session)
    session.commit()
    return made


@pytest.fixture
def release(session, campaign):
    return publish(session, campaign, embargo_until=EMBARGO)


def count(session, model):
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


# --- the service ---------------------------------------------------------------------------

def test_a_link_s_token_is_returned_once_and_only_its_hash_kept(session, release):
    link, token = partners.add(session, TEST_ACTOR, release, name="  BBC  Shared Data Unit ",
                               email="Data@BBC.co.uk", now=BEFORE)
    session.commit()
    assert len(token) == 43 and link.name == "BBC Shared Data Unit"
    assert link.email == "data@bbc.co.uk" and link.created_by == TEST_ACTOR.label
    assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    row = session.execute(select(ReleasePartner.__table__)).one()
    assert token not in repr(tuple(row))
    assert partners.resolve(session, token).id == link.id
    assert partners.link_url("https://foi.example.org/", token) == \
        f"https://foi.example.org/data/shared/{token}/"
    assert partners.link_url(None, token) == f"/data/shared/{token}/"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_type == "release_partner"))
    assert entry.action == "share" and entry.after["name"] == "BBC Shared Data Unit"


@pytest.mark.parametrize(("name", "email", "field"), [
    (" ", None, "name"), ("x" * 201, None, "name"), ("BBC", "not an address", "email")])
def test_bad_input_names_its_field_and_adds_nothing(session, release, name, email, field):
    with pytest.raises(Invalid) as raised:
        partners.add(session, TEST_ACTOR, release, name=name, email=email, now=BEFORE)
    assert [p.field for p in raised.value.problems] == [field]
    session.rollback()
    assert count(session, ReleasePartner) == 0


def test_a_public_release_is_shared_by_its_own_address(session, campaign):
    public = publish(session, campaign)  # no embargo: public at once
    with pytest.raises(Conflict, match="public already"):
        partners.add(session, TEST_ACTOR, public, name="BBC", now=BEFORE)


def test_a_revoked_link_opens_nothing_and_is_revoked_once(session, release):
    link, token = partners.add(session, TEST_ACTOR, release, name="BBC", now=BEFORE)
    session.commit()
    partners.revoke(session, TEST_ACTOR, link.id, BEFORE)
    session.commit()
    assert (link.revoked_at, link.revoked_by) == (BEFORE, TEST_ACTOR.label)
    with pytest.raises(NotFound):
        partners.resolve(session, token)
    with pytest.raises(Conflict, match="revoked already"):
        partners.revoke(session, TEST_ACTOR, link.id, BEFORE)
    with pytest.raises(NotFound):
        partners.revoke(session, TEST_ACTOR, 999999, BEFORE)
    for token in ("", "x" * 43, "x" * 1000, link.token_sha256):
        with pytest.raises(NotFound):
            partners.resolve(session, token)


def test_the_access_log_lists_what_each_link_served(session, release):
    first, _ = partners.add(session, TEST_ACTOR, release, name="BBC", now=BEFORE)
    second, _ = partners.add(session, TEST_ACTOR, release, name="ITV", now=BEFORE)
    partners.record_access(session, second, "/kent", BEFORE + dt.timedelta(minutes=2))
    partners.record_access(session, first, "/", BEFORE + dt.timedelta(minutes=1))
    session.commit()
    assert [(a.partner.name, a.path) for a in partners.accesses(session, release)] == [
        ("BBC", "/"), ("ITV", "/kent")]


# --- the command line ----------------------------------------------------------------------

def invoke(app, runner, *args):
    return runner.invoke(main, ["partners", *args], obj=AppLoader(lambda: app))


def test_the_commands_add_list_revoke_and_show_the_log(app, runner, session, release):
    app.config.update(NOW=BEFORE, BASE_URL="https://foi.example.org")
    added = invoke(app, runner, "add", "grooming-2019", "--version", "1",
                   "--name", "BBC Shared Data Unit", "--email", "data@bbc.co.uk")
    assert added.exit_code == 0, added.output
    url = added.stdout.strip()
    assert url.startswith("https://foi.example.org/data/shared/") and url.endswith("/")
    assert "Copy it now: it will not be shown again." in added.stderr
    token = url.rstrip("/").rsplit("/", 1)[1]
    link = partners.resolve(session, token)
    partners.record_access(session, link, "/west-mercia", BEFORE)
    session.commit()
    listed = invoke(app, runner, "list", "grooming-2019")  # the latest version by default
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[1].split("\t") == [
        str(link.id), "BBC Shared Data Unit", "data@bbc.co.uk", "2019-09-19 22:01 UTC",
        link.created_by, "1", "open"]
    assert token not in listed.output
    log = invoke(app, runner, "log", "grooming-2019", "--version", "1")
    assert log.exit_code == 0, log.output
    assert log.output.splitlines()[1] == \
        f"2019-09-19 22:01 UTC\t{link.id}\tBBC Shared Data Unit\t/west-mercia"
    revoked = invoke(app, runner, "revoke", str(link.id))
    assert revoked.exit_code == 0 and "Revoked partner link" in revoked.output
    again = invoke(app, runner, "revoke", str(link.id))
    assert again.exit_code == 1 and "revoked already" in again.output
    assert "revoked 2019-09-19 22:01 UTC" in invoke(app, runner, "list", "grooming-2019").output


@pytest.mark.parametrize(("args", "message"), [
    (["add", "nowhere", "--name", "BBC"], "nowhere"),
    (["add", "grooming-2019", "--version", "7", "--name", "BBC"], "version 7"),
    (["add", "grooming-2019", "--name", " "], "--name"),
    (["add", "grooming-2019", "--name", "BBC", "--email", "nobody"], "--email"),
    (["revoke", "999999"], "no partner link 999999"),
    (["list", "grooming-2019", "--version", "2"], "version 2"),
])
def test_bad_input_names_what_to_fix_and_changes_nothing(app, runner, session, release,
                                                         args, message):
    app.config["NOW"] = BEFORE
    result = invoke(app, runner, *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert count(session, ReleasePartner) == 0


def test_a_public_release_gets_no_link_from_the_command(app, runner, session, release):
    app.config["NOW"] = EMBARGO
    result = invoke(app, runner, "add", "grooming-2019", "--name", "BBC")
    assert result.exit_code == 1 and "public already" in result.output, result.output
    assert "no link was made" in result.output and count(session, ReleasePartner) == 0


def test_publish_still_takes_the_campaign_first(app, runner, session, campaign):
    result = runner.invoke(main, ["publish", "grooming-2019", "--title", "T"],
                           obj=AppLoader(lambda: app))
    assert result.exit_code == 0, result.output


# --- the scheduler's tick ------------------------------------------------------------------

def openings(session):
    session.expire_all()
    return [(e.entity_id, e.actor, e.after["text"]) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "open").order_by(AuditEntry.id))]


def test_the_tick_records_each_release_opening_once(app, session, campaign, monkeypatch):
    from foitrack.worker import runtime, tasks

    monkeypatch.setattr(runtime, "_app", app)  # the real tick, on the test's app and database
    first = publish(session, campaign, embargo_until=EMBARGO)
    second = publish(session, campaign, note="Kent corrected.",
                     embargo_until=EMBARGO + dt.timedelta(days=1))
    app.config["NOW"] = EMBARGO - dt.timedelta(seconds=1)
    assert tasks.tick()["opened"] == []
    assert openings(session) == []
    app.config["NOW"] = EMBARGO  # the embargo's time
    assert tasks.tick()["opened"] == ["grooming-2019 v1"]
    assert tasks.tick()["opened"] == []  # once
    assert openings(session) == [(str(first.id), "scheduler",
                                  "release v1 opened to the public")]
    app.config["NOW"] = EMBARGO + dt.timedelta(days=2)
    assert tasks.tick()["opened"] == ["grooming-2019 v2"]
    assert [text for _, _, text in openings(session)] == [
        "release v1 opened to the public", "release v2 opened to the public"]
    assert count(session, ReleaseOpening) == 2
    assert publishing.get_release(session, campaign, 2).id == second.id  # never changed


def test_a_release_with_no_embargo_never_opens_later(session, campaign):
    publish(session, campaign)
    assert embargo.record_openings(session, TEST_ACTOR, EMBARGO) == []
    assert count(session, ReleaseOpening) == 0


def test_an_opening_recorded_elsewhere_meanwhile_is_not_recorded_again(app, session, release):
    """Two schedulers at once: both find the release due; the second's row is refused by the
    key, and it records nothing (the first's audit entry stands alone)."""
    due = embargo.due_openings(session, EMBARGO)
    assert [item.version for item in due] == [1]
    session.commit()
    with app.extensions["foitrack.db"].session() as other:
        assert len(embargo.record_openings(other, TEST_ACTOR, EMBARGO)) == 1
        other.commit()
    assert embargo.record_opening(session, TEST_ACTOR, due[0], EMBARGO) is None
    session.commit()
    assert len(openings(session)) == 1 and count(session, ReleaseOpening) == 1
