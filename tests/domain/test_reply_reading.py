"""Issue 17 point 6: reading a reply for the sections it cites (FOIA s.12, s.14, ss.21-44,
neither confirm nor deny, not held, s.1(3), s.9, s.10(3)), and grouping near-identical paragraphs."""

from __future__ import annotations

import io
import zipfile

import pytest

from foitrack.domain.document_text import attachment_text
from foitrack.domain.reply_reading import (
    ground_of,
    group_shared,
    paragraphs,
    read_reply,
    sentences,
)
from foitrack.domain.timeline import EventKind, ResponseOutcome
from tests.domain.test_document_text import word_document


@pytest.mark.parametrize(("text", "labels", "exemptions"), [
    ("Section 12 of the Act applies to your request.", {"s.12"}, ("s.12",)),
    ("Your request is refused under s12.", {"s.12"}, ("s.12",)),
    ("This information is exempt under s.12(1).", {"s.12"}, ("s.12(1)",)),
    ("We estimate that the cost of compliance would exceed the appropriate limit.", {"s.12"},
     ("s.12",)),
    ("Gwent Police is not able to answer your request within the cost limit of 18 hours.",
     {"s.12"}, ("s.12",)),
    ("We consider the request vexatious under section 14(1).", {"s.14"}, ("s.14(1)",)),
    ("The information is reasonably accessible to you by other means.", {"s.21"}, ("s.21",)),
    ("Names are withheld under section 40(2) of the Freedom of Information Act 2000.",
     {"s.40(2)"}, ("s.40(2)",)),
    ("Exemption applied: Section 31(1)(a)(b) – Law Enforcement.", {"s.31"}, ("s.31(1)(a)(b)",)),
    ("The figures are exempt under section 30.", {"s.30"}, ("s.30",)),
    ("Sections 30 and 31 apply, as do ss.40(2) & 40(5).", {"s.30", "s.31", "s.40(2)", "s.40(5)"},
     ("s.30", "s.31", "s.40(2)", "s.40(5)")),
    ("After careful consideration we withheld the figures under Section 21.\n\nSection 1 of the "
     "Act gives you a right.", {"s.21"}, ("s.21",)),
])
def test_each_section_is_proposed_as_cited(text, labels, exemptions):
    reading = read_reply(text)
    assert reading.labels == labels
    assert reading.exemptions == exemptions


@pytest.mark.parametrize("text", [
    "Kent Police can neither confirm nor deny that it holds any information, by virtue of S40(5).",
    "We are unable to confirm or deny whether we hold the information, as s.40(5) applies.",
    "By virtue of section 40(5B)(a)(i), the force is exempt from the duty to confirm or deny.",
])
def test_neither_confirm_nor_deny_is_a_response_of_its_own(text):
    reading = read_reply(text)
    assert reading.labels == {"ncnd", "s.40(5)"}
    assert (reading.kind, reading.outcome) == (EventKind.response, ResponseOutcome.ncnd)


@pytest.mark.parametrize(("text", "label", "kind", "outcome"), [
    ("Lancashire Constabulary does not hold the information you requested.", "not_held",
     EventKind.response, ResponseOutcome.not_held),
    ("No information is held.", "not_held", EventKind.response, ResponseOutcome.not_held),
    ("Before we can proceed, could you please clarify what you mean by 'incidents'?", "s.1(3)",
     EventKind.clarification_requested, None),
    ("We need clarification in order to identify and locate the information.", "s.1(3)",
     EventKind.clarification_requested, None),
    ("Please find attached a fees notice.", "s.9", EventKind.fees_notice, None),
    ("The fee of £35.00 is payable before we send the copies.", "s.9", EventKind.fees_notice, None),
    ("We need to extend the time for our response by 20 working days to consider the public "
     "interest test.", "s.10(3)", EventKind.extension, None),
])
def test_the_other_answers_propose_their_event(text, label, kind, outcome):
    reading = read_reply(text)
    assert reading.labels == {label}
    assert (reading.kind, reading.outcome) == (kind, outcome)
    assert reading.because == text


