"""The letters people write (request texts, mail templates): bounded, refused when saved with
a message naming the field, quickly; real letters still render (issue 23, points 5 and 21)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from foitrack.errors import Invalid
from foitrack.models import Campaign, MailTemplate, MessageKind
from foitrack.services import (
    campaigns,
    letter_templates,
    mail,
    mail_templates,
    requests,
    right_of_reply,
)
from foitrack.services.design import create_from_file
from tests.factories import EXAMPLE_DESIGN, REQUEST_TEXT, TEST_ACTOR, load_forces

# Each made a 200 MB letter, held a worker for minutes, or overflowed the parser's stack.
HOSTILE = {
    "repeat a string": "{{ 'a' * 200000000 }}",
    "nested loops": "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}"
                    "{% endfor %}",
    "a huge range as a list": "{{ range(10**9)|list }}",
    "a long string literal": "{{ '" + "a" * 30_000 + "' }}",
    "a huge power": "{{ 10 ** 10 ** 10 }}",
    "padding by %": "{{ '%*d' % (200000000, 1) }}",
    "padding by a filter": "{{ 'a'|center(200000000) }}",
    "doubling in a namespace": "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
                               "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "replace chains": "{{ salutation" + "|replace('a', 'aaaaaaaaaa')" * 12 + " }}",
    "concatenation": "{{ salutation" + " ~ salutation" * 3000 + " }}",
    "deep nesting": "{{ " + "(" * 5000 + "salutation" + ")" * 5000 + " }}",
    "python internals": "{{ authority.__class__.__mro__[1].__subclasses__() }}",
}
# A refused template is refused from its source, before any of it runs: about 0.1 s alone and
# up to 2 s on a CI machine running two test workers and the database. One that ran would take
# minutes or never end (10**10 loop turns, a 10**10-digit power) or exhaust memory, so the bound
# sits far from both; speed itself is measured in benchmarks, not here.
QUICK = 10.0
# The worst a template within the limits may ask: 0.1-0.9 s measured on a loaded machine, while
# Jinja's constant folding (turned off) took 3.6 s on far less; see docs/reliability.md.
WORST = 3.0


@pytest.fixture
def forces(session):
    load_forces(session)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_request_text_is_refused_at_save_naming_the_field_quickly(session, forces,
                                                                            name):
    started = time.perf_counter()
    with pytest.raises(Invalid) as caught:
        campaigns.create_campaign(session, TEST_ACTOR, title="Hostile", request_text=HOSTILE[name],
                                  authority_keys=["kent"])
    assert time.perf_counter() - started < QUICK
    assert caught.value.for_field("request_text"), caught.value
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_mail_template_is_refused_at_save_naming_the_field_quickly(session, forces, name):
    campaign = campaigns.create_campaign(session, TEST_ACTOR, title="Mail", request_text=REQUEST_TEXT,
                                         authority_keys=["kent"])
    session.commit()
    sample = mail._context(campaign.requests[0], dt.date(2019, 6, 1), None)
    started = time.perf_counter()
    with pytest.raises(Invalid) as caught:
        mail_templates.save_template(session, TEST_ACTOR, campaign, MessageKind.chaser, "Late",
                                     HOSTILE[name], sample, 1)
    assert time.perf_counter() - started < QUICK
    assert caught.value.for_field("body"), caught.value
    session.rollback()
    assert session.scalar(select(func.count()).select_from(MailTemplate)) == 0


def test_the_refusal_says_what_a_letter_may_use_and_where():
    with pytest.raises(Invalid) as caught:
        letter_templates.render("Dear {{ name }},\n\n{{ 'a' * 200000000 }}", {"name": "x"}, "body")
    [message] = caught.value.for_field("body")
    assert message.startswith("line 3: the * operator cannot be used in a letter; a letter may use")


def test_the_worst_templates_within_the_limits_are_quick():
    """The largest work a template may ask for: 20,000 characters of placeholders, conditions,
    filters, comparisons or ``or``, nested as deep as allowed. Parsing and compiling are
    linear in the source (without Jinja's constant folding, which was cubic in a chain of
    filters); measured at 0.1-0.9 s on a loaded 2-core machine, the densest (comparisons)
    slowest. Once compiled, a template is kept, so a send renders it in microseconds."""
    context = {"salutation": "Dear Sir or Madam", "authority": {"name": "Kent Police"}, "n": 1}
    deep = letter_templates.MAX_NESTING - 3

    def fill(piece: str) -> str:
        return piece * (letter_templates.MAX_SOURCE // len(piece))

    worst = {
        "placeholders": fill("{{ authority.name }}"),
        "conditions": fill("{% if salutation %}x{% else %}y{% endif %}"),
        "filters": fill("{{ salutation" + "|upper" * deep + " }}"),
        "or": fill("{{ salutation" + " or salutation" * deep + " }}"),
        "comparisons": fill("{{ n" + " < n" * deep + " }}"),
        "nesting": "{% if salutation %}" * deep + "x" + "{% endif %}" * deep,
    }
    for name, source in worst.items():
        assert len(source) <= letter_templates.MAX_SOURCE, name
        started = time.perf_counter()
        letter_templates.render(source, context, f"body {name}")  # not the compiled one kept
        assert time.perf_counter() - started < WORST, name


def test_a_letter_too_long_when_written_out_is_refused():
    """A mail template may print the request text many times: the output is capped too."""
    body = "{{ request_text }}\n" * 200
    with pytest.raises(Invalid, match="makes a letter longer than 100,000 characters"):
        letter_templates.render(body, {"request_text": "x" * 1_000}, "body")


def test_real_letters_still_render(session, forces):
    text = ("{{ salutation }},\n\nHow many offences did {{ authority.name|upper }} "
            "({{ authority.code or 'no code' }}) record?{% if authority.short_name is defined %} "
            "Thank you, {{ authority.short_name }}.{% endif %}")
    campaign = campaigns.create_campaign(session, TEST_ACTOR, title="Real", request_text=text,
                                         authority_keys=["kent"])
    session.commit()
    request = campaign.requests[0]
    written = campaigns.render_text(text, request.authority)
    assert written == ("Dear Freedom of Information Officer,\n\nHow many offences did KENT POLICE "
                       "(E23000032) record? Thank you, Kent.")
    requests.add_event(session, TEST_ACTOR, request, "sent", dt.date(2019, 5, 1),
                       today=dt.date(2019, 5, 1))
    session.commit()
    for kind in mail_templates.DEFAULTS:
        if kind is MessageKind.right_of_reply:
            # Its sender adds the force's figures, draft lines and day to answer by
            # (services.right_of_reply; its own tests send real ones): here, its sample.
            subject_text, body_text = mail_templates.DEFAULTS[kind]
            context = {**mail._context(request, dt.date(2019, 7, 1), None),
                       **right_of_reply.SAMPLE}
            subject = letter_templates.render(subject_text, context, "subject")
            body = letter_templates.render(body_text, context, "body")
        else:
            subject, body = mail.compose(session, request, kind, dt.date(2019, 7, 1))
        assert subject and body and "{{" not in body


def test_a_text_saved_before_the_limits_says_why_it_cannot_be_written_out(session, forces):
    """One stored before: refused where it is rendered (a clear Invalid), and shown on the
    request's page as an explanation, not a server error."""
    campaign = campaigns.create_campaign(session, TEST_ACTOR, title="Old", request_text=REQUEST_TEXT,
                                         authority_keys=["kent"])
    campaign.current_version.request_text = "{% for i in range(3) %}x{% endfor %}"
    session.commit()
    with pytest.raises(Invalid) as caught:
        campaigns.render_text(campaign.current_version.request_text, None)
    assert "{% for %} loops cannot be used" in caught.value.for_field("request_text")[0]
    assert campaigns.shown_text(campaign.current_version.request_text, None).startswith(
        "(This wording cannot be written out: line 1: {% for %} loops cannot be used")


