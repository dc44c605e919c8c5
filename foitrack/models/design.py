"""A campaign's data design: what is counted (measures), over when (periods), broken down how
(dimensions and their categories), and the named groups of categories and periods."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from foitrack.db import Base

category_group_member = Table(
    "category_group_member",
    Base.metadata,
    Column("group_id", ForeignKey("category_group.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
)

period_group_member = Table(
    "period_group_member",
    Base.metadata,
    Column("group_id", ForeignKey("period_group.id", ondelete="CASCADE"), primary_key=True),
    Column("period_id", ForeignKey("period.id", ondelete="CASCADE"), primary_key=True),
)


class Measure(Base):
    """Something counted, e.g. offences of sexual communication with a child recorded."""

    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(300))
    # What one unit is called in sentences: "offences", "instances".
    unit: Mapped[str] = mapped_column(String(80), default="")
    position: Mapped[int] = mapped_column(default=0)
    # Rates: per how many of the base (0: the measure is not rated), and which base
    # (foitrack.models.population: "population" or an imported one such as "children-0-17").
    rate_per: Mapped[int] = mapped_column(default=100000, server_default="100000")
    rate_base: Mapped[str] = mapped_column(String(50), default="population",
                                           server_default="population")
    # Other names replies use for it (extraction matches them); None: none. A JSON list.
    aliases: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    def __repr__(self) -> str:
        return f"<Measure {self.key}>"


class Period(Base):
    """A span of time figures are counted over: 2018/19 is 1 April 2018 to 31 March 2019."""

    __tablename__ = "period"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    start: Mapped[dt.date]
    end: Mapped[dt.date]
    position: Mapped[int] = mapped_column(default=0)
    aliases: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    def __repr__(self) -> str:
        return f"<Period {self.key} {self.start}..{self.end}>"


class PeriodGroup(Base):
    """Periods added together, e.g. "over the two years" or "the previous three years"."""

    __tablename__ = "period_group"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    periods: Mapped[list[Period]] = relationship(secondary=period_group_member,
                                                 order_by="Period.start")


class Dimension(Base):
    """A breakdown with ordered categories, one of which means "not recorded"."""

    __tablename__ = "dimension"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    # A case may be counted under several categories (one offence on Instagram and Snapchat), so
    # the categories may add up to more than the total and are never checked against it.
    overlapping: Mapped[bool] = mapped_column(default=False)
    # What the dimension's counts are called in words ("instances"); empty: the measure's unit.
    unit: Mapped[str] = mapped_column(String(80), default="")

    categories: Mapped[list[Category]] = relationship(
        back_populates="dimension", order_by="Category.position", cascade="all, delete-orphan"
    )

    @property
    def not_recorded(self) -> Category | None:
        return next((c for c in self.categories if c.is_not_recorded), None)

    def __repr__(self) -> str:
        return f"<Dimension {self.key}>"


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (UniqueConstraint("dimension_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    # The "not recorded / unknown" category: left out of shares "where recorded".
    is_not_recorded: Mapped[bool] = mapped_column(default=False)
    aliases: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)

    dimension: Mapped[Dimension] = relationship(back_populates="categories")

    def __repr__(self) -> str:
        return f"<Category {self.label}>"


class CategoryGroup(Base):
    """Categories added together, e.g. Facebook-owned apps = Facebook + Messenger + Instagram +
    WhatsApp."""

    __tablename__ = "category_group"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    dimension: Mapped[Dimension] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=category_group_member,
                                                      order_by="Category.position")
