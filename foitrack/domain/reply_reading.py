"""Reading an authority's reply: which sections of the Freedom of Information Act 2000 it cites,
and the event, outcome and exemptions that a person may accept for the timeline.

Pure functions over text (no Flask, no database). Nothing here is recorded: a reading is a
proposal, each part with the sentence that justified it, for a person to accept or correct.
What each finding means in law:

- s.12 (cost of compliance exceeds the appropriate limit) and s.14 (vexatious or repeated
  requests) are refusal grounds; ss.21-44 (Part II) are the exemptions. A refusal notice must
  name the one relied on (s.17(1)(b)), which is why the section number is the thing to read.
- "Neither confirm nor deny": an exemption's own subsection removes the duty to confirm or deny
  of s.1(1)(a) (e.g. s.40(5), s.30(3), s.31(3)); it is a kind of refusal.
- Not held: s.1(1)(a) obliges the authority to say whether it holds the information; "not
  held" is an answer, not a refusal.
- s.1(3): the authority may ask for clarification and need not answer until it has it.
- s.9: a fees notice; s.10(2) stops the clock until the fee is paid.
- s.10(3): more time to weigh the public interest, announced in a refusal notice under
  s.17(1)-(2) that names the exemption being weighed (so such a letter cites one too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from foitrack.domain.timeline import EventKind, ResponseOutcome

# The sections a refusal may rest on: s.12, s.14 and Part II (ss.21-44) of the 2000 Act; the
# Scottish Act's Part 2 (ss.25-41) falls inside. Mirrors services.requests.GROUNDS, which checks
# what a person saves; this only proposes.
CITABLE = frozenset({12, 14, *range(21, 45)})

# What a reading can find besides a section: the labels the benchmark and the page use.
NCND = "ncnd"
NOT_HELD = "not_held"
CLARIFICATION = "s.1(3)"
FEES = "s.9"
EXTENSION = "s.10(3)"
SIGNALS = (NCND, NOT_HELD, CLARIFICATION, FEES, EXTENSION)
SIGNAL_NAMES = {
    NCND: "neither confirm nor deny", NOT_HELD: "not held",
    CLARIFICATION: "clarification asked for (s.1(3))", FEES: "fees notice (s.9)",
    EXTENSION: "public interest extension (s.10(3))",
}


@dataclass(frozen=True)
class Finding:
    """One thing the reply says, with the sentence (and its paragraph) that says it."""

    label: str  # a ground ("s.12", "s.40(2)", "s.40(5)") or one of SIGNALS
    cited_as: str  # the section as written, normalised ("s.31(1)(a)"); the label for a signal
    sentence: str
    paragraph: str


@dataclass(frozen=True)
class Reading:
    """What a reply proposes for the timeline, each part with the sentence behind it."""

    findings: tuple[Finding, ...]
    kind: EventKind | None  # None: nothing to propose
    outcome: ResponseOutcome | None
    exemptions: tuple[str, ...]
    because: str  # the sentence that decided the kind and outcome
    labels: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", frozenset(f.label for f in self.findings))

    def first(self, label: str) -> Finding | None:
        return next((f for f in self.findings if f.label == label), None)


# The reading rules' version: a reading stored under an older one is read again from its stored
# text (services.reply_reading), so a better rule reaches replies filed before it without
# reading their attachments again. Raise it whenever a change here changes what is found.
READER_VERSION = 1


def reading_as_json(reading: Reading) -> dict[str, Any]:
    """A reading as plain JSON values, to be kept with its reply."""
    return {
        "findings": [[f.label, f.cited_as, f.sentence, f.paragraph] for f in reading.findings],
        "kind": reading.kind.value if reading.kind is not None else None,
        "outcome": reading.outcome.value if reading.outcome is not None else None,
        "exemptions": list(reading.exemptions), "because": reading.because,
    }


def reading_from_json(kept: dict[str, Any]) -> Reading:
    """The reading ``reading_as_json`` kept. :raises ValueError: on a kind or outcome no longer
    known (the caller reads the reply again)."""
    return Reading(
        findings=tuple(Finding(*finding) for finding in kept["findings"]),
        kind=EventKind(kept["kind"]) if kept["kind"] is not None else None,
        outcome=ResponseOutcome(kept["outcome"]) if kept["outcome"] is not None else None,
        exemptions=tuple(kept["exemptions"]), because=kept["because"],
    )


def ground_of(section: str) -> str:
    """The refusal ground a cited section belongs to: 's.31(1)(a)' -> 's.31'. Section 40 keeps
    its subsection, as 40(2) (others' personal data withheld) and 40(5) (neither confirm nor
    deny) are different answers: 's.40(5B)(a)(i)' -> 's.40(5)'."""
    match = re.match(r"s\.(\d+)(?:\((\d+)[a-z]?\))?", section, re.I)
    if not match:
        return section
    number, sub = match.groups()
    return f"s.40({sub})" if number == "40" and sub else f"s.{number}"


# --- Splitting a letter into paragraphs and sentences -----------------------------------------

# Words ending in a full stop that do not end a sentence ("s. 12", "e.g.", "No. 4").
_ABBREVIATIONS = {"s", "ss", "e.g", "eg", "i.e", "ie", "no", "nos", "para", "paras", "ref",
                  "sec", "secs", "p", "pp", "c", "ca", "etc", "viz", "cf", "mr", "mrs", "ms", "dr",
                  "st", "sub-s", "art", "reg", "sch", "v", "vs"}
_BOUNDARY = re.compile(r"[.!?]+[\"'’”)]*\s+(?=[\"'‘“(]?[A-Z0-9•\-–])")


def paragraphs(text: str) -> list[str]:
    """The letter's paragraphs: split at blank lines and at list items, lines joined."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n\s*\n|\n(?=\s*(?:[•*\-–]|\(?[0-9a-z]{1,2}[.)])\s)", text)
    return [" ".join(line.strip() for line in block.splitlines() if line.strip())
            for block in blocks if block.strip()]


def sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences; a full stop after an abbreviation ("s. 40", "e.g.") is not an end."""
    found, start = [], 0
    for boundary in _BOUNDARY.finditer(paragraph):
        before = paragraph[start:boundary.start()].rsplit(None, 1)
        word = before[-1].lower().rstrip(".") if before else ""
        if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word):
            continue
        found.append(paragraph[start:boundary.end()].strip())
        start = boundary.end()
    if paragraph[start:].strip():
        found.append(paragraph[start:].strip())
    return found


# --- Sections -----------------------------------------------------------------------------------

_SUB = r"(?:\s?\(\s?(?:\d{1,2}[A-Za-z]?|[a-z]{1,4})\s?\))"
# "Section 12", "sections 30 and 31", "s12", "s.40(2)", "S40(5)", "ss. 30 & 31", "sec 38".
# Not after a letter or an apostrophe: "the force's 24 stations" is no citation.
_SECTION = re.compile(
    r"(?<![\w'’.])(?:sections?|secs?\.?|ss?\.?)\s?(?P<first>\d{1,2}(?![\d,/:]|\.\d)" + _SUB + r"*)"
    r"(?P<more>(?:\s?(?:,|&|/|\band\b|\bor\b|,\s?and\b)\s?(?:(?:sections?|ss?\.?)\s?)?"
    r"\d{1,2}(?![\d,/:]|\.\d)" + _SUB + r"*(?!\s?(?:%|hours?|days?|weeks?|months?|years?|working|"
    r"officers?|staff|cases|[A-Z][a-z]+ \d{4})))*)",
    re.I)
_ONE = re.compile(r"(\d{1,2})(" + _SUB + r"*)")
# A postcode's inward half after "S35": an address in Sheffield, not a section.
_POSTCODE = re.compile(r"\s?\d[A-Z]{2}\b")
# A section of some other Act: "section 43 of the Terrorism Act 2000", "s.60 CJPOA".
_OTHER_ACT = re.compile(
    r"^\s*(?:\(\w+\)\s*)*(?:of|under|in)\s+(?:the\s+)?(?!Freedom of Information)"
    r"(?:[A-Z][\w'’-]*(?:\s+(?:and|of|for|the|to|&)?\s*[A-Z(][\w'’()-]*)*)\s+Act\b"
    r"|^\s*(?!Freedom of Information)(?:[A-Z][\w'’-]*\s+){1,6}Act\b"
    r"|^\s*(?:of\s+(?:the\s+)?)?(?:PACE|TACT|CJPOA|RIPA|IPA|DPA|SOA|RTA|MDA|CJA|PHA|PACE\s+1984)\b"
    # A section of some other document: "section 24 of the attached annual report".
    r"|^\s*(?:of|in)\s+(?:our|the|this|that|your)\s+(?:(?:attached|enclosed|annual|published|above)\s+)*"
    r"(?:report|document|guidance|policy|table|spreadsheet|letter|plan|strategy|manual|"
    r"publication scheme|code|form|website|request)")
_FOI_ACT = re.compile(r"Freedom of Information|\bthe Act\b|\bthis Act\b|\bFOIA\b|\bFOISA\b", re.I)
_GENERIC = re.compile(r"\b(?:such as|for example|for instance|e\.g\.?|including|like)\s*$", re.I)
_NEGATOR = re.compile(r"\b(?:not|never|no longer|without|rather than|instead of)\b|n[’']t\b", re.I)
# Between a negator and the section, words that give a reason ("we will not provide it, as
# section 12 applies") rather than deny reliance ("we are not relying on section 14").
_REASON = re.compile(r"\b(?:as|because|since|under|by virtue|due to|owing to|in accordance|"
                     r"therefore|so|which|and)\b", re.I)
# What was done on other requests ("in previous years we have applied section 31") is not this
# decision.
_OTHER_TIMES = re.compile(r"\b(?:previously|in (?:the )?past|in previous|last year|sometimes|often|"
                          r"usually|on other requests|in other cases)\b", re.I)
_DENIED_AFTER = re.compile(
    r"^(?:\s?" + _SUB + r")*[\s,]*(?:of the (?:Act|FOIA)\s*)?"
    r"(?:has|have|had|is|are|was|were|does|do|did|will|would|could|can)\s+(?:\w+\s+)?(?:not|never)\b"
    r"|^(?:\s?" + _SUB + r")*[\s,]*(?:doesn|isn|wasn|hasn|"
    r"haven|won|wouldn|didn)[’']t\b", re.I)


def _normalise(number: str, subs: str) -> str:
    subs = re.sub(r"\s+", "", subs).lower()
    return f"s.{int(number)}{subs}"


def _mentions(sentence: str) -> Iterable[tuple[str, int, int]]:
    """(normalised section, start, end) for each section the sentence names."""
    for match in _SECTION.finditer(sentence):
        if match.group(0)[0] in "Ss" and match.group(0)[1:2].isdigit() and _POSTCODE.match(
                sentence, match.end("first")):
            continue
        for part in _ONE.finditer(match.group("first") + match.group("more")):
            yield _normalise(part.group(1), part.group(2)), match.start(), match.end()


def _denied(sentence: str, start: int, end: int) -> bool:
    """Whether the sentence says the section is not relied on, or names it only as an example
    or as a section of another Act."""
    before, after = sentence[:start], sentence[end:]
    if _GENERIC.search(before) or _OTHER_ACT.match(after) and not _FOI_ACT.match(
            after.strip().removeprefix("of ").removeprefix("the ")):
        return True
    if _DENIED_AFTER.match(after) or _OTHER_TIMES.search(before):
        return True
    clause = re.split(r"[;:]|,\s*(?:but|however|although|though)\b|\bbut\b", before)[-1]
    negators = list(_NEGATOR.finditer(clause))
    if not negators:
        return False
    between = clause[negators[-1].end():]
    if re.match(r"\s*exempt\b", between, re.I):
        return True  # "the information is not exempt under section 30"
    return len(between.split()) <= 7 and not _REASON.search(between)


# --- Words that carry a meaning without a number ------------------------------------------------

def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


_COST_LIMIT = _any(r"\b(?:appropriate|cost|costs|fees?)\s+limit", r"\b18 hours\b", r"£\s?450\b",
                   r"\bcost of (?:compliance|complying)", r"\bcosts? limit")
_EXCEEDS = _any(r"\bexceed", r"\babove\b", r"\bbeyond\b", r"\bmore than\b", r"\bover (?:the|£|\d)",
                r"\boutside\b", r"\bin excess of\b", r"\bgo over\b", r"\bbreach")
# "cannot be answered within the cost limit" says it exceeds; "answered within the limit" not.
_NOT_WITHIN = _any(r"\b(?:cannot|can[’']t|not (?:be )?(?:able|possible)|unable|impossible)\b"
                   r"[^.]{0,60}\bwithin\b")
_WITHIN = _any(r"\bwithin\b", r"\bnot\s+(?:\w+\s+)?exceed", r"n[’']t\s+(?:\w+\s+)?exceed",
               r"\bbelow\b", r"\bunder the\b")
_VEXATIOUS = _any(r"\bvexatious\b", r"\brepeat(?:ed)? request")
_NOT_VEXATIOUS = _any(r"\bnot\s+(?:\w+\s+){0,3}(?:vexatious|repeat)", r"n[’']t\s+(?:\w+\s+){0,3}vexatious")
_ACCESSIBLE = _any(r"\breasonably accessible\b", r"\baccessible to you by other means\b")
_NCND = _any(r"\bneither\s+(?:to\s+)?confirms?\s+n?or\s+den(?:y|ies)",
             r"\b(?:cannot|can[’']t|can not|unable to|not)\s+(?:\w+\s+)?confirm\s+(?:n?or|and)\s+deny",
             r"\bexempt\w*\s+(?:\w+\s+){0,4}?(?:from\s+)?(?:the|its|our)\s+duty\s+to\s+confirm\s+or\s+deny",
             r"\b(?:excludes?|removes?|relieves?|disapplies)\s+(?:\w+\s+){0,3}?duty\s+to\s+confirm\s+or\s+deny",
             r"\bduty\b[^.]{0,40}?\bto\s+confirm\s+or\s+deny\s+(?:does|do|will)\s+not\s+(?:arise|apply)",
             r"\bNCND\b",
             r"\b(?:cannot|can[’']t|unable to|will not|won[’']t)\s+(?:say|state|reveal|tell you)\s+whether\b"
             r"[^.]{0,60}\bheld\b")
_NOT_HELD = _any(
    r"\b(?:does|do|did)\s+not\s+(?:\w+\s+)?(?:hold|record|collate|capture|retain|keep)\b",
    r"\b(?:doesn|don|didn)[’']t\s+(?:\w+\s+)?(?:hold|record|collate|capture|retain|keep)\b",
    r"\b(?:is|are|was|were)\s+not\s+(?:\w+\s+)?held\b", r"\bnot held\b",
    r"\bholds?\s+no\s+(?:\w+\s+)?(?:information|data|records?)\b",
    r"\bfound\s+no\s+(?:\w+\s+){0,2}(?:information|data|records?)\b",
    r"\bno\s+(?:\w+\s+)?(?:information|data|records?)\s+held\b",
    r"\b(?:have|has|hold|holds|keep|keeps)\s+no\s+(?:\w+\s+)?(?:record|records|information|data)\b",
    r"\bnot\s+(?:\w+\s+){0,2}(?:information|data)\s+(?:that\s+|which\s+)?(?:\w+\s+){1,3}"
    r"(?:records|holds|collects|keeps|retains)\b",
    r"\bno\s+(?:\w+\s+)?(?:information|data|records?)\s+(?:falling\s+within|within\s+the\s+scope)\b",
    r"\bno\s+(?:\w+\s+){0,2}(?:information|data|records?)\s+(?:\w+\s+){0,4}?(?:is|are|was|were|"
    r"has been|have been)\s+(?:\w+\s+)?(?:held|found|located|identified|recorded|retained)\b",
    r"\b(?:is|are)\s+not\s+(?:\w+\s+)?(?:information|data)\s+(?:that|which)\s+(?:\w+\s+){1,3}holds?\b")
# "is or is not held" (an NCND letter's caution) and "not held in a searchable form" say nothing
# about whether the information is held.
_HELD_OR_NOT = _any(r"\bis or is not\b", r"\bwhether or not\b",
                    r"\bnot held in (?:a|an|any|the)\s+(?:\w+\s+)?(?:form|format|way|manner)\b")
_CLARIFY = _any(r"\bclarif(?:y|ication)\b", r"\bwhat (?:exactly )?you mean by\b",
                r"\bmore (?:specific|detail|details|information) (?:about|on|regarding|as to)\b",
                r"\bidentify and locate\b", r"\b(?:tell|let) us (?:know )?(?:which|what|exactly)\b",
                r"\b(?:provide|give|send)\s+(?:us\s+)?(?:with\s+)?(?:further|more)\s+(?:details|information)\b",
                r"\byou (?:are|were) (?:referring to|asking about)\b",
                r"\b(?:whether|what|which|do) you mean\b", r"\bread in more than one way\b")
_ASKING = _any(r"\bplease\b", r"\b(?:could|can|would|will) you\b", r"\b(?:need|needs|require|requires|"
               r"seek|seeking|ask|asking)\b", r"\brequest(?:ing)? (?:that )?you\b", r"\bgrateful if\b",
               r"\bunable to\b", r"\bbefore we can\b", r"\bin order to\b")
_CLARIFIED = _any(r"\b(?:your|the)\s+(?:\w+\s+)?clarification\s+(?:of|dated|received|sent|on)\b",
                  r"\bthank you for (?:your |the )?clarif", r"\b(?:following|further to|as per|"
                  r"after|given|with) (?:your|the) (?:\w+\s+)?clarification\b",
                  r"\byou (?:have )?clarified\b", r"\bas clarified\b", r"\bclarified (?:request|that)\b")
_FEES = _any(r"\bfees? notice\b", r"\b(?:a|the)\s+(?:fee|charge)\s+of\s+£",
             r"\bpay(?:able|ment)?\b[^.]{0,40}£\s?\d",
             r"£\s?\d[\d,.]*\s+(?:\w+\s+){0,3}(?:is|will be)\s+(?:payable|due|charged)",
             r"\b(?:fee|charge)\s+(?:is|will be)\s+(?:payable|due)\b", r"\bcheque\b.{0,60}\bpayable\b")
_NO_FEE = _any(r"\bno (?:fee|charge)\b", r"\bfree of charge\b", r"\bwithout charge\b", r"\bnot be charged\b")
_EXTEND = _any(r"\bextend\w*\b", r"\bextension\b", r"\b(?:moved|put|pushed) back\b",
               r"\bnew (?:deadline|response date|due date)\b",
               r"\b(?:further|additional|more)\s+(?:\w+\s+){0,3}"
               r"(?:time|working days)\b", r"\b(?:reasonable|longer) (?:period|time)\b")
_PUBLIC_INTEREST = _any(r"\bpublic interest\b")
# Not "please find attached our response": the answer is in the attachment, perhaps a refusal.
_PROVIDED = _any(r"\bplease find (?:below|the information|the figures|the data)\b",
                 r"\b(?:attached|enclosed)\s+(?:\w+\s+)?(?:spreadsheet|table|figures|data|information)\b",
                 r"\b(?:information|figures|data|answers?)\b[^.]{0,40}\b(?:attached|enclosed)\b",
                 r"\b(?:table|figures|information|answers?|"
                 r"response)\s+(?:\w+\s+){0,2}below\b", r"\bas follows\b", r"\bwe (?:have|can)\s+"
                 r"(?:\w+\s+)?(?:provide[ds]?|disclose[ds]?|suppl(?:y|ied)|release[ds]?)\b",
                 r"\b(?:is|are|has been|have been) (?:provided|disclosed|released|supplied)\b",
                 r"\bwe can confirm that\b.*\bheld\b", r"\bhere (?:is|are) the\b", r"\bin the table\b",
                 r"\bthe (?:answer|figure|number|total) (?:is|was|were)\b")
_PART = _any(r"\b(?:some|part) of the information\b", r"\bin part\b", r"\bpartial(?:ly)?\b",
             r"\bremainder\b", r"\bthe rest of\b", r"\bredact", r"\bwithheld\b",
             r"\b(?:other|remaining) (?:questions?|parts?)\b")
_ACKNOWLEDGED = _any(r"\backnowledg\w*\b", r"\b(?:we have|has been) (?:now )?received your\b",
                     r"\bwill (?:respond|reply|be in touch|receive a (?:response|reply))\b",
                     r"\bwithin 20 working days\b", r"\bhas been logged\b")
# A sentence about the requester's rights (review, the Commissioner, s.50), not the decision.
_RIGHTS = _any(r"\binternal review\b", r"\bInformation Commissioner", r"\bcomplain", r"\bdissatisfied\b",
               r"\bunhappy\b", r"\bappeal\b", r"\b(?:section|s\.?)\s?50\b", r"\bICO\b",
               r"\bFirst[- ]tier Tribunal\b", r"\bright to (?:ask|request|apply)\b")
# A sentence that says what the authority would do, not what it did.
_CONDITIONAL = re.compile(r"^\s*(?:if|where|when|whenever|should|in (?:the )?(?:event|case))\b|"
                          r",\s*(?:if|where|unless)\b|\b(?:may|might|can|could|would)\s+(?:be\s+)?"
                          r"(?:ask|refuse|apply|rely|use)\b", re.I)


def _findings(text: str) -> list[Finding]:
    found: list[Finding] = []
    for paragraph in paragraphs(text):
        for sentence in sentences(paragraph):
            found.extend(_read_sentence(sentence, paragraph))
    return found


def _read_sentence(sentence: str, paragraph: str) -> list[Finding]:
    if _RIGHTS.search(sentence):
        return []
    found: list[Finding] = []

    def add(label: str, cited_as: str | None = None) -> None:
        found.append(Finding(label, cited_as or label, sentence, paragraph))

    conditional = bool(_CONDITIONAL.search(sentence))
    # "Where a request is vexatious, section 14 allows us to refuse it": the law, not a decision.
    general = bool(re.match(r"\s*(?:if|where|when|whenever|should)\b", sentence, re.I))
    for section, start, end in _mentions(sentence):
        number = int(re.match(r"s\.(\d+)", section).group(1))  # type: ignore[union-attr]
        if general or _denied(sentence, start, end):
            continue
        if number in CITABLE:
            add(ground_of(section), section)
        elif section.startswith("s.1(3)"):
            add(CLARIFICATION)
        elif section == "s.9" or section.startswith("s.9("):
            add(FEES)
        elif section.startswith("s.10(3)"):
            add(EXTENSION)
    if _COST_LIMIT.search(sentence) and not conditional and (
            _NOT_WITHIN.search(sentence) or _EXCEEDS.search(sentence) and not _WITHIN.search(sentence)):
        add("s.12")
    if _VEXATIOUS.search(sentence) and not _NOT_VEXATIOUS.search(sentence) and not conditional:
        add("s.14")
    if _ACCESSIBLE.search(sentence) and not _NEGATOR.search(sentence) and not conditional:
        add("s.21")
    if _NCND.search(sentence) and not conditional:
        add(NCND)
    if (_NOT_HELD.search(sentence) and not conditional and not _NCND.search(sentence)
            and not _HELD_OR_NOT.search(sentence)):
        add(NOT_HELD)
    if (_CLARIFY.search(sentence) and _ASKING.search(sentence) and not _CLARIFIED.search(sentence)
            and not re.match(r"\s*if\b", sentence, re.I)):
        add(CLARIFICATION)
    if _FEES.search(sentence) and not _NO_FEE.search(sentence) and not (
            _COST_LIMIT.search(sentence) and not re.search(r"\bfees? notice\b", sentence, re.I)):
        add(FEES)
    if _EXTEND.search(sentence) and _PUBLIC_INTEREST.search(sentence) and not conditional:
        add(EXTENSION)
    return found


def read_reply(text: str) -> Reading:
    """What the reply ``text`` (its body and its attachments' text) proposes for the timeline."""
    findings = _dedupe(_findings(text))
    labels = {f.label for f in findings}
    exemptions = _exemptions(findings)
    sentences_all = [s for p in paragraphs(text) for s in sentences(p)]

    def first_sentence(pattern: re.Pattern[str]) -> str | None:
        return next((s for s in sentences_all if pattern.search(s) and not _RIGHTS.search(s)), None)

    def because(label: str) -> str:
        finding = next(f for f in findings if f.label == label)
        return finding.sentence

    kind: EventKind | None
    outcome: ResponseOutcome | None = None
    if CLARIFICATION in labels:
        kind, reason = EventKind.clarification_requested, because(CLARIFICATION)
    elif FEES in labels:
        kind, reason = EventKind.fees_notice, because(FEES)
    elif EXTENSION in labels:
        kind, reason = EventKind.extension, because(EXTENSION)
    elif NCND in labels:
        kind, outcome, reason = EventKind.response, ResponseOutcome.ncnd, because(NCND)
    elif exemptions:
        ground = next(f for f in findings if f.label not in SIGNALS)
        partly = first_sentence(_PART) or (first_sentence(_PROVIDED) if "s.12" not in labels else None)
        outcome = ResponseOutcome.part_provided if partly else ResponseOutcome.refused
        kind, reason = EventKind.response, ground.sentence
    elif NOT_HELD in labels:
        partly = first_sentence(_PART) or first_sentence(_PROVIDED)
        outcome = ResponseOutcome.part_provided if partly else ResponseOutcome.not_held
        kind, reason = EventKind.response, because(NOT_HELD)
    elif (provided := first_sentence(_PROVIDED)) is not None:
        kind, outcome, reason = EventKind.response, ResponseOutcome.provided, provided
    elif (acknowledged := first_sentence(_ACKNOWLEDGED)) is not None:
        kind, reason = EventKind.acknowledged, acknowledged
    else:
        kind, reason = None, ""
    return Reading(findings=tuple(findings), kind=kind, outcome=outcome, exemptions=exemptions,
                   because=reason)


def _dedupe(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per label, the first (where the letter first says it)."""
    kept: dict[str, Finding] = {}
    for finding in findings:
        kept.setdefault(finding.label, finding)
    return list(kept.values())


def _exemptions(findings: Sequence[Finding]) -> tuple[str, ...]:
    """The grounds cited, each in its most specific form as written ('s.31(1)(a)' over 's.31')."""
    best: dict[str, str] = {}
    for finding in findings:
        if finding.label in SIGNALS:
            continue
        current = best.get(finding.label)
        if current is None or len(finding.cited_as) > len(current):
            best[finding.label] = finding.cited_as
    return tuple(best.values())


# --- The same paragraph from several authorities ------------------------------------------------

def shingles(paragraph: str, size: int = 3) -> frozenset[tuple[str, ...]]:
    """The paragraph's runs of ``size`` words, case, punctuation and numbers set aside, so two
    forces' copies of one template match though each fills in its own name and dates."""
    words = re.findall(r"[a-z]+|\d+", paragraph.lower())
    words = ["#" if w.isdigit() else w for w in words]
    if len(words) < size:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i:i + size]) for i in range(len(words) - size + 1))


