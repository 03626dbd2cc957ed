"""Housekeeping of the queue: recovering crashed workers' jobs and expiring overdue ones.

Any worker runs these (the runner every few seconds); like :mod:`app.marketplace.store`
they are guarded statements inside the caller's transaction, so two workers reaping at
once never recover a job twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from app.marketplace.store import PENDING, RUNNING, Counters, Transition
from app.marketplace.tables import jobs
from app.models.user.marketplace_job import JobStatus


def reap(conn: Connection, now: datetime, retry_delay: timedelta) -> list[Transition]:
    """Recover running jobs whose lease expired (their worker crashed or hung).

    A job asked to cancel becomes cancelled; one with retries left goes back to pending
    (counting a retry: a job that kills its worker must not loop forever); the others fail.
    """
    stale = conn.execute(
        select(
            jobs.c.id,
            jobs.c.attempts,
            jobs.c.retry_count,
            jobs.c.max_retries,
            jobs.c.cancel_requested,
            jobs.c.action_type_id,
            jobs.c.started_at,
        ).where(jobs.c.status == RUNNING, jobs.c.lease_until < now)
    ).all()
    counters = Counters()
    done: list[Transition] = []
    for job in stale:
        values: dict[str, Any] = {"lease_owner": None, "lease_until": None, "updated_at": now}
        if job.cancel_requested:
            status = JobStatus.CANCELLED
            values |= {"completed_at": now, "error_message": "Cancelled (its worker stopped)"}
        elif job.retry_count < job.max_retries:
            status = JobStatus.PENDING
            values |= {
                "run_at": now + retry_delay,
                "retry_count": jobs.c.retry_count + 1,
                "error_message": "The worker running this job stopped; it will be retried",
            }
        else:
            status = JobStatus.FAILED
            values |= {
                "completed_at": now,
                "error_message": "The worker running this job stopped and no retries are left",
            }
        duration_ms = None
        if job.started_at is not None and status is JobStatus.FAILED:
            duration_ms = max(0, int((now - job.started_at).total_seconds() * 1000))
            values["duration_ms"] = duration_ms
        row = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == job.id,
                jobs.c.status == RUNNING,
                jobs.c.attempts == job.attempts,
                jobs.c.lease_until < now,
            )
            .values(status=status.value, **values)
            .returning(jobs.c.id, jobs.c.marketplace, jobs.c.batch_id)
        ).first()
        if row is None:
            continue
        if status is JobStatus.FAILED:
            counters.stats.add(job.action_type_id, row.marketplace, now.date(), False, duration_ms)
        if status is not JobStatus.PENDING:
            counters.count(status.value, row.batch_id)
        done.append(Transition(row.id, row.marketplace, status.value, row.batch_id))
    counters.flush(conn, now)
    return done


def expire_overdue(
    conn: Connection, now: datetime, job_ids: Iterable[int] | None = None
) -> list[Transition]:
    """Expire pending or paused jobs whose ``expires_at`` passed (or the given ones)."""
    stmt = update(jobs).where(jobs.c.status.in_((PENDING, JobStatus.PAUSED.value)))
    if job_ids is None:
        stmt = stmt.where(jobs.c.expires_at.is_not(None), jobs.c.expires_at <= now)
    else:
        stmt = stmt.where(jobs.c.id.in_(list(job_ids)))
    rows = conn.execute(
        stmt.values(status=JobStatus.EXPIRED.value, completed_at=now, updated_at=now).returning(
            jobs.c.id, jobs.c.marketplace, jobs.c.batch_id
        )
    ).all()
    counters = Counters()
    for row in rows:
        counters.count(JobStatus.EXPIRED.value, row.batch_id)
    counters.flush(conn, now)
    return [Transition(r.id, r.marketplace, JobStatus.EXPIRED.value, r.batch_id) for r in rows]