@pytest.mark.parametrize("text", [
    "Your request has been dealt with under the Freedom of Information Act 2000.",
    "Section 1 of the Act places two duties on public authorities.",
    "This letter is a s.17 notice.",
    "Thank you for your request dated 12 May 2019.",
    "Our reference is FOI 2019/12.",
    "Please see paragraph 12 of our publication scheme.",
    "If you are dissatisfied, you may complain to the Information Commissioner under section 50.",
    "Complaint rights: you may ask for an internal review of our decision to apply section 12.",
    "We are not relying on section 14 in this case.",
    "Section 14 has not been applied to this request.",
    "We do not consider that section 40(2) applies to the totals.",
    "You asked for searches under section 43 of the Terrorism Act 2000.",
    "Your question about section 43 Terrorism Act searches covers 30 sites.",
    "Further detail is in section 24 of the attached annual report.",
    "Kent Police's 24 neighbourhood teams record this differently.",
    "Carbrook House, Sheffield S35 2EH",
    "Some exemptions, such as section 30, require a public interest test.",
    "Where a request is vexatious, section 14 allows us to refuse it.",
    "In previous years we have sometimes applied section 31 to this kind of question.",
    "We have answered within the cost limit of 18 hours.",
    "Thank you for your clarification of 3 May.",
    "There is no charge for this information.",
    "This response should not be taken as an indication that the information is or is not held.",
    "If information is not held, we will always tell you so.",
])
def test_distractors_propose_nothing(text):
    assert read_reply(text).labels == frozenset()


def test_a_reason_after_a_negation_is_still_a_citation():
    assert read_reply("We will not provide the figures, as section 12 applies.").labels == {"s.12"}


def test_an_exemption_beside_information_given_is_part_provided():
    reading = read_reply("Please find the figures below.\n\nNames are withheld under s.40(2).")
    assert reading.outcome is ResponseOutcome.part_provided
    assert reading.because == "Names are withheld under s.40(2)."


def test_a_plain_answer_is_provided_and_an_acknowledgement_proposes_acknowledged():
    assert read_reply("Please find below the information you requested.").outcome is (
        ResponseOutcome.provided)
    assert read_reply("We acknowledge receipt of your request.").kind is EventKind.acknowledged
    assert read_reply("Dear Requester,\n\nYours sincerely").kind is None


def test_an_extension_names_the_exemption_weighed():
    reading = read_reply("We need more time to consider the public interest in relation to "
                         "section 31(1)(a).")
    assert reading.kind is EventKind.extension
    assert reading.exemptions == ("s.31(1)(a)",)


def test_sentences_do_not_end_at_a_section_abbreviation():
    assert sentences("Exempt under s. 40(2). Please note e.g. this. The end") == [
        "Exempt under s. 40(2).", "Please note e.g. this.", "The end"]
    assert paragraphs("One\nline.\n\nTwo.\n- a bullet") == ["One line.", "Two.", "- a bullet"]


def test_ground_keeps_the_subsection_of_section_40_only():
    assert ground_of("s.31(1)(a)") == "s.31"
    assert ground_of("s.40(5B)(a)(i)") == "s.40(5)"
    assert ground_of("s.40(2)") == "s.40(2)"


S12 = ("{force} estimates that the cost of locating, retrieving and extracting the information "
       "you have asked for would exceed the appropriate limit of 18 hours, and so section 12 "
       "of the Act applies.")


def test_near_identical_paragraphs_are_grouped_across_forces():
    cited = [(force, "s.12", S12.format(force=force)) for force in
             ("Kent Police", "Essex Police", "Gwent Police")]
    cited.append(("Durham Constabulary", "s.12", "Answering would take more than 18 hours, so "
                  "we rely on s.12."))
    cited.append(("Kent Police", "s.40(2)", "Names withheld under s.40(2)."))
    groups = group_shared(cited)
    assert [(g.label, g.members) for g in groups] == [
        ("s.12", ("Kent Police", "Essex Police", "Gwent Police"))]
    assert groups[0].summary == "3 forces sent the same s.12 paragraph"


def _zipped(name: str, xml: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, xml)
    return out.getvalue()


def test_word_and_opendocument_attachments_are_read():
    docx = word_document("The information is exempt under section 30.", "Yours")
    odt = _zipped("content.xml", (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        "<text:p>No information is held.</text:p></office:text></office:body>"
        "</office:document-content>"))
    assert attachment_text("reply.docx", docx) == "The information is exempt under section 30.\n\nYours"
    assert read_reply(attachment_text("reply.odt", odt)).labels == {"not_held"}
    assert attachment_text("reply.docx", b"not a zip") == ""
    assert attachment_text("reply.pdf", b"%PDF-1.4") == ""