def similarity(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """Jaccard similarity of two shingle sets (1.0: the same words in the same order)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class SharedParagraph:
    """Replies from several authorities that cite ``label`` in near-identical words."""

    label: str
    members: tuple[str, ...]  # whatever the caller keys its replies by (an authority's name)
    paragraph: str  # the first member's paragraph

    @property
    def summary(self) -> str:
        name = SIGNAL_NAMES.get(self.label, self.label)
        return f"{len(self.members)} forces sent the same {name} paragraph"


def group_shared(cited: Iterable[tuple[str, str, str]], threshold: float = 0.6,
                 ) -> list[SharedParagraph]:
    """Groups of near-identical paragraphs: ``cited`` is (member, label, paragraph) triples; two
    paragraphs of one label are joined when their shingles' Jaccard similarity reaches
    ``threshold``, and groups are the connected sets of two or more distinct members. Largest
    first. A shared template often means a coordinated answer, so they are worth seeing
    together."""
    by_label: dict[str, list[tuple[str, str, frozenset[tuple[str, ...]]]]] = {}
    for member, label, paragraph in cited:
        by_label.setdefault(label, []).append((member, paragraph, shingles(paragraph)))
    groups: list[SharedParagraph] = []
    for label, items in by_label.items():
        parent = list(range(len(items)))
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                if similarity(items[i][2], items[j][2]) >= threshold:
                    parent[_root(parent, i)] = _root(parent, j)
        clusters: dict[int, list[int]] = {}
        for i in range(len(items)):
            clusters.setdefault(_root(parent, i), []).append(i)
        for members in clusters.values():
            names = tuple(dict.fromkeys(items[i][0] for i in members))
            if len(names) >= 2:
                groups.append(SharedParagraph(label, names, items[members[0]][1]))
    return sorted(groups, key=lambda g: (-len(g.members), g.label, g.members))


def _root(parent: list[int], i: int) -> int:
    """The representative of ``i``'s set (union-find, halving the path as it goes)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i
