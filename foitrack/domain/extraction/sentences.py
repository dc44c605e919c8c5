"""Figures written in sentences: "we recorded 122 offences in 2018/19, compared with 73 in
2017/18; 30 of them involved Instagram".

A sentence is cut into clauses (at semicolons and at "and", "while", "compared with"...). A
clause gives a figure when it holds exactly one number that is not a date, year, percentage,
section or reference, one period (its own, or the one before it in the sentence), a measure
(named in the sentence) and at most one category (none: the total). Anything else is skipped
with the reason: a sentence can say many things, and a wrong figure is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from foitrack.domain.extraction.cells import Location, Passage
from foitrack.domain.extraction.matching import _MONTH, Key, Labels, Value, period_dates, read_value

SENTENCE_CONFIDENCE = 0.8

_PERIOD_TEXT = re.compile(
    rf"\b(?:(?:from|between)\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}\s*(?:-|–|to|and)\s*"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+\d{{4}}"
    rf"|\b{_MONTH}\s+\d{{4}}\s*(?:-|–|to)\s*{_MONTH}\s+\d{{4}}"
    rf"|\b{_MONTH}\s*(?:-|–|to)\s*{_MONTH}\s+\d{{4}}"
    rf"|\b(?:the\s+)?(?:year|12 months|twelve months)\s+(?:ending|ended|to)\s+"
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+\d{{4}}"
    r"|\b(?:FY\s*|financial year\s+)?\d{4}\s*[/\-–]\s*\d{2}(?:\d{2})?\b"
    r"|\b(?:19|20)\d{2}\b", re.IGNORECASE)
_DATE_TEXT = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+\d{{4}})?\b"
                        rf"|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?:\b(?:fewer|less) than\s+)?(?<![\w.,/£$-])\d{1,3}(?:,\d{3})+(?![\w.,/%])"
                     r"|(?:\b(?:fewer|less) than\s+)?(?<![\w.,/£$-])\d+(?![\w,/%]|\.\d)",
                     re.IGNORECASE)
_NOT_A_COUNT_BEFORE = re.compile(r"\b(?:section|sections|s\.|s|ss\.|page|table|paragraph|ref|"
                                 r"reference|no\.|number|annex|appendix|question|part|item|"
                                 r"step|year|aged|age|under|over|between|from|top)\s*$",
                                 re.IGNORECASE)
_NOT_A_COUNT_AFTER = re.compile(r"^\s*(?:%|per ?cent|percent|years?|days?|hours?|weeks?|months?|"
                                r"working|pounds|forces|police|and over|or over|\()", re.IGNORECASE)
_CLAUSES = re.compile(r";|,?\s+(?:and|while|whereas|but|compared (?:with|to)|against|of which)\s+"
                      r"|,\s+(?=of (?:these|those|them|which)\b)", re.IGNORECASE)
_RESTATED = re.compile(r"\bof (?:the|these|those|all)\s+$", re.IGNORECASE)
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def find_periods(text: str, labels: Labels) -> list[tuple[int, int, str]]:
    """Periods written in running text (by date spellings and by label): (start, end, key)."""
    found: list[tuple[int, int, str]] = []
    for m in _PERIOD_TEXT.finditer(text):
        dates = period_dates(m.group())
        key = labels.period_dates.get(dates) if dates else None
        if key is not None:
            found.append((m.start(), m.end(), key))
    for start, end, mention in labels.mentions(text):
        if mention.period and not any(s < end and start < e for s, e, _ in found):
            found.append((start, end, mention.period))
    return sorted(found)


def _mentions(text: str, labels: Labels, periods: list[tuple[int, int, str]]) -> list[Key]:
    return [key for start, end, key in labels.mentions(text)
            if key.period is None and not any(s < end and start < e for s, e, _ in periods)]


def caption_key(text: str, labels: Labels) -> Key:
    """What a table's title says of all its cells: each part only if named exactly once."""
    if not text:
        return Key()
    periods = {key for _, _, key in find_periods(text, labels)}
    mentions = _mentions(text, labels, find_periods(text, labels))
    measures = {k.measure for k in mentions if k.measure}
    categories = {(k.dimension, k.category) for k in mentions if k.category}
    key = Key()
    if len(periods) == 1:
        key = replace(key, period=next(iter(periods)))
    if len(measures) == 1:
        key = replace(key, measure=next(iter(measures)))
    if len(categories) == 1:
        dimension, category = next(iter(categories))
        key = replace(key, dimension=dimension, category=category)
    return key


