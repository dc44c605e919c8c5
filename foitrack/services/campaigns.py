"""Campaigns: creating them for a set or a hand-picked list, wording versions, repeats."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from foitrack.domain.clock import today_in_uk
from foitrack.domain.design import Design
from foitrack.domain.roll_forward import (
    DEFAULT_CADENCE_MONTHS,
    RolledDesign,
    WordingProposal,
    roll_design,
    roll_text,
)
from foitrack.errors import Conflict, Invalid, NotFound, Problem
from foitrack.models import (
    Authority,
    AuthoritySet,
    Campaign,
    CampaignMember,
    CampaignStatus,
    CampaignVersion,
    Figure,
    Request,
    Role,
    User,
)
from foitrack.models.authority import casefold
from foitrack.services import audit, letter_templates, membership, series
from foitrack.services.authorities import SLUG_PATTERN, get_set, slugify
from foitrack.services.data_design import apply_design, design_dict, parse_design
from foitrack.services.requests import campaign_requests

DEFAULT_SALUTATION = "Dear Freedom of Information Officer"


@dataclass(frozen=True)
class AuthorityView:
    """What a request template may say about the authority."""

    name: str
    short_name: str
    code: str


def template_context(authority: Authority | None) -> dict[str, Any]:
    if authority is None:
        view = AuthorityView("Example Police", "Example", "E23000000")
    else:
        view = AuthorityView(authority.name, authority.short_name, authority.code or "")
    return {"authority": view, "salutation": DEFAULT_SALUTATION}


PLACEHOLDERS = ("Placeholders are {{ authority.name }}, {{ authority.short_name }}, "
                "{{ authority.code }} and {{ salutation }}")


def render_text(text: str, authority: Authority | None) -> str:
    """The request as this authority will read it, written by foitrack.services.letter_templates
    (the bounded sandbox: the text is written by users). :raises Invalid: naming
    ``request_text`` on a broken, too long or too costly template."""
    try:
        return letter_templates.render(text, template_context(authority), "request_text")
    except Invalid as error:
        raise Invalid(f"{error.problems[0].message}. {PLACEHOLDERS}", field="request_text") from None


def shown_text(text: str, authority: Authority | None) -> str:
    """The request as a page shows it: a text that cannot be written out (one saved before
    the template limits) says why instead of failing the page."""
    try:
        return render_text(text, authority)
    except Invalid as error:
        return cannot_write_out(error)


def cannot_write_out(error: Invalid) -> str:
    """What a page shows in place of a letter its template cannot write out."""
    return f"(This wording cannot be written out: {error.problems[0].message})"


def header_problems(value: str, field: str) -> list[Problem]:
    """A line break or control character in text that goes into a mail header (the subject,
    or the title the default subject is made from) makes every send of it fail: refused when
    saved, not found when sending."""
    bad = sorted({repr(ch)[1:-1] for ch in value
                  if unicodedata.category(ch) in ("Cc", "Zl", "Zp")})
    if not bad:
        return []
    return [Problem(f"must be on one line: it goes into the email subject, which cannot hold "
                    f"{', '.join(bad)}", field)]


def campaign_snapshot(campaign: Campaign) -> dict[str, Any]:
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "status": campaign.status.value,
        "owner_id": campaign.owner_id,
        "target_set_id": campaign.target_set_id,
        "embargo_until": campaign.embargo_until,
        "send_on": campaign.send_on,
        "notes": campaign.notes,
        "repeat_of_id": campaign.repeat_of_id,
        "cadence_months": campaign.cadence_months,
    }


def get_campaign(session: Session, slug: str) -> Campaign:
    """:raises NotFound:"""
    campaign = session.scalar(
        select(Campaign).where(Campaign.slug == slug).options(selectinload(Campaign.versions))
    )
    if campaign is None:
        raise NotFound(f"no campaign {slug!r}")
    return campaign


def authority_kinds(session: Session, campaign: Campaign) -> set[str]:
    """The kinds of authority a campaign asked, in one query (not one per request)."""
    return set(session.scalars(
        select(Authority.kind).join(Request, Request.authority_id == Authority.id)
        .where(Request.campaign_id == campaign.id).distinct()
    ))


def request_counts(session: Session, campaign_ids: Sequence[int]) -> dict[int, int]:
    """How many requests each campaign has (one an authority: narrowed follow-ups are not
    counted), in one query."""
    if not campaign_ids:
        return {}
    return dict(session.execute(
        select(Request.campaign_id, func.count())
        .where(Request.campaign_id.in_(campaign_ids), Request.follow_up_number == 0)
        .group_by(Request.campaign_id)).all())


def figure_count(session: Session, campaign: Campaign, checked_only: bool = False) -> int:
    query = (select(func.count()).select_from(Figure).join(Request, Request.id == Figure.request_id)
             .where(Request.campaign_id == campaign.id))
    if checked_only:
        query = query.where(Figure.checked_by.is_not(None))
    return session.scalar(query) or 0


def list_campaigns(session: Session, visible: ColumnElement[bool] | None = None) -> list[Campaign]:
    """Campaigns, newest first; only those meeting ``visible`` (membership.visible_clause)."""
    query = select(Campaign).options(selectinload(Campaign.owner)).order_by(
        Campaign.created_at.desc(), Campaign.id.desc())
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))


def find_authorities_by_keys(session: Session, keys: Sequence[str], field: str) -> list[Authority]:
    """Authorities by slug or code, in the order given. :raises Invalid: naming unknown keys."""
    wanted = [key.strip() for key in keys if key.strip()]
    by_key = authorities_by_key(session, wanted)
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        raise Invalid(f"no authority with the slug or code {', '.join(map(repr, unknown))}", field)
    unique: dict[int, Authority] = {}
    for key in wanted:
        unique.setdefault(by_key[key].id, by_key[key])
    return list(unique.values())


def authorities_by_key(session: Session, keys: Sequence[str], field: str = "authorities", *,
                       names: bool = False) -> dict[str, Authority]:
    """The authority each key names, for the keys that name one: its slug or ONS code as
    given, or (with ``names``) its name, short name, slug or code in any case and accents.

    A slug or code as given wins over a name, so every link by slug or code keeps its meaning.

    :raises Invalid: for a key that names more than one authority, naming the key and them.
    """
    wanted = list(dict.fromkeys(keys))
    found = session.scalars(
        select(Authority).where(or_(Authority.slug.in_(wanted), Authority.code.in_(wanted)))
    ).all()
    exact = {a.slug: a for a in found} | {a.code: a for a in found if a.code}
    by_key = {key: exact[key] for key in wanted if key in exact}
    if names:
        by_key |= _authorities_by_name(session, [key for key in wanted if key not in exact],
                                       field)
    return by_key


def _authorities_by_name(session: Session, keys: Sequence[str], field: str) -> dict[str, Authority]:
    """The authority whose name, short name, slug or code each key is, compared case-folded."""
    folded = {key: casefold(key.strip()) for key in keys if key.strip()}
    if not folded:
        return {}
    # search_text holds the case-folded name, short name and code, one a line: a narrow first
    # cut in SQL; which field matched, and whether it matched whole, is settled below.
    terms = sorted(set(folded.values()))
    candidates = session.scalars(select(Authority).where(or_(
        Authority.slug.in_(terms),
        *(Authority.search_text.contains(term, autoescape=True) for term in terms),
    ))).all()
    spellings = {a.id: {casefold(part) for part in (a.name, a.short_name, a.slug, a.code) if part}
                 for a in candidates}
    by_key: dict[str, Authority] = {}
    for key, term in folded.items():
        matches = [a for a in candidates if term in spellings[a.id]]
        if len(matches) > 1:
            named = ", ".join(f"{a.name} ({a.slug})" for a in sorted(matches, key=lambda a: a.name))
            raise Invalid(f"{key.strip()!r} names more than one authority: {named}; "
                          "use a slug or code to choose one", field)
        if matches:
            by_key[key] = matches[0]
    return by_key


# Names a campaign may not take: its public pages are /data/<slug>/, and these are other
# pages' addresses there.
RESERVED_SLUGS = {"shared": "partners' private links (/data/shared/...)"}


def _check_details(
    session: Session, title: str, slug: str, embargo_until: dt.date | None
) -> list[Problem]:
    problems = []
    if not title:
        problems.append(Problem("is required", "title"))
    elif len(title) > 300:
        problems.append(Problem("is longer than 300 characters", "title"))
    else:
        problems += header_problems(title, "title")
    if not slug or not SLUG_PATTERN.match(slug) or len(slug) > 80:
        problems.append(
            Problem(f"{slug!r} must be lower-case letters, digits and single hyphens", "slug")
        )
    elif slug in RESERVED_SLUGS:
        problems.append(Problem(f"{slug!r} is kept for {RESERVED_SLUGS[slug]}; choose another",
                                "slug"))
    elif session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is not None:
        problems.append(Problem(f"{slug!r} is already the name of a campaign", "slug"))
    del embargo_until  # any date may be an embargo date
    return problems


def create_campaign(
    session: Session,
    actor: audit.Actor,
    *,
    title: str,
    request_text: str,
    slug: str | None = None,
    subject: str | None = None,
    set_slug: str | None = None,
    authority_keys: Sequence[str] = (),
    owner: User | None = None,
    embargo_until: dt.date | None = None,
    notes: str | None = None,
    repeat_of: Campaign | None = None,
) -> Campaign:
    """A draft campaign with one unsent request per target authority.

    Targets are a set, or authorities picked by slug or code. Inactive members of a set
    are left out.
    :raises Invalid: naming each bad field; nothing is created then.
    """
    title = (title or "").strip()
    slug = (slug or "").strip() or slugify(title)
    request_text = (request_text or "").strip()
    given_subject = (subject or "").strip()
    subject = given_subject or f"Freedom of Information request: {title}"
    problems = _check_details(session, title, slug, embargo_until)
    problems += header_problems(given_subject, "subject")
    problems += _wording_problems(request_text)
    if len(subject) > 300:
        problems.append(Problem("is longer than 300 characters", "subject"))
    target_set, targets = _targets(session, set_slug, authority_keys, problems)
    if not problems and not targets:
        problems.append(Problem("the chosen set has no active authorities", "set"))
    if problems:
        raise Invalid(problems)

    campaign = Campaign(
        slug=slug, title=title, status=CampaignStatus.draft, owner=owner, target_set=target_set,
        embargo_until=embargo_until, notes=(notes or "").strip() or None, repeat_of=repeat_of,
    )
    campaign.versions.append(
        CampaignVersion(number=1, subject=subject, request_text=request_text, created_by=actor.label)
    )
    session.add(campaign)
    session.flush()
    audit.record(session, actor, "campaign", campaign.id, "create", None,
                 {**campaign_snapshot(campaign), "request_text": request_text, "subject": subject})
    for authority in targets:
        _add_request(session, actor, campaign, authority)
    return campaign


def _wording_problems(request_text: str) -> list[Problem]:
    """What is wrong with a request's text: missing, or a template that cannot be written out."""
    if not request_text:
        return [Problem("is required", "request_text")]
    try:
        render_text(request_text, None)
    except Invalid as error:
        return list(error.problems)
    return []


