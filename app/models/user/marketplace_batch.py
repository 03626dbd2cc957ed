"""A group of jobs created by one request ("publish these 20 products on Etsy")."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PUBLIC, TENANT, Base, UTCDateTime, utcnow
from app.models.user.marketplace_job_stats import MARKETPLACE_CHECK


class BatchStatus(StrEnum):
    """Status of a batch, derived from its jobs' outcomes."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    PARTIALLY_FAILED = "partially_failed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MarketplaceBatch(Base):
    """Counters of a batch; each job's terminal change bumps them in its own transaction."""

    __tablename__ = "marketplace_batches"
    __table_args__ = (
        CheckConstraint(MARKETPLACE_CHECK, name="marketplace"),
        CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'partially_failed', 'failed',"
            " 'cancelled')",
            name="status",
        ),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    action_type_id: Mapped[int] = mapped_column(
        ForeignKey(f"{PUBLIC}.marketplace_action_types.id"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=BatchStatus.PENDING)
    total_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    completed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cancelled_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished_count(self) -> int:
        """Jobs of the batch that reached a final status."""
        return self.completed_count + self.failed_count + self.cancelled_count
