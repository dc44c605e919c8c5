"""The methods note: how a campaign's figures were gathered, written for the authorities a
release covers. It names who did not reply, who refused and who answered only after an
internal review; counts authorities (not cells) for what the figures cannot say; says how many
figures a second person checked; and lists the consistency findings still open."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import ClockSettings
from foitrack.domain.figure_values import ValueKind
from foitrack.domain.phrasing import (
    join_authority_names,
    join_names,
    long_date,
    number,
    ordinal,
    set_in_text,
)
from foitrack.domain.timeline import (
    CommissionerOutcome,
    EventKind,
    RequestState,
    ResponseOutcome,
    ReviewOutcome,
    Status,
    TimelineEvent,
    ordered,
)
from foitrack.models import Authority, Campaign, Category, Figure, Population, Request
from foitrack.services import checks
from foitrack.services.follow_ups import NarrowedAnswer, narrowed_answers
from foitrack.services.population import MIN_RANKED_POPULATION
from foitrack.services.requests import counts_for_authority, state_of

POLICE_KINDS = frozenset({"territorial-police", "special-police"})
# Words that stay lower case in a list of names ("Hampshire and Isle of Wight"); any other
# lower-case word marks a set title ("Territorial police forces of England and Wales").
_NAME_CONNECTORS = frozenset({"and", "of", "the", "upon", "on", "in", "&"})
_GAVE_INFORMATION = (ResponseOutcome.provided.value, ResponseOutcome.part_provided.value)
MAX_FINDINGS_LISTED = 10  # more than this, and the note counts them by check instead


def bodies_word(campaign: Campaign) -> str:
    """"forces" for a campaign to police forces only, else "authorities"."""
    return _bodies({r.authority.kind for r in campaign.requests})


def _bodies(kinds: Collection[str]) -> str:
    return "forces" if set(kinds) <= POLICE_KINDS else "authorities"


def _counted(count: int, bodies: str) -> str:
    """'1 force', '3 forces', '1 authority'."""
    if count == 1:
        return f"1 {'force' if bodies == 'forces' else 'authority'}"
    return f"{number(count)} {bodies}"


def _lower_first(text: str) -> str:
    """'Communication method' -> 'communication method', as release lines write labels in
    running text; 'UK police forces' keeps its capitals."""
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[1:2].isupper() else text


def authority_names(authorities: Iterable[Authority]) -> str:
    """Official names joined for print, alphabetically, a shared last word said once:
    'Kent, Surrey and Sussex Police'."""
    return join_authority_names(sorted(a.name for a in authorities))


def _shared_last_word(authorities: Sequence[Authority]) -> str | None:
    last = {a.name.split()[-1] for a in authorities if len(a.name.split()) > 1}
    return last.pop() if len(last) == 1 and all(len(a.name.split()) > 1 for a in authorities) \
        else None


def _is_set_title(subject: str) -> bool:
    words = [w.strip(",.;:()") for w in subject.split()]
    return any(w and w.islower() and w not in _NAME_CONNECTORS for w in words)


def subject_words(subject: str, authorities: Sequence[Authority]) -> str:
    """A release's subject as running text: a set title 'Territorial police forces of England
    and Wales' reads 'the 43 territorial police forces of England and Wales'; a list of short
    names 'Surrey, Sussex and Kent' reads 'Surrey, Sussex and Kent Police'."""
    text = " ".join(subject.split()).removesuffix(" together")
    if text[:1].islower():
        return text  # already running text: "the 43 territorial police forces of ..."
    if _is_set_title(text):
        return set_in_text(text, len(authorities))
    suffix = _shared_last_word(authorities) if authorities else None
    if suffix and not text.endswith(suffix) and all(a.short_name in text for a in authorities):
        return f"{text} {suffix}"
    return text


@dataclass
class _FigureFacts:
    """What the figures say about each request, counted from one grouped query."""

    total: int = 0
    checked: int = 0
    usable: set[int] = field(default_factory=set)
    by_kind: dict[ValueKind, set[int]] = field(default_factory=lambda: defaultdict(set))
    exemptions: set[str] = field(default_factory=set)
    # dimension id (None: totals) -> request id -> the kinds of value given
    kinds: dict[int | None, dict[int, set[ValueKind]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    caveats: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


def _figure_facts(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None,
                  checked_only: bool) -> _FigureFacts:
    """Two queries whatever the number of figures: counts by request, dimension and kind, then
    the distinct caveats."""
    checked = case((Figure.checked_by.is_(None), 0), else_=1)
    filters = [Request.campaign_id == campaign.id]
    if authority_ids is not None:
        filters.append(Request.authority_id.in_(list(authority_ids)))
    grouped = (
        select(Figure.request_id, Category.dimension_id, Figure.kind, Figure.exemption,
               checked.label("checked"), func.count().label("n"))
        .select_from(Figure)
        .join(Request, Request.id == Figure.request_id)
        .outerjoin(Category, Category.id == Figure.category_id)
        .where(*filters)
        .group_by(Figure.request_id, Category.dimension_id, Figure.kind, Figure.exemption, checked)
    )
    facts = _FigureFacts()
    for request_id, dimension_id, kind, exemption, is_checked, count in session.execute(grouped):
        kind = ValueKind(kind)
        facts.total += count
        facts.checked += count if is_checked else 0
        if checked_only and not is_checked:
            continue
        if kind in (ValueKind.exact, ValueKind.suppressed):
            facts.usable.add(request_id)
        facts.by_kind[kind].add(request_id)
        if kind is ValueKind.withheld and exemption:
            facts.exemptions.add(exemption)
        facts.kinds[dimension_id][request_id].add(kind)
    caveats = (select(Figure.request_id, Figure.caveat).distinct()
               .join(Request, Request.id == Figure.request_id)
               .where(*filters, Figure.caveat.is_not(None), Figure.caveat != ""))
    if checked_only:
        caveats = caveats.where(Figure.checked_by.is_not(None))
    for request_id, caveat in session.execute(caveats):
        if caveat is not None:  # the query leaves none out; the type does not know
            facts.caveats[request_id].add(caveat)
    return facts


def _findings_line(session: Session, campaign: Campaign, authority_ids: Sequence[int] | None,
                   today: dt.date, settings: ClockSettings | None, bodies: str) -> str:
    """The consistency findings no one has explained: each one while there are few, else how
    many of each check and from how many authorities."""
    found = checks.findings(session, campaign, authority_ids, today=today, settings=settings)
    still_open = [f for f in found if f.explanation is None]
    explained = len(found) - len(still_open)
    aside = f" ({number(explained)} more {'was' if explained == 1 else 'were'} explained)" \
        if explained else ""
    if not still_open:
        return f"No consistency findings are open{aside}."
    count = len(still_open)
    head = (f"{number(count)} consistency {'finding is' if count == 1 else 'findings are'} "
            f"open{aside}: ")
    if count <= MAX_FINDINGS_LISTED:
        return head + "; ".join(f"{f.authority_name}, {f.cell}: {f.detail}"
                                for f in still_open) + "."
    by_check: dict[str, list[str]] = defaultdict(list)
    for finding in still_open:
        by_check[finding.check].append(finding.authority_name)
    return head + "; ".join(
        f"{checks.CHECKS.get(check, check)} ({number(len(names))}, from "
        f"{_counted(len(set(names)), bodies)})" for check, names in by_check.items()) + "."


def methods_note(session: Session, campaign: Campaign, today: dt.date,
                 settings: ClockSettings | None = None, *,
                 authority_ids: Sequence[int] | None = None, checked_only: bool = False,
                 subject: str | None = None) -> list[str]:
    """How the figures a release covers were gathered, one sentence a line.

    ``authority_ids`` limits it to those authorities' requests and figures (None: all the
    campaign asked); ``subject`` names them for the wording (a set title or a list of names);
    with ``checked_only`` it counts only the figures a second person checked, and says so.
    A fixed number of queries, however many requests and figures.
    """
    # One request per authority: its first, or the narrowed follow-up its figures come from.
    everyone = list(session.scalars(
        select(Request).where(Request.campaign_id == campaign.id, counts_for_authority())
        .options(selectinload(Request.events), selectinload(Request.authority))
    ))
    bodies = _bodies({r.authority.kind for r in everyone})
    wanted = set(authority_ids) if authority_ids is not None else None
    requests = sorted((r for r in everyone if wanted is None or r.authority_id in wanted),
                      key=lambda r: r.authority.name)
    authority_of = {r.id: r.authority for r in requests}
    lines: list[str] = []

    covered = [r.authority for r in requests]
    if subject and subject.strip():
        words = subject_words(subject, covered)
    elif len(requests) < len(everyone):
        words = authority_names(covered) if len(covered) <= 10 else _counted(len(covered), bodies)
    else:
        words = ""
    if words:
        lines.append(f"This note covers {words}"
                     + (f"; the campaign asked {_counted(len(everyone), bodies)} in all."
                        if len(requests) < len(everyone) else "."))

    facts = _figure_facts(session, campaign, authority_ids, checked_only)
    if checked_only:
        lines += _checking(facts, checked_only)  # first: it changes every number that follows
    lines += _replies(requests, bodies, today, settings)
    lines += _narrowed([a for a in narrowed_answers(session, campaign, today)
                        if wanted is None or a.authority_id in wanted], bodies)
    if not checked_only:
        lines += _checking(facts, checked_only)
    lines.append(f"{number(len(facts.usable))} of the {_counted(len(requests), bodies)} "
                 "gave usable figures.")
    lines += _what_figures_cannot_say(campaign, facts, bodies)
    lines.append("Shares 'where recorded' leave out the cases in which the authority did not "
                 "record the detail.")
    lines += _rates(session, campaign, requests, bodies)
    lines.append(_findings_line(session, campaign, authority_ids, today, settings, bodies))
    for request_id in sorted(facts.caveats, key=lambda i: authority_of[i].name):
        lines.append(f"{authority_of[request_id].name}: " + " ".join(sorted(facts.caveats[request_id])))
    return lines


def _rates(session: Session, campaign: Campaign, requests: Sequence[Request],
           bodies: str) -> list[str]:
    """How the rates are worked out and whose population they use, when a measure is rated
    and some authority asked has an estimate of its base (issue 18). One query."""
    rated = [m for m in campaign.measures if m.rate_per]
    if not rated or not requests:
        return []
    bases = {m.rate_base or "population" for m in rated}
    held = session.execute(
        select(func.count(func.distinct(Population.authority_id)),
               func.max(case((Population.origin == "registry", 1), else_=0)))
        .where(Population.authority_id.in_([r.authority_id for r in requests]),
               Population.base.in_(bases))).one()
    if not held[0]:
        return []
    pers = sorted({(m.rate_per, m.rate_base or "population") for m in rated})
    words = " or ".join(f"per {number(per)} {'people' if base == 'population' else base}"
                        for per, base in pers)
    line = (f"Rates {words} divide the figures of the {bodies} that gave a usable one by those "
            f"{bodies}' own population, never the whole population over a partial sum: the "
            "mid-year (30 June) estimate falling inside each period, or the nearest year with "
            f"one, which the lines then name. {bodies.capitalize()} with fewer than "
            f"{number(MIN_RANKED_POPULATION)} residents are given a rate but not ranked by it. "
            f"Population estimates are held for {held[0]} of the {_counted(len(requests), bodies)}"
            + ("; those shipped with foitrack are the ONS mid-year estimates for police force "
               "areas (Open Government Licence v3.0)." if held[1] else "."))
    return [line]


def _replies(requests: Sequence[Request], bodies: str, today: dt.date,
             settings: ClockSettings | None) -> list[str]:
    """When the requests went, who replied and in time, and who did not, refused or answered
    only after an internal review."""
    states = [(r, state_of(r, today, settings)) for r in requests]
    sent = sorted(s.sent_on for _, s in states if s.sent_on)
    if not sent:
        return [f"{_counted(len(requests), bodies).capitalize()} "
                f"{'was' if len(requests) == 1 else 'were'} asked; no sending dates are recorded."]
    return [*_sending(states, sent, bodies), *_answers(states, today, settings),
            *_refusals_and_reviews(states)]


_States = Sequence[tuple[Request, RequestState]]


def _narrowed(answers: Sequence[NarrowedAnswer], bodies: str) -> list[str]:
    """Who answered a narrowed follow-up (services.follow_ups), after refusing the original on
    cost (s.12) or otherwise, and the narrowed wording: a reader must know their figures
    answer a smaller question than the others'."""
    if not answers:
        return []
    on_cost = [a for a in answers if any(e.startswith("s.12") for e in a.first_exemptions)]
    other = [a for a in answers if a not in on_cost]
    lines = []
    for group, why in ((on_cost, "after refusing the original on cost (s.12)"),
                       (other, "after their first reply")):
        if group:
            lines.append(f"{_counted(len(group), bodies).capitalize()} answered a narrowed "
                         f"question {why}: {join_names([a.authority_name for a in group])}.")
    wordings: dict[str, list[str]] = defaultdict(list)
    for answer in answers:
        wordings[" ".join(answer.question.split())].append(answer.authority_name)
    for wording, asked in wordings.items():
        whose = "" if len(wordings) == 1 else f" to {join_names(asked)}"
        lines.append(f"The narrowed question{whose}: \u201c{wording}\u201d")
    return lines


