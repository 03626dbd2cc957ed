"""Finished sub-steps of a multi-step job, so that a retry resumes at the failed step."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow


class TaskStatus(StrEnum):
    """Status of one step of a job."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class MarketplaceTask(Base):
    """One named step of a job (``upload_photos``, ``create_offer``, ``publish_offer``).

    A completed step keeps its ``result_data``; when the job is retried the handler gets
    that result back instead of repeating the step (no second listing, no second upload).
    """

    __tablename__ = "marketplace_tasks"
    __table_args__ = (
        UniqueConstraint("job_id", "name", name="uq_marketplace_tasks_job_id_name"),
        CheckConstraint("status IN ('running', 'completed', 'failed')", name="status"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        ForeignKey(f"{TENANT}.marketplace_jobs.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=TaskStatus.RUNNING)
    result_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