def _targets(session: Session, set_slug: str | None, authority_keys: Sequence[str],
             problems: list[Problem]) -> tuple[AuthoritySet | None, list[Authority]]:
    """The set and the authorities a new campaign asks: a set's active members, or the
    authorities named by slug or code; problems are added to ``problems``."""
    if set_slug and authority_keys:
        problems.append(Problem("choose a set or a list of authorities, not both", "authorities"))
    elif set_slug:
        try:
            target_set = get_set(session, set_slug)
        except NotFound as error:
            problems.append(Problem(str(error), "set"))
        else:
            return target_set, [member for member in target_set.members if member.active]
    elif authority_keys:
        try:
            return None, find_authorities_by_keys(session, authority_keys, "authorities")
        except Invalid as error:
            problems += error.problems
    else:
        problems.append(Problem("choose a set or at least one authority", "authorities"))
    return None, []


def _add_request(session: Session, actor: audit.Actor, campaign: Campaign, authority: Authority) -> Request:
    request = Request(campaign=campaign, authority=authority)
    session.add(request)
    session.flush()
    audit.record(session, actor, "request", request.id, "create", None,
                 {"campaign": campaign.slug, "authority": authority.slug})
    return request


@dataclass(frozen=True)
class RepeatProposal:
    """What "Repeat next year" proposes: the design and wording moved on by the cadence, and a
    title and short name with their years moved too (the researcher accepts or edits them)."""

    months: int
    rolled: RolledDesign | None  # None: the campaign has no data design
    wording: WordingProposal
    title: str
    slug: str  # "" when the source's has no year to move (a new one is made from the title)
    subject: str | None  # None: the default subject, made from the new title

    @property
    def unmoved(self) -> tuple[str, ...]:
        return (self.rolled.unmoved if self.rolled else ()) + self.wording.unmoved