def _sending(states: _States, sent: list[dt.date], bodies: str) -> list[str]:
    """When the requests went, and to whom none went."""
    span = f"on {long_date(sent[0])}" if sent[0] == sent[-1] else \
        f"between {long_date(sent[0])} and {long_date(sent[-1])}"
    lines = [f"Freedom of Information requests were sent to {_counted(len(sent), bodies)} {span}."]
    unsent = [r.authority for r, s in states if not s.sent_on]
    if unsent:
        lines.append(f"The request was not sent to {authority_names(unsent)}.")
    return lines


def _answers(states: _States, today: dt.date, settings: ClockSettings | None) -> list[str]:
    """Who replied, who by the due date, who had not, and whose request was withdrawn."""
    answered = [s for _, s in states if s.first_response_on]
    on_time = [s for s in answered if s.answered_on_time]
    extended = sum(1 for s in on_time if s.response_deadline and s.response_deadline.count
                   and s.response_deadline.due != s.response_deadline.count.due)
    days = (settings or ClockSettings()).response_days
    lines = [f"{number(len(answered))} replied, {number(len(on_time))} of them by the due date "
             f"(the {ordinal(days)} working day after receipt"
             + (f", or a public interest extension for {extended}" if extended else "")
             + ")."]
    silent = [r.authority for r, s in states
              if s.sent_on and not s.first_response_on and s.status is not Status.withdrawn]
    if silent:
        lines.append(f"Had not replied by {long_date(today)}: {authority_names(silent)}.")
    withdrawn = [r.authority for r, s in states if s.status is Status.withdrawn]
    if withdrawn:
        lines.append(f"Withdrawn: the requests to {authority_names(withdrawn)}.")
    return lines


