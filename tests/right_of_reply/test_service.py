"""Right of reply (issue 20, point 5), the service: each force is written its own figures as
held and its draft local lines with a day to answer by; the message goes through the usual
mail path; a reply filed to the request marks it replied; a corrected figure shows as changed."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from foitrack.errors import Invalid
from foitrack.models import DeliveryStatus, Job, MessageKind, OutgoingMessage, RightOfReply
from foitrack.services import inbound, mail, requests
from foitrack.services import right_of_reply as ror
from foitrack.services.figures import Entry, save_figures
from foitrack.services.mail_templates import save_template
from foitrack.storage import FileStore
from tests.background import run_queued_jobs
from tests.factories import TEST_ACTOR
from tests.right_of_reply.conftest import ANSWER_BY, SLUG, TODAY


def _settings(app, port: int | None, tmp_path) -> mail.MailSettings:
    """The mail settings, set on the app too: the background job reads them from there."""
    app.config.update(
        MAIL_FROM="research@charity.example", SMTP_HOST="127.0.0.1" if port else None,
        SMTP_PORT=port or 0, SMTP_STARTTLS=False, OUTBOX_PATH=str(tmp_path / "outbox"))
    return mail.settings_from(app.config)


def _ids(session, *slugs: str) -> list[int]:
    return [requests.get_request(session, SLUG, slug).id for slug in slugs]


def _status(session, campaign, slug: str, today: dt.date = TODAY) -> ror.ForceStatus:
    return next(s for s in ror.statuses(session, campaign, today) if s.authority_slug == slug)


def _send(app, session, campaign, settings, *slugs, answer_by=ANSWER_BY):
    job, skipped = ror.send(session, TEST_ACTOR, campaign, _ids(session, *slugs), answer_by,
                            TODAY)
    session.commit()
    run_queued_jobs(app)  # the job writes the messages with the app's mail settings
    session.expire_all()
    return job, skipped


def test_each_force_is_shown_its_own_figures_as_held_and_its_draft_lines(session, answered):
    mercia, kent = ror.drafts(session, answered, [requests.get_request(session, SLUG, s)
                                                  for s in ("west-mercia", "kent", "sussex")],
                              ANSWER_BY, TODAY)  # Sussex has no figures: no message
    assert [f.text for f in mercia.figures] == [
        "Offences of sexual communication with a child recorded, 2018/19: 122",
        "Offences of sexual communication with a child recorded, 2018/19, "
        "Communication method: Instagram: 12"]
    assert [f.text for f in kent.figures] == [
        "Offences of sexual communication with a child recorded, 2018/19: 80"]
    assert mercia.lines[0].startswith("West Mercia Police recorded 122 offences")
    for line in (*mercia.lines, *(f.text for f in mercia.figures)):
        assert line in mercia.body
    assert "122" not in kent.body and "West Mercia" not in kent.body
    assert "Please tell us by Monday 15 July 2019 if any figure is wrong" in \
        " ".join(mercia.body.split())
    token = mail.token_for(requests.get_request(session, SLUG, "west-mercia"))
    assert mercia.subject.endswith(f"[{token}]") and mercia.subject.startswith("Before we publish")


@pytest.mark.parametrize("day, words", [
    (TODAY, "1 July 2019 is not in the future"),
    (dt.date(2019, 6, 1), "1 June 2019 is not in the future"),
    (dt.date(2021, 7, 15), "more than a year away"),
])
def test_the_answer_by_day_must_be_in_the_future_and_nothing_is_written(app, session, answered,
                                                                         tmp_path, day, words):
    with pytest.raises(Invalid) as refused:
        ror.queue_round(session, TEST_ACTOR, answered, _ids(session, "kent"), day,
                        _settings(app, None, tmp_path), TODAY)
    assert refused.value.problems[0].field == "answer_by" and words in str(refused.value)
    session.rollback()
    assert session.scalars(select(OutgoingMessage)).all() == []


def test_a_send_with_a_past_day_asks_for_no_job(app, session, answered):
    with pytest.raises(Invalid) as refused:
        ror.send(session, TEST_ACTOR, answered, _ids(session, "kent"), TODAY, TODAY)
    assert refused.value.problems[0].field == "answer_by"
    session.rollback()
    assert session.scalars(select(Job)).all() == []


def test_no_force_ticked_is_refused_naming_the_field(app, session, answered, tmp_path):
    with pytest.raises(Invalid) as refused:
        ror.queue_round(session, TEST_ACTOR, answered, [], ANSWER_BY, _settings(app, None, tmp_path),
                        TODAY)
    assert refused.value.problems[0].field == "authorities"


def test_a_force_without_figures_or_of_another_campaign_is_named_and_not_asked_for(
        app, session, answered, tmp_path):
    job, skipped = ror.send(session, TEST_ACTOR, answered, [*_ids(session, "sussex"), 99999],
                            ANSWER_BY, TODAY)
    assert job is None and skipped == ["request 99999: not a request of grooming-2019",
                                       "Sussex Police: has no figures to show"]


def test_a_force_without_figures_or_of_another_campaign_is_named_not_sent(app, session, answered,
                                                                         tmp_path):
    queued, skipped = ror.queue_round(session, TEST_ACTOR, answered,
                                      [*_ids(session, "sussex", "kent"), 99999], ANSWER_BY,
                                      _settings(app, None, tmp_path), TODAY)
    assert [m.request.authority.slug for m in queued] == ["kent"]
    assert skipped == ["request 99999: not a request of grooming-2019",
                       "Sussex Police: has no figures to show"]


def test_the_round_goes_through_a_real_mail_server_and_keeps_what_was_shown(
        app, session, answered, smtp_server, tmp_path):
    server, port = smtp_server
    settings = _settings(app, port, tmp_path)
    expected = {d.authority_slug: d for d in ror.drafts(
        session, answered, requests.campaign_requests(session, answered), ANSWER_BY, TODAY)}
    job, skipped = _send(app, session, answered, settings, "west-mercia", "kent")
    assert job is not None and skipped == []
    assert len(server.messages) == 2
    for slug in ("west-mercia", "kent"):
        found = requests.get_request(session, SLUG, slug)
        sent = server.to(found.authority.foi_email)
        assert len(sent) == 1
        assert sent[0]["Subject"] == expected[slug].subject
        assert sent[0].get_content().replace("\r\n", "\n").strip() == expected[slug].body.strip()
        kept = session.scalars(select(RightOfReply).where(RightOfReply.request_id == found.id)).one()
        assert kept.answer_by == ANSWER_BY and kept.message.body == expected[slug].body
        assert kept.message.status is DeliveryStatus.sent and kept.message.sent_at is not None
        assert kept.message.message_id == sent[0]["Message-ID"]
        assert kept.figures == [f.kept() for f in expected[slug].figures]
        assert kept.lines == list(expected[slug].lines)
        status = _status(session, answered, slug)
        assert (status.status, status.answer_by) == (ror.ReplyStatus.awaiting, ANSWER_BY)
    assert _status(session, answered, "sussex").status is ror.ReplyStatus.not_sent


def test_sending_the_same_round_twice_sends_once(app, session, answered, smtp_server, tmp_path):
    server, port = smtp_server
    settings = _settings(app, port, tmp_path)
    _send(app, session, answered, settings, "kent")
    job, skipped = _send(app, session, answered, settings, "kent")
    assert skipped == [] and len(server.messages) == 1
    assert job.summary == ("0 sent; not sent: Kent Police: these figures and lines were sent "
                           "already, to answer by 15 July 2019")
    # A new day to answer by is a new message.
    job, _ = _send(app, session, answered, settings, "kent", answer_by=dt.date(2019, 7, 22))
    assert job is not None and len(server.messages) == 2


def test_without_a_mail_server_it_goes_to_the_outbox_and_counts_as_sent(app, session, answered,
                                                                        tmp_path):
    _send(app, session, answered, _settings(app, None, tmp_path), "kent")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    status = _status(session, answered, "kent")
    assert status.status is ror.ReplyStatus.awaiting and status.to_outbox


def test_a_refused_message_is_being_sent_and_goes_with_the_next_round(app, session, answered,
                                                                      smtp_server, tmp_path):
    server, port = smtp_server
    server.refuse.add("freedomofinformation@kent.police.uk")
    settings = _settings(app, port, tmp_path)
    _send(app, session, answered, settings, "kent")
    assert _status(session, answered, "kent").status is ror.ReplyStatus.sending
    server.refuse.clear()
    job, skipped = _send(app, session, answered, settings, "kent")
    assert job.summary == "1 sent" and skipped == []
    assert len(server.to("freedomofinformation@kent.police.uk")) == 1
    assert _status(session, answered, "kent").status is ror.ReplyStatus.awaiting
    assert len(session.scalars(select(RightOfReply)).all()) == 1


def _reply(subject: str, in_reply_to: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "FOI Team <freedomofinformation@kent.police.uk>"
    message["To"] = "research@charity.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime(2019, 7, 3, 9, 30, tzinfo=dt.UTC))
    message["Message-ID"] = f"<{abs(hash(subject))}.{in_reply_to is None}@kent.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content("The 2018/19 figure should be 85, not 80.")
    return bytes(message)


@pytest.mark.parametrize("how", ["token", "thread"])
def test_the_forces_reply_is_filed_to_its_request_and_marks_it_replied(
        app, session, answered, smtp_server, tmp_path, how):
    server, port = smtp_server
    _send(app, session, answered, _settings(app, port, tmp_path), "kent")
    sent = server.messages[0]
    subject = f"RE: {sent['Subject']}" if how == "token" else "RE: your figures"
    report = inbound.import_file(session, TEST_ACTOR, FileStore(tmp_path / "files"), "reply.eml",
                                 _reply(subject, sent["Message-ID"] if how == "thread" else None),
                                 TODAY)
    session.commit()
    assert report.filed == [f"{subject}: filed against Kent Police ({how})"]
    kent = requests.get_request(session, SLUG, "kent")
    assert kent.events[-1].kind.value == "reply_received"
    status = _status(session, answered, "kent")
    assert status.status is ror.ReplyStatus.replied and status.replied_at is not None


def test_a_reply_filed_before_the_right_of_reply_does_not_count(app, session, answered,
                                                               smtp_server, tmp_path):
    server, port = smtp_server
    kent = requests.get_request(session, SLUG, "kent")
    inbound.import_file(session, TEST_ACTOR, FileStore(tmp_path / "files"), "reply.eml",
                        _reply(f"Response [{mail.token_for(kent)}]"), TODAY)
    session.commit()
    _send(app, session, answered, _settings(app, port, tmp_path), "kent")
    assert _status(session, answered, "kent").status is ror.ReplyStatus.awaiting


def test_past_the_answer_by_day_without_a_reply_it_is_overdue(app, session, answered, tmp_path):
    _send(app, session, answered, _settings(app, None, tmp_path), "kent")
    assert _status(session, answered, "kent", ANSWER_BY).status is ror.ReplyStatus.awaiting
    late = ANSWER_BY + dt.timedelta(days=1)
    assert _status(session, answered, "kent", late).status is ror.ReplyStatus.overdue


def test_a_correction_through_the_figure_grid_shows_as_changed_and_is_unchecked(
        app, session, answered, tmp_path):
    _send(app, session, answered, _settings(app, None, tmp_path), "kent", "west-mercia")
    assert not _status(session, answered, "kent").changed
    kent = requests.get_request(session, SLUG, "kent")
    save_figures(session, TEST_ACTOR, kent,
                 [Entry("offences", "2018-19", None, None, "85", source="Kent's correction")])
    session.commit()
    changes = _status(session, answered, "kent").changes
    assert [c.text for c in changes] == [
        "Offences of sexual communication with a child recorded, 2018/19: 80 → 85"]
    assert not _status(session, answered, "west-mercia").changed
    # A new round shows the corrected figure; then nothing has changed since.
    queued, _ = ror.queue_round(session, TEST_ACTOR, answered, _ids(session, "kent"),
                                dt.date(2019, 7, 15), _settings(app, None, tmp_path), TODAY)
    assert "2018/19: 85" in queued[0].body


def test_an_edited_wording_is_used_and_checked_against_the_right_of_reply_values(
        session, answered):
    save_template(session, TEST_ACTOR, answered, MessageKind.right_of_reply,
                  "Check: {{ subject }}", "{{ authority.name }} by {{ answer_by }}:\n{{ figures }}",
                  {**mail._context(requests.get_request(session, SLUG, "kent"), TODAY, None),
                   **ror.SAMPLE}, 0)
    (kent,) = ror.drafts(session, answered, [requests.get_request(session, SLUG, "kent")],
                         ANSWER_BY, TODAY)
    assert kent.body == ("Kent Police by Monday 15 July 2019:\n"
                         "- Offences of sexual communication with a child recorded, 2018/19: 80")


def test_the_checklist_counts_sent_replied_overdue_and_changed(app, session, answered,
                                                               smtp_server, tmp_path):
    server, port = smtp_server
    before = ror.checklist(session, answered, TODAY)
    assert (before.with_figures, before.not_sent, before.sent) == (2, 2, 0) and not before.done
    _send(app, session, answered, _settings(app, port, tmp_path), "kent", "west-mercia")
    kent_message = server.to("freedomofinformation@kent.police.uk")[0]
    inbound.import_file(session, TEST_ACTOR, FileStore(tmp_path / "files"), "reply.eml",
                        _reply(f"RE: {kent_message['Subject']}"), TODAY)
    save_figures(session, TEST_ACTOR, requests.get_request(session, SLUG, "kent"),
                 [Entry("offences", "2018-19", None, None, "85")])
    session.commit()
    late = ANSWER_BY + dt.timedelta(days=3)
    counts = ror.checklist(session, answered, late)
    assert (counts.with_figures, counts.not_sent, counts.sent, counts.replied, counts.overdue,
            counts.awaiting, counts.changed_since) == (2, 0, 2, 1, 1, 0, 1)
    assert counts.done
    assert counts.summary() == ("2 of 2 forces with figures sent, 1 replied, 1 overdue, "
                                "1 with figures changed since")


def test_the_job_writes_its_messages_once_however_often_it_runs(app, session, answered,
                                                               tmp_path):
    settings = _settings(app, None, tmp_path)
    job, _ = ror.send(session, TEST_ACTOR, answered, _ids(session, "kent", "west-mercia"),
                      ANSWER_BY, TODAY)
    session.commit()
    for _ in range(2):  # as a job taken up again after its worker died
        ror.compose_for_job(session, TEST_ACTOR, job, settings, TODAY)
        session.commit()
    assert len(session.scalars(select(RightOfReply)).all()) == 2
    assert sorted(m.request.authority.slug for m in session.scalars(select(OutgoingMessage))) \
        == ["kent", "west-mercia"]


def test_the_publish_page_s_checklist_counts_the_right_of_reply(app, session, answered,
                                                                tmp_path):
    from foitrack.services.publish_checklist import checklist

    def item():
        session.expire_all()
        return next(i for i in checklist(session, answered, today=TODAY)
                    if i.key == "right_of_reply")

    assert not item().ready and item().detail.startswith("Not sent")
    _send(app, session, answered, _settings(app, None, tmp_path), "west-mercia", "kent")
    found = item()
    assert not found.ready  # both still to answer
    assert found.detail.startswith("2 of 2 forces with figures sent, 0 replied, 0 overdue, "
                                   "2 awaiting")
    # Past the day to answer by, the forces had their chance: ready, and the overdue said.
    late = next(i for i in checklist(session, answered, today=ANSWER_BY + dt.timedelta(days=1))
                if i.key == "right_of_reply")
    assert "2 overdue" in late.detail and late.ready
    # A figure changed since a force was shown it: worth a look again.
    save_figures(session, TEST_ACTOR, requests.get_request(session, SLUG, "kent"),
                 [Entry("offences", "2018-19", None, None, "85")])
    session.commit()
    changed = next(i for i in checklist(session, answered, today=ANSWER_BY + dt.timedelta(days=1))
                   if i.key == "right_of_reply")
    assert "1 with figures changed since" in changed.detail and not changed.ready