def _stored_design(campaign: Campaign) -> Design:
    problems: list[Problem] = []
    design = parse_design(design_dict(campaign), problems)
    if problems:  # a stored design always parses; say so loudly if it does not
        raise Invalid(problems)
    return design


def propose_repeat(source: Campaign) -> RepeatProposal:
    """The repeat of ``source`` moved on by its cadence (``cadence_months``, default 12)."""
    months = source.cadence_months or DEFAULT_CADENCE_MONTHS
    design = _stored_design(source) if source.measures else None
    periods = design.periods if design else []
    wording = source.current_version
    slug = roll_text(source.slug, periods, months).text
    default_subject = f"Freedom of Information request: {source.title}"
    return RepeatProposal(
        months=months, rolled=roll_design(design, months) if design else None,
        wording=roll_text(wording.request_text, periods, months),
        title=roll_text(source.title, periods, months).text,
        slug=slug if slug != source.slug else "",
        # A subject of one's own is moved on like the wording; the default follows the title.
        subject=(None if wording.subject == default_subject
                 else roll_text(wording.subject, periods, months).text),
    )


def repeat_campaign(
    session: Session, actor: audit.Actor, source: Campaign, *, title: str, slug: str | None = None,
    owner: User | None = None, today: dt.date | None = None, request_text: str | None = None,
    send_on: dt.date | None = None,
) -> Campaign:
    """Next year's campaign: the same authorities and data design, with the periods moved on by
    the source's cadence (propose_repeat), linked to ``source`` and in its series, so next
    year's figures line up with this year's. ``owner`` (default: the source's) owns it.

    The wording is ``request_text`` as the researcher accepted or edited it; None takes the
    proposed one (last time's with its years moved on). ``send_on``: the day the request is
    emailed by itself (today or later).

    A repeat of a campaign under embargo on ``today`` (default: today in the UK) holds the same
    unpublished design and wording, so it keeps the source's embargo rules: the embargo, the
    source's owner as its owner (only they or an admin may lift the embargo, as on the source)
    and the source's members, ``owner`` among them. Otherwise a member who repeated it became
    the repeat's owner and could lift the embargo there (issue 23, point 4).
    :raises Invalid: naming each bad field; nothing is created then.
    """
    today = today if today is not None else today_in_uk()
    proposal = propose_repeat(source)
    problems: list[Problem] = []
    if send_on is not None and send_on < today:
        problems.append(Problem(f"{send_on.isoformat()} has passed: choose today or a later day",
                                "send_on"))
    embargoed = membership.under_embargo(source, today)
    asked_by = owner
    if embargoed or owner is None:
        owner = source.owner
    keys = [request.authority.slug for request in campaign_requests(session, source)]
    try:
        campaign = create_campaign(
            session, actor, title=title, slug=slug,
            request_text=proposal.wording.text if request_text is None else request_text,
            subject=proposal.subject, authority_keys=keys, owner=owner, repeat_of=source,
        )
    except Invalid as error:
        raise Invalid([*error.problems, *problems]) from None
    if problems:
        raise Invalid(problems)
    campaign.target_set = source.target_set
    campaign.cadence_months = proposal.months
    if embargoed:
        campaign.embargo_until = source.embargo_until
        people = [m.user for m in membership.members(session, source)]
        # Whoever asked for the repeat sees it, as they see the source (admins see everything).
        if asked_by is not None and asked_by.role is not Role.admin:
            people.append(asked_by)
        let_in = sorted({user.id: user for user in people if user.id != campaign.owner_id}.values(),
                        key=lambda user: user.email)
        for user in let_in:
            session.add(CampaignMember(campaign_id=campaign.id, user_id=user.id, added_by=actor.label))
        session.flush()
        audit.record(session, actor, "campaign", campaign.id, "update", {"embargo_until": None},
                     {"embargo_until": campaign.embargo_until,
                      "members": [user.email for user in let_in]})
    if send_on is not None:
        update_campaign(session, actor, campaign, {"send_on": send_on})
    if proposal.rolled is not None:
        apply_design(session, actor, campaign, proposal.rolled.design)
    series.attach_repeat(session, source, campaign, actor)
    return campaign


