"""Reading bounces, the "delivery failed" event on a timeline, and reply addresses: pure."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from email.message import EmailMessage

import pytest

from foitrack.domain.bounces import read_bounce
from foitrack.domain.clock import Regime
from foitrack.domain.reply_addresses import reply_address, request_id_from
from foitrack.domain.timeline import EventKind, Status, TimelineError, TimelineEvent, check, derive
from tests.factories import FIXTURES

D = dt.date.fromisoformat
TODAY = D("2019-07-01")


def parsed(name: str) -> EmailMessage:
    raw = (FIXTURES / "bounces" / name).read_bytes()
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize(("name", "form", "address", "status"), [
    ("dsn.eml", "dsn", "freedomofinformation@kent.police.uk", "5.1.1"),
    ("exim.eml", "exim", "information@westmercia.pnn.police.uk", "5.1.1"),
    ("postfix.eml", "postfix", "foi@sussex.pnn.police.uk", "5.2.1"),
    ("exchange.eml", "exchange", "foi@bedfordshire.pnn.police.uk", "5.1.1"),
])
def test_each_kind_of_bounce_says_who_failed_why_and_what_it_returns(name, form, address, status):
    bounce = read_bounce(parsed(name))
    assert bounce is not None and bounce.form == form and bounce.permanent
    assert [(r.address, r.status) for r in bounce.recipients] == [(address, status)]
    assert bounce.recipients[0].diagnostic.startswith("550 ")
    assert bounce.original_message_id and bounce.original_message_id.endswith("@charity.example>")
    assert bounce.original_subject and "[FOI-" in bounce.original_subject


def test_a_reply_is_not_a_bounce():
    message = EmailMessage()
    message["From"] = "FOI Team <foi@kent.police.uk>"
    message["Subject"] = "Re: Freedom of Information request [FOI-2-KENT]"
    message.set_content("Please find attached our response. Error 550 was not involved.")
    assert read_bounce(message) is None


def test_a_delayed_delivery_report_is_not_a_failure():
    raw = (FIXTURES / "bounces" / "dsn.eml").read_bytes().replace(
        b"Action: failed\nStatus: 5.1.1", b"Action: delayed\nStatus: 4.4.7")
    bounce = read_bounce(email.message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
    assert bounce is not None and not bounce.permanent


def test_a_relayed_or_delivered_report_is_not_a_failure():
    for action, status in ((b"relayed", b"2.0.0"), (b"delivered", b"2.0.0")):
        raw = (FIXTURES / "bounces" / "dsn.eml").read_bytes().replace(
            b"Action: failed\nStatus: 5.1.1", b"Action: " + action + b"\nStatus: " + status)
        bounce = read_bounce(email.message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        assert bounce is not None and bounce.recipients == () and not bounce.permanent


def ev(kind: str, on: str, seq: int) -> TimelineEvent:
    return TimelineEvent(EventKind(kind), D(on), seq)


def test_a_request_returned_right_after_sending_is_not_sent_and_may_go_again_that_day():
    timeline = [ev("sent", "2019-05-01", 1), ev("delivery_failed", "2019-05-01", 2)]
    check(timeline[:1], timeline[1], TODAY)
    state = derive(timeline, Regime.foia, TODAY)
    assert state.status is Status.not_sent and state.response_deadline is None
    assert state.lateness is None
    again = ev("sent", "2019-05-01", 3)
    check(timeline, again, TODAY)
    state = derive([*timeline, again], Regime.foia, TODAY)
    assert state.status is Status.awaiting_response and state.sent_on == D("2019-05-01")


def test_a_chaser_returned_leaves_the_request_sent():
    timeline = [ev("sent", "2019-05-01", 1), ev("chaser_sent", "2019-06-05", 2),
                ev("delivery_failed", "2019-06-05", 3)]
    state = derive(timeline, Regime.foia, TODAY)
    assert state.status is Status.awaiting_response and state.sent_on == D("2019-05-01")
    with pytest.raises(TimelineError, match="already sent"):
        check(timeline, ev("sent", "2019-06-06", 4), TODAY)


def test_delivery_cannot_fail_before_anything_was_sent():
    with pytest.raises(TimelineError, match="has not been sent"):
        check([], ev("delivery_failed", "2019-05-01", 1), TODAY)


def test_a_reply_address_names_its_request_only_with_the_right_key():
    address = reply_address("Research <foi@example.org>", 12, "west-mercia", "key")
    assert address.startswith("Research <foi+12-westmercia-") and address.endswith("@example.org>")
    assert request_id_from([address], "key") == 12
    assert request_id_from([address], "another key") is None
    assert request_id_from([address.replace("+12-", "+13-")], "key") is None


def test_a_reply_address_at_a_domain_of_its_own():
    address = reply_address("@replies.example.org", 7, "kent", "key")
    assert address.startswith("7-kent-") and address.endswith("@replies.example.org")
    assert request_id_from([f"Someone <{address}>", "other@example.org"], "key") == 7
