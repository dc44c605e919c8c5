"""The named steps the long functions were broken into: the timeline's table of event
handlers, and the one authority-name matcher both importers use."""

from __future__ import annotations

import datetime as dt
import io
import re
from types import SimpleNamespace
from typing import Any

import pytest

from foitrack.domain import timeline
from foitrack.domain.timeline import EventKind
from foitrack.services import figures, tracker_import
from foitrack.services.authority_names import NOISE_WORDS, AuthorityNames, plain_name, squeezed
from tests.factories import FIGURES_HEADER, TEST_ACTOR, make_campaign

# ---- the timeline's table -------------------------------------------------------------------


def test_every_kind_of_event_has_a_handler():
    assert set(timeline.HANDLERS) == set(EventKind)


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_handler_names_the_law_behind_it_or_that_there_is_none(kind):
    doc = timeline.HANDLERS[kind].__doc__ or ""
    first = doc.strip().splitlines()[0]
    assert re.search(r"\b(FOIA|FOISA|EIR)\b", first) or first.startswith(("No legal effect",
                                                                          "No Act")), first


def test_the_table_cannot_be_changed_by_a_caller():
    with pytest.raises(TypeError):
        timeline.HANDLERS[EventKind.note] = timeline.HANDLERS[EventKind.sent]  # type: ignore[index]


# ---- one normal form of an authority's name -------------------------------------------------


def test_one_noise_word_list_holds_both_old_lists():
    # The tracker import dropped police/constabulary/service/force; the figures CSV also "the".
    assert {"police", "constabulary", "service", "force", "the"} <= NOISE_WORDS


@pytest.mark.parametrize(("written", "plain"), [
    ("W Mercia Police", "west mercia"),
    ("West Mercia Constabulary", "west mercia"),
    ("The Metropolitan Police Service", "metropolitan"),
    ("Devon & Cornwall Police", "devon and cornwall"),
    ("N. Yorkshire", "north yorkshire"),
    ("Ynys Môn", "ynys mon"),
])
def test_plain_name_keeps_the_words_that_tell_authorities_apart(written, plain):
    assert plain_name(written) == plain


def test_squeezed_keeps_letters_and_digits_only():
    assert squeezed("West-Mercia Police") == "westmerciapolice"


def _authority(slug: str, name: str, short_name: str, code: str | None = None,
               former: tuple[str, ...] = ()) -> Any:
    return SimpleNamespace(slug=slug, name=name, short_name=short_name, code=code,
                           former_names=list(former))


FORCES = [
    _authority("west-mercia", "West Mercia Police", "West Mercia", "E23000016"),
    _authority("kent", "Kent Police", "Kent", "E23000032"),
    _authority("hampshire", "Hampshire and Isle of Wight Constabulary", "Hampshire",
               former=("Hampshire Constabulary",)),
    _authority("devon-and-cornwall", "Devon & Cornwall Police", "Devon and Cornwall"),
]


def test_the_matcher_finds_by_code_slug_name_and_words():
    names = AuthorityNames((a, a.slug) for a in FORCES)
    assert names.by_key("e23000016") == "west-mercia"
    assert names.by_key(" kent ") == "kent"
    assert names.by_name("KENT-POLICE") == "kent"
    assert names.by_words("W Mercia Constabulary") == ["west-mercia"]
    assert names.by_words("Atlantis") == []


def test_the_nearest_names_are_offered_only_when_close():
    names = AuthorityNames((a, a.slug) for a in FORCES)
    good, _ = names.nearest("West Mercai")
    assert {names.item(index)[1] for index, _, _ in good} == {"west-mercia"}
    good, hint = names.nearest("Gotham City")
    assert good == [] and hint is not None


# A name each old matcher missed: the figures CSV did not spell out "W", and the tracker
# import kept "the", so "The Kent Police" scored 67% against "Kent" and went unmatched.

def test_the_figures_index_now_reads_a_compass_initial():
    requests = [SimpleNamespace(authority=a) for a in FORCES]
    index = figures.AuthorityIndex.of(requests)  # type: ignore[arg-type]
    assert index.find("W Mercia Police") is requests[0]
    assert index.find("The Kent Police") is requests[1]


def test_the_tracker_now_drops_the_same_noise_words():
    names = AuthorityNames((a, a) for a in FORCES)
    found, how = tracker_import.match_authority("The Kent Police", names)
    assert found is FORCES[1], how
    found, how = tracker_import.match_authority("W Mercia Police", names)
    assert found is FORCES[0], how


@pytest.fixture
def campaign(session):
    return make_campaign(session)


def test_a_figures_csv_may_name_a_force_as_a_tracker_does(session, campaign):
    text = FIGURES_HEADER + "W Mercia Police,offences,2018-19,,,122,,\n"
    report = figures.import_csv(session, TEST_ACTOR, campaign, io.BytesIO(text.encode()))
    assert report.created == 1
    assert figures.export_rows(session, campaign)[0]["authority"] == "E23000016"


def test_a_tracker_may_name_a_force_as_a_figures_csv_does(session, campaign):
    planned = tracker_import.plan(session, campaign, "t.csv",
                                  b"Force,Date sent\nThe Kent Police,01/05/2019\n",
                                  dt.date(2019, 7, 1))
    assert planned.rows[0].authority.slug == "kent", planned.rows[0].how