_REFUSAL_HEADINGS = {
    ResponseOutcome.refused: "Refused",
    ResponseOutcome.part_provided: "Refused in part",
    ResponseOutcome.ncnd: "Neither confirmed nor denied holding the information",
    ResponseOutcome.not_held: "Said the information is not held",
}


def _refusals_and_reviews(states: _States) -> list[str]:
    """Who refused (and under which sections), and who gave figures only, or more, after an
    internal review."""
    refusals: dict[str, list[str]] = defaultdict(list)
    only_after_review, more_after_review = [], []
    overturned: dict[EventKind, list[Authority]] = defaultdict(list)
    for request, state in states:
        events = ordered(request.timeline())
        # The outcome that stands (the latest decision's), not the first response's.
        if state.outcome in _REFUSAL_HEADINGS:
            refusals[state.outcome].append(_refusal(
                request.authority.name, state.exemptions, events,
                needs_section=state.outcome != ResponseOutcome.not_held,
                changed=_changed_by(state)))
        after_review = _gave_after_review(events)
        if after_review == "only":
            only_after_review.append(request.authority)
        elif after_review == "more":
            more_after_review.append(request.authority)
        elif state.outcome == ResponseOutcome.provided and state.outcome_from in _OVERTURNED_BY:
            overturned[state.outcome_from].append(request.authority)
    lines = [f"{heading}: {join_names(refusals[outcome])}."
             for outcome, heading in _REFUSAL_HEADINGS.items() if refusals[outcome]]
    if only_after_review:
        lines.append(f"Gave figures only after an internal review: "
                     f"{authority_names(only_after_review)}.")
    if more_after_review:
        lines.append(f"Gave further figures after an internal review: "
                     f"{authority_names(more_after_review)}.")
    lines += [f"{heading}: {authority_names(overturned[kind])}."
              for kind, heading in _OVERTURNED_BY.items() if overturned[kind]]
    return lines