def update_campaign(
    session: Session, actor: audit.Actor, campaign: Campaign, changes: dict[str, Any],
    by: Any = None,
) -> list[str]:
    """Change title, status, embargo, the day it is sent by itself (send_on), how far apart its
    repeats are (cadence_months), notes or owner.
    Returns the fields changed.

    ``by`` is who asks (a user, or membership.OPERATOR): only the owner or an admin may set,
    move or lift the embargo (:raises Invalid: naming ``embargo_until`` otherwise).
    """
    before = campaign_snapshot(campaign)
    problems: list[Problem] = []
    if "title" in changes:
        title = (changes["title"] or "").strip()
        if not title:
            problems.append(Problem("is required", "title"))
        elif len(title) > 300:
            problems.append(Problem("is longer than 300 characters", "title"))
        elif broken := header_problems(title, "title"):
            problems += broken
        else:
            campaign.title = title
    if "status" in changes:
        try:
            campaign.status = CampaignStatus(changes["status"])
        except ValueError:
            problems.append(Problem(f"{changes['status']!r} is not draft, active or closed", "status"))
    if "embargo_until" in changes:
        membership.check_embargo_change(by, campaign, changes["embargo_until"])
        campaign.embargo_until = changes["embargo_until"]
    if "notes" in changes:
        campaign.notes = (changes["notes"] or "").strip() or None
    if "send_on" in changes:
        # The scheduler emails the request on this day (foitrack.services.jobs.due_campaigns).
        campaign.send_on = changes["send_on"]
    if "cadence_months" in changes:
        cadence = changes["cadence_months"]
        if isinstance(cadence, bool) or not isinstance(cadence, int) or not 1 <= cadence <= 120:
            problems.append(Problem("must be a whole number of months from 1 to 120 (12: "
                                    "yearly)", "cadence_months"))
        else:
            campaign.cadence_months = cadence
    if "owner" in changes:
        campaign.owner = changes["owner"]
    if problems:
        raise Invalid(problems)
    session.flush()
    old, new = audit.changed_fields(before, campaign_snapshot(campaign))
    if new:
        audit.record(session, actor, "campaign", campaign.id, "update", old, new)
    return sorted(new)