# ---- point 21: a line break in anything that goes into a subject ------------------------

BROKEN = ["Grooming\r\nBcc: everyone@example.org", "Grooming\nfigures", "Grooming\rfigures",
          "Grooming\x00", "Grooming\u2028figures"]


@pytest.mark.parametrize("subject", BROKEN)
def test_a_subject_with_a_line_break_is_refused_at_create(session, forces, subject):
    with pytest.raises(Invalid) as caught:
        campaigns.create_campaign(session, TEST_ACTOR, title="Grooming", subject=subject,
                                  request_text=REQUEST_TEXT, authority_keys=["kent"])
    assert caught.value.for_field("subject")[0].startswith("must be on one line"), caught.value
    assert not caught.value.for_field("title")


@pytest.mark.parametrize("title", BROKEN)
def test_a_title_with_a_line_break_is_refused_as_it_makes_the_default_subject(session, forces,
                                                                            title):
    with pytest.raises(Invalid) as caught:
        campaigns.create_campaign(session, TEST_ACTOR, title=title, slug="grooming",
                                  request_text=REQUEST_TEXT, authority_keys=["kent"])
    assert caught.value.for_field("title")[0].startswith("must be on one line"), caught.value


def test_a_line_break_is_refused_when_the_wording_or_title_is_edited(session, forces):
    campaign = campaigns.create_campaign(session, TEST_ACTOR, title="Grooming", request_text=REQUEST_TEXT,
                                         authority_keys=["kent"])
    session.commit()
    with pytest.raises(Invalid) as caught:
        campaigns.update_wording(session, TEST_ACTOR, campaign, subject="FOI\r\nBcc: x@example.org",
                                 request_text=REQUEST_TEXT)
    assert caught.value.for_field("subject")
    with pytest.raises(Invalid) as caught:
        campaigns.update_campaign(session, TEST_ACTOR, campaign, {"title": "Two\nlines"})
    assert caught.value.for_field("title")
    session.rollback()
    assert campaign.title == "Grooming" and campaign.current_version.subject.startswith("Freedom")


def test_a_campaign_file_with_a_line_break_in_its_subject_is_refused(session, forces):
    text = EXAMPLE_DESIGN.replace(
        'request_text =', 'subject = "FOI\\r\\nBcc: x@example.org"\nrequest_text =', 1)
    assert "subject = " in text
    with pytest.raises(Invalid) as caught:
        create_from_file(session, TEST_ACTOR, text)
    assert caught.value.for_field("subject"), caught.value


def test_the_command_line_refuses_a_line_break_in_the_subject(runner, session, forces, tmp_path):
    from foitrack.cli import main

    text = tmp_path / "text.txt"
    text.write_text(REQUEST_TEXT, encoding="utf-8")
    result = runner.invoke(main, ["campaigns", "create", "--title", "Grooming", "--authorities",
                                  "kent", "--text-file", str(text), "--subject",
                                  "FOI\nBcc: x@example.org"])
    assert result.exit_code != 0
    assert "subject: must be on one line" in result.output
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