# A refusal wholly overturned, with no response giving the figures recorded since (a decision
# notice only when it ordered steps: without them the outcome is left as it was).
_OVERTURNED_BY = {
    EventKind.internal_review_outcome: "Refusal overturned on internal review",
    EventKind.ico_decision: "Refusal overturned by the Commissioner's decision notice",
}


def _changed_by(state: RequestState) -> str | None:
    """'refused at first, partly overturned on internal review': how the outcome that stands
    came from a review or decision notice (FOIA s.45 Code, s.50; FOISA s.21, s.47), if it did."""
    if not state.decisions or state.first_outcome is None:
        return None
    last = state.decisions[-1]
    if (last.kind is EventKind.ico_decision and not last.steps_ordered
            and last.outcome != CommissionerOutcome.not_upheld):
        # FOIA s.50(4): a decision notice ordering no steps discloses nothing (often a complaint
        # upheld for a late reply alone), so the outcome stands as it was; the decision is
        # still told, in its own words, and never as the refusal overturned.
        decided = CommissionerOutcome(last.outcome).label.lower()
        return f"Commissioner's decision: {decided} (no steps recorded)"
    if last.kind is EventKind.response or state.outcome == state.first_outcome:
        return None
    first = ResponseOutcome(state.first_outcome).label.lower()
    if last.kind is EventKind.internal_review_outcome:
        review = ReviewOutcome(last.outcome).label.lower().removeprefix("original decision ")
        return f"{first} at first, {review} on internal review"
    decided = CommissionerOutcome(last.outcome).label.lower()
    return f"{first} at first, {decided} by the Commissioner"


