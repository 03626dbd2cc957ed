"""Recurring jobs and when they run next (``schedules``), kept across restarts.

One row per recurring job, e.g. ``order_sync:ebay``: the marketplace and action it
queues, every how many seconds, whether it is on, and when it runs next and last ran.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow
from app.models.user.marketplace_job_stats import MARKETPLACE_CHECK

#: No recurring job runs more often than once a minute.
MIN_INTERVAL_SECONDS = 60


class Schedule(Base):
    """A recurring job of one marketplace."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("name", name="uq_schedules_name"),
        CheckConstraint(MARKETPLACE_CHECK, name="marketplace"),
        CheckConstraint(f"interval_seconds >= {MIN_INTERVAL_SECONDS}", name="interval"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    action_code: Mapped[str] = mapped_column(String(50), nullable=False)
    interval_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_job_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Schedule {self.name} every {self.interval_seconds} s>"