def sent_with(session: Session, version: CampaignVersion) -> int:
    return session.scalar(
        select(func.count()).select_from(Request).where(Request.version_id == version.id)
    ) or 0


def update_wording(
    session: Session, actor: audit.Actor, campaign: Campaign, *, subject: str, request_text: str
) -> CampaignVersion:
    """Change the request's wording. Once any request went out with the current wording,
    the change makes a new version, so each request keeps the words it was sent with.

    :raises Invalid: naming the field.
    """
    request_text = (request_text or "").strip()
    subject = (subject or "").strip()
    problems = _wording_problems(request_text)
    if not subject:
        problems.append(Problem("is required", "subject"))
    elif len(subject) > 300:
        problems.append(Problem("is longer than 300 characters", "subject"))
    else:
        problems += header_problems(subject, "subject")
    if problems:
        raise Invalid(problems)
    current = campaign.current_version
    if (current.request_text, current.subject) == (request_text, subject):
        return current
    before = {"version": current.number, "subject": current.subject, "request_text": current.request_text}
    if sent_with(session, current):
        version = CampaignVersion(
            campaign=campaign, number=current.number + 1, subject=subject,
            request_text=request_text, created_by=actor.label,
        )
        session.add(version)
        action = "new_version"
    else:
        version = current
        version.subject, version.request_text = subject, request_text
        action = "edit_version"
    session.flush()
    audit.record(session, actor, "campaign", campaign.id, action, before,
                 {"version": version.number, "subject": subject, "request_text": request_text})
    return version


def add_authorities(
    session: Session, actor: audit.Actor, campaign: Campaign, keys: Sequence[str]
) -> list[Request]:
    """Add requests for more authorities (by slug or code); ones already in are skipped."""
    authorities = find_authorities_by_keys(session, keys, "authorities")
    present = {request.authority_id for request in campaign_requests(session, campaign)}
    added = [
        _add_request(session, actor, campaign, authority)
        for authority in authorities
        if authority.id not in present
    ]
    return added


def remove_request(session: Session, actor: audit.Actor, request: Request) -> None:
    """Take an authority out of a campaign, only while nothing has happened to its request.

    :raises Conflict: once the request has events (withdraw it instead).
    """
    if request.events:
        raise Conflict(
            f"the request to {request.authority.name} has a timeline; record it as withdrawn instead"
        )
    audit.record(session, actor, "request", request.id, "delete",
                 {"campaign": request.campaign.slug, "authority": request.authority.slug}, None)
    session.delete(request)
    session.flush()
