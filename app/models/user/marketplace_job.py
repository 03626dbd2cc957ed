"""A unit of marketplace work in the durable queue (``marketplace_jobs``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import PUBLIC, TENANT, Base, UTCDateTime, utcnow
from app.marketplace.names import JobStatus
from app.models.user.marketplace_job_stats import MARKETPLACE_CHECK

__all__ = ["ACTIVE_STATUSES", "ACTIVE_WHERE", "TERMINAL_STATUSES", "JobStatus", "MarketplaceJob"]

ACTIVE_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.PAUSED)
TERMINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED)
_STATUS_CHECK = (
    "status IN ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'expired')"
)
ACTIVE_WHERE = text("status IN ('pending', 'running', 'paused')")


class MarketplaceJob(Base):
    """One requested action on one marketplace, for one product or the whole account.

    A running job is owned by a lease (``lease_owner`` until ``lease_until``); ``attempts``
    counts claims and, with the owner, guards every write a worker makes, so a worker whose
    lease expired can never overwrite the result of the worker that took the job over.
    """

    __tablename__ = "marketplace_jobs"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        CheckConstraint(MARKETPLACE_CHECK, name="marketplace"),
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        Index("ix_marketplace_jobs_claim", "status", "priority", "id"),
        Index("ix_marketplace_jobs_product", "product_id", "marketplace"),
        Index("ix_marketplace_jobs_batch", "batch_id"),
        #: the window's reads of what other processes changed (app.marketplace.change_feed)
        Index("ix_marketplace_jobs_updated", "updated_at"),
        Index(
            "uq_marketplace_jobs_active_idempotency_key",
            "idempotency_key",
            unique=True,
            sqlite_where=ACTIVE_WHERE,
            postgresql_where=ACTIVE_WHERE,
        ),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    action_type_id: Mapped[int] = mapped_column(
        ForeignKey(f"{PUBLIC}.marketplace_action_types.id"), nullable=False
    )
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{TENANT}.marketplace_batches.id", ondelete="SET NULL")
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{TENANT}.products.id", ondelete="SET NULL")
    )
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=JobStatus.PENDING)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    input_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_terminal(self) -> bool:
        """True once the job reached a final status."""
        return self.status in TERMINAL_STATUSES

    def __repr__(self) -> str:
        return f"<MarketplaceJob {self.id} {self.marketplace} {self.status}>"
