"""Daily per-marketplace, per-action job outcome counters (``marketplace_job_stats``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PUBLIC, TENANT, Base, UTCDateTime, utcnow
from app.marketplace.names import MARKETPLACE_VALUES, MarketplaceEnum

__all__ = ["MARKETPLACE_CHECK", "MARKETPLACE_VALUES", "MarketplaceEnum", "MarketplaceJobStats"]
MARKETPLACE_CHECK = "marketplace IN ('vinted', 'ebay', 'etsy')"


class MarketplaceJobStats(Base):
    """Outcome counters of one action on one marketplace on one UTC day.

    Rows are only ever changed by one atomic upsert issued in the same transaction as a
    job's terminal status change, so concurrent workers never lose an increment.
    ``avg_duration_ms`` is derived from ``total_duration_ms / total_jobs`` in that upsert.
    """

    __tablename__ = "marketplace_job_stats"
    __table_args__ = (
        UniqueConstraint(
            "action_type_id",
            "marketplace",
            "date",
            name="uq_marketplace_job_stats_action_marketplace_date",
        ),
        CheckConstraint(MARKETPLACE_CHECK, name="marketplace"),
        Index("ix_marketplace_job_stats_marketplace_created_at", "marketplace", "created_at"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_type_id: Mapped[int] = mapped_column(
        ForeignKey(f"{PUBLIC}.marketplace_action_types.id"), nullable=False
    )
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    total_jobs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    success_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    avg_duration_ms: Mapped[float | None] = mapped_column(Float)
    total_duration_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def success_rate(self) -> float | None:
        """Share of successful jobs, or None when nothing finished that day."""
        if not self.total_jobs:
            return None
        return self.success_count / self.total_jobs
