"""Realistic synthetic data at a chosen size: authorities, campaigns with a data design,
requests with timelines, and figures with some suppressed and not-recorded values.

Rows go in with bulk inserts (SQLAlchemy Core executemany), as a team's years of data would
sit in the database; the app's own services are exercised by the benchmarks, not here.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from foitrack.db import utcnow
from foitrack.models import (
    Authority,
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Category,
    Dimension,
    Event,
    Figure,
    Measure,
    Period,
    Population,
    Request,
)
from foitrack.services.audit import Actor
from foitrack.services.registry import load_registry

CATEGORIES = ["Instagram", "Facebook", "Messenger", "WhatsApp", "Snapchat", "Other", "Not recorded"]
CELLS_PER_PERIOD = 1 + len(CATEGORIES)  # the total and each category


@dataclass(frozen=True)
class Shape:
    figures: int
    campaigns: int
    authorities: int
    periods: int


def _platform() -> Dimension:
    """The communication-method dimension every generated campaign breaks its figures down by."""
    dimension = Dimension(key="platform", label="Communication method")
    dimension.categories.extend(Category(label=label, position=i,
                                         is_not_recorded=label == "Not recorded")
                                for i, label in enumerate(CATEGORIES))
    return dimension


def shape_for(figures: int) -> Shape:
    """Campaigns x authorities x periods x cells close to ``figures``, like ten years of work."""
    authorities = 43 if figures <= 10_000 else 400
    periods = 3 if figures <= 10_000 else 6
    campaigns = max(1, round(figures / (authorities * periods * CELLS_PER_PERIOD)))
    return Shape(campaigns * authorities * periods * CELLS_PER_PERIOD, campaigns, authorities,
                 periods)


def generate(session: Session, figures: int, seed: int = 1, first: int = 0) -> Shape:
    """Add about ``figures`` figures, in campaigns named bench-<first>, bench-<first + 1>..."""
    rng = random.Random(seed)
    shape = shape_for(figures)
    load_registry(session, Actor.system("benchmark"))
    session.flush()
    now = utcnow()
    existing = session.scalars(select(Authority).order_by(Authority.id)).all()
    extra = shape.authorities - len(existing)
    if extra > 0:
        session.execute(insert(Authority), [{
            "slug": f"council-{n}", "code": f"E0{n:07d}", "name": f"Synthetic Council {n}",
            "short_name": f"Council {n}", "former_names": [], "kind": "council",
            "country": "England", "region": None, "foi_email": f"foi{n}@council.example",
            "website": None, "active": True, "note": None, "source": "import",
            "search_text": f"synthetic council {n}", "locally_edited": [], "created_at": now,
            "updated_at": now} for n in range(extra)])
        # Each synthetic council gets a resident population, so the aggregate's rates (issue
        # 18) are computed for every authority, as they are for the shipped police forces.
        councils = session.scalars(select(Authority.id).where(
            Authority.slug.like("council-%"))).all()
        session.execute(insert(Population), [{
            "authority_id": council, "base": "population", "year": year,
            "population": rng.randint(80_000, 3_000_000), "source": "benchmark",
            "origin": "import", "created_at": now}
            for council in councils for year in range(2010, 2026)])
    authority_ids = list(session.scalars(select(Authority.id).order_by(Authority.id)))[
        :shape.authorities]
    for c in range(shape.campaigns):
        year = 2015 + c % 10
        campaign = Campaign(slug=f"bench-{first + c}", title=f"Benchmark campaign {first + c}",
                            status=CampaignStatus.active)
        campaign.versions.append(CampaignVersion(number=1, subject="FOI", request_text="Dear x",
                                                 created_by="benchmark"))
        measure = Measure(key="offences", label="Offences recorded", unit="offences")
        campaign.measures.append(measure)
        periods = [Period(key=f"p{p}", label=f"Period {p}", start=dt.date(year - p, 4, 1),
                          end=dt.date(year - p + 1, 3, 31), position=p)
                   for p in range(shape.periods)]
        campaign.periods.extend(periods)
        dimension = _platform()
        campaign.dimensions.append(dimension)
        session.add(campaign)
        session.flush()
        session.execute(insert(Request), [{"campaign_id": campaign.id, "authority_id": a,
                                           "created_at": now} for a in authority_ids])
        requests = list(session.scalars(select(Request.id).where(
            Request.campaign_id == campaign.id).order_by(Request.id)))
        sent = dt.date(year, 5, 1)
        events = []
        for request_id in requests:
            events.append({"request_id": request_id, "kind": "sent", "occurred_on": sent,
                           "exemptions": [], "created_at": now, "created_by": "benchmark"})
            if rng.random() < 0.9:
                events.append({"request_id": request_id, "kind": "response",
                               "occurred_on": sent + dt.timedelta(days=rng.randint(10, 50)),
                               "outcome": "provided", "exemptions": [], "created_at": now,
                               "created_by": "benchmark"})
        session.execute(insert(Event), events)
        rows = []
        categories = [None, *dimension.categories]
        for request_id in requests:
            for period in periods:
                for category in categories:
                    roll = rng.random()
                    row = {"request_id": request_id, "measure_id": measure.id,
                           "period_id": period.id, "category_id": category.id if category else None,
                           "kind": "exact", "value": rng.randint(0, 400), "lower": None,
                           "upper": None, "entered_by": "benchmark", "entered_at": now,
                           "updated_at": now, "exemptions": None}
                    if roll < 0.05:
                        row.update(kind="suppressed", value=None, lower=0, upper=4)
                    elif roll < 0.08:
                        row.update(kind="not_recorded", value=None)
                    row.pop("exemptions")
                    rows.append(row)
        for start in range(0, len(rows), 50_000):
            session.execute(insert(Figure), rows[start:start + 50_000])
        session.flush()
    return shape


IMPORT_CAMPAIGN = "bench-import"


def import_shape(rows: int) -> Shape:
    """A campaign whose every cell, one figure each, makes a tidy CSV of about ``rows`` rows:
    authorities x monthly periods x (a total and each category)."""
    authorities = 43 if rows <= 10_000 else 400
    periods = max(1, round(rows / (authorities * CELLS_PER_PERIOD)))
    return Shape(authorities * periods * CELLS_PER_PERIOD, 1, authorities, periods)


def import_campaign(session: Session, rows: int) -> Shape:
    """The campaign the import benchmark fills (requests and design, no figures), made once."""
    shape = import_shape(rows)
    if session.scalar(select(Campaign.id).where(Campaign.slug == IMPORT_CAMPAIGN)) is not None:
        return shape
    load_registry(session, Actor.system("benchmark"))
    session.flush()
    authority_ids = list(session.scalars(select(Authority.id).order_by(Authority.id)))[
        :shape.authorities]
    if len(authority_ids) < shape.authorities:
        raise ValueError(f"{shape.authorities} authorities needed, {len(authority_ids)} found")
    campaign = Campaign(slug=IMPORT_CAMPAIGN, title="Benchmark import",
                        status=CampaignStatus.active)
    campaign.versions.append(CampaignVersion(number=1, subject="FOI", request_text="Dear x",
                                             created_by="benchmark"))
    campaign.measures.append(Measure(key="offences", label="Offences recorded", unit="offences"))
    first = dt.date(2000, 1, 1)
    for p in range(shape.periods):
        start = dt.date(first.year + (p // 12), p % 12 + 1, 1)
        end = (dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
               - dt.timedelta(days=1))
        campaign.periods.append(Period(key=f"m{p}", label=f"Month {p}", start=start, end=end,
                                       position=p))
    campaign.dimensions.append(_platform())
    session.add(campaign)
    session.flush()
    now = utcnow()
    session.execute(insert(Request), [{"campaign_id": campaign.id, "authority_id": a,
                                       "created_at": now} for a in authority_ids])
    session.flush()
    return shape


def write_import_csv(session: Session, out: TextIO, seed: int = 1) -> int:
    """The import campaign's tidy CSV (every cell once; 5% suppressed, 3% not recorded);
    returns the number of rows."""
    rng = random.Random(seed)
    campaign = session.scalars(select(Campaign).where(Campaign.slug == IMPORT_CAMPAIGN)).one()
    codes = list(session.scalars(
        select(func.coalesce(Authority.code, Authority.slug))
        .join(Request, Request.authority_id == Authority.id)
        .where(Request.campaign_id == campaign.id).order_by(Authority.id)))
    writer = csv.writer(out)
    writer.writerow(("authority", "measure", "period", "dimension", "category", "value",
                     "caveat", "source"))
    cells = [("", ""), *(("platform", label) for label in CATEGORIES)]
    rows = 0
    for code in codes:
        for period in campaign.periods:
            batch = []
            for dimension, category in cells:
                roll = rng.random()
                value = ("<5" if roll < 0.05 else "not recorded" if roll < 0.08
                         else str(rng.randint(0, 400)))
                batch.append((code, "offences", period.key, dimension, category, value, "",
                              "table 1"))
            writer.writerows(batch)
            rows += len(batch)
    return rows