def _gave_after_review(events: Sequence[TimelineEvent]) -> str | None:
    """'only' if information came only after the first internal review was asked for, 'more'
    if some came before it too, None if none came after (or there was no review)."""
    review = next((e for e in events if e.kind is EventKind.internal_review_requested), None)
    if review is None:
        return None
    responses = [e for e in events if e.kind is EventKind.response]
    after = [e for e in responses if e.sort_key() > review.sort_key()]
    before = [e for e in responses if e.sort_key() < review.sort_key()]
    if not any(e.outcome in _GAVE_INFORMATION for e in after):
        return None
    return "more" if any(e.outcome in _GAVE_INFORMATION for e in before) else "only"


def _refusal(name: str, exemptions: Sequence[str], events: Sequence[TimelineEvent], *,
             needs_section: bool = True, changed: str | None = None) -> str:
    """'Thames Valley Police (s.12)', with 'upheld on internal review' when it was, or how a
    review or decision notice ``changed`` it."""
    notes = [", ".join(exemptions)] if exemptions else (
        ["no section cited"] if needs_section else [])
    if changed:
        notes.append(changed)
    last_response = max((e.sort_key() for e in events if e.kind is EventKind.response),
                        default=None)
    if any(e.kind is EventKind.internal_review_outcome and e.outcome == ReviewOutcome.upheld
           and last_response is not None and e.sort_key() > last_response for e in events):
        notes.append("upheld on internal review")
    return f"{name} ({'; '.join(notes)})" if notes else name


def _checking(facts: _FigureFacts, checked_only: bool) -> list[str]:
    total, checked = facts.total, facts.checked
    if not total:
        return []
    if checked_only:
        if not checked:
            return [f"This release counts only figures a second person checked, and none of the "
                    f"{number(total)} {'figure has' if total == 1 else 'figures has'} been checked."]
        return [f"This release counts only the figures a second person checked: "
                f"{number(checked)} of the {number(total)}."]
    if total == 1:
        return [f"The figure was {'' if checked else 'not '}checked by a second person."]
    if checked == total:
        return [f"All {number(total)} figures were checked by a second person."]
    if not checked:
        return [f"None of the {number(total)} figures has been checked by a second person."]
    return [f"{number(checked)} of the {number(total)} figures "
            f"{'was' if checked == 1 else 'were'} checked by a second person."]


def _what_figures_cannot_say(campaign: Campaign, facts: _FigureFacts, bodies: str) -> list[str]:
    """Authorities, not cells: '5 forces do not record the communication method'."""
    lines = []
    whole = set()  # (dimension, request) where every figure is "not recorded"
    for dimension in campaign.dimensions:
        none_recorded = [request_id for request_id, kinds in facts.kinds[dimension.id].items()
                         if kinds == {ValueKind.not_recorded}]
        whole |= {(dimension.id, request_id) for request_id in none_recorded}
        if none_recorded:
            count = len(none_recorded)
            lines.append(f"{_counted(count, bodies)} {'does' if count == 1 else 'do'} not record "
                         f"the {_lower_first(dimension.label)}.")
    partly = {request_id for dimension_id, by_request in facts.kinds.items()
              for request_id, kinds in by_request.items()
              if ValueKind.not_recorded in kinds and (dimension_id, request_id) not in whole}
    if partly:
        lines.append(f"Some {'other ' if whole else ''}figures were not recorded by "
                     f"{_counted(len(partly), bodies)}.")
    suppressed = facts.by_kind.get(ValueKind.suppressed)
    if suppressed:
        lines.append(f"Figures were suppressed (small numbers) by {_counted(len(suppressed), bodies)}"
                     ": totals leave them out, and the bounds give the range they could add.")
    withheld = facts.by_kind.get(ValueKind.withheld)
    if withheld:
        sections = f" ({', '.join(sorted(facts.exemptions))})" if facts.exemptions else ""
        lines.append(f"Figures were withheld by {_counted(len(withheld), bodies)}{sections}.")
    for kind in (ValueKind.not_held, ValueKind.not_provided):
        if facts.by_kind.get(kind):
            lines.append(f"Figures were {kind.label} by {_counted(len(facts.by_kind[kind]), bodies)}.")
    return lines