@dataclass(frozen=True)
class SentenceFigure:
    key: Key
    value: Value
    location: Location
    sentence: str


def _numbers(clause: str, periods: list[tuple[int, int, str]]) -> list[re.Match[str]]:
    dates = [(m.start(), m.end()) for m in _DATE_TEXT.finditer(clause)]
    spans = [(s, e) for s, e, _ in periods] + dates
    numbers = []
    for m in _NUMBER.finditer(clause):
        if any(s < m.end() and m.start() < e for s, e in spans):
            continue
        if _NOT_A_COUNT_BEFORE.search(clause[:m.start()]) or _NOT_A_COUNT_AFTER.match(clause[m.end():]):
            continue
        if _RESTATED.search(clause[:m.start()]):
            continue  # "of the 122 offences, 30 involved Instagram": the 122 is said elsewhere
        if re.fullmatch(r"(?:19|20)\d\d", m.group()):
            continue  # a year
        numbers.append(m)
    return numbers


def _clauses(sentence: str, labels: Labels) -> list[str]:
    """The sentence's clauses; a comma before a category also starts one ("Instagram was used
    in 8 offences, Snapchat in 7")."""
    starts = [start for start, _, key in labels.mentions(sentence) if key.category
              and re.search(r",\s*$", sentence[:start])]
    pieces, last = [], 0
    for start in starts:
        pieces.append(sentence[last:start])
        last = start
    pieces.append(sentence[last:])
    return [clause for piece in pieces for clause in _CLAUSES.split(piece)]


def read_passage(passage: Passage, labels: Labels, threshold: int | None
                 ) -> tuple[list[SentenceFigure], list[tuple[Location, str, str]]]:
    """The figures a paragraph states, and the clauses with a number it could not read."""
    found: list[SentenceFigure] = []
    skipped: list[tuple[Location, str, str]] = []
    design = labels.design
    for s_index, sentence in enumerate(_SENTENCES.split(passage.text), start=1):
        location = Location(f"{passage.location.text}, sentence {s_index}", passage.location.page,
                            passage.location.bbox)
        sentence_periods = find_periods(sentence, labels)
        sentence_measures = {k.measure for k in _mentions(sentence, labels, sentence_periods)
                             if k.measure}
        if len(sentence_measures) > 1:
            continue
        period: str | None = None
        measure = next(iter(sentence_measures), None)
        for clause in _clauses(sentence, labels):
            periods = find_periods(clause, labels)
            own = {key for _, _, key in periods}
            if len(own) == 1:
                period = next(iter(own))
            numbers = _numbers(clause, periods)
            if not numbers:
                continue
            if len(own) > 1:
                skipped.append((location, clause, "the clause names several periods"))
                continue
            if len(numbers) > 1:
                skipped.append((location, clause, "the clause holds several numbers"))
                continue
            mentions = _mentions(clause, labels, periods)
            categories = {(k.dimension, k.category) for k in mentions if k.category}
            if measure is None:
                if sentence_measures or len(design.measures) != 1:
                    skipped.append((location, clause, "no measure named"))
                continue  # a number in a sentence about something else
            if period is None:
                skipped.append((location, clause, "no period named"))
                continue
            if len(categories) > 1:
                skipped.append((location, clause, "the clause names several categories"))
                continue
            written = numbers[0].group()
            less = re.match(r"(?:fewer|less) than\s+(.*)", written, re.IGNORECASE)
            value = read_value(f"<{less.group(1)}" if less else written, threshold)
            if not isinstance(value, Value):
                skipped.append((location, clause, value))
                continue
            value = replace(value, written=written)
            key = Key(measure=measure, period=period)
            if categories:
                dimension, category = next(iter(categories))
                key = replace(key, dimension=dimension, category=category)
            else:
                key = replace(key, total=True)
            found.append(SentenceFigure(key, value, location, sentence))
    return found, skipped
