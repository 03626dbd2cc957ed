"""Every status change of the queue, as guarded SQL statements.

Each function runs inside a transaction the caller owns (``with engine.begin()``) and
never across a network call. A transition only happens when the row still is in the
expected status, and a worker's writes also require its lease (``lease_owner`` plus the
claim number ``attempts``): a cancelled job can never be completed or re-queued, and a
worker whose lease expired cannot overwrite the result of the worker that took over.
The statements compile for SQLite and PostgreSQL alike (``FOR UPDATE SKIP LOCKED`` is
dropped by SQLite, whose ``BEGIN IMMEDIATE`` already serialises writers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, or_, select, update

from app.marketplace.stats import StatsBatch, upsert
from app.marketplace.tables import batches, jobs
from app.models.user.marketplace_job import JobStatus

RUNNING = JobStatus.RUNNING.value
PENDING = JobStatus.PENDING.value


@dataclass(frozen=True)
class Lease:
    """Proof of ownership of a running job: the worker and its claim number."""

    job_id: int
    owner: str
    attempts: int


@dataclass(frozen=True)
class Transition:
    """A job that changed status: what the caller needs for events and counters."""

    job_id: int
    marketplace: str
    status: str
    batch_id: int | None


@dataclass
class Counters:
    """Stats and batch counter changes that ride along with terminal transitions."""

    stats: StatsBatch = field(default_factory=StatsBatch)
    batches: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))

    def count(self, status: str, batch_id: int | None, sign: int = 1) -> None:
        """Count a job entering (or, with ``sign=-1``, leaving) a final status in its batch."""
        if batch_id is None:
            return
        slot = {
            JobStatus.COMPLETED: 0,
            JobStatus.FAILED: 1,
            JobStatus.EXPIRED: 1,
            JobStatus.CANCELLED: 2,
        }
        self.batches[batch_id][slot[JobStatus(status)]] += sign

    def flush(self, conn: Connection, now: datetime) -> None:
        """Write the collected stats deltas and batch counters."""
        if self.stats.deltas:
            upsert(conn, self.stats, now)
        for batch_id, (done, failed, cancelled) in sorted(self.batches.items()):
            bump_batch(conn, batch_id, now, completed=done, failed=failed, cancelled=cancelled)


# -- claiming ---------------------------------------------------------------------------
CLAIM_COLUMNS = (
    jobs.c.id,
    jobs.c.marketplace,
    jobs.c.action_type_id,
    jobs.c.product_id,
    jobs.c.batch_id,
    jobs.c.priority,
    jobs.c.input_data,
    jobs.c.retry_count,
    jobs.c.max_retries,
    jobs.c.attempts,
    jobs.c.started_at,
    jobs.c.created_at,
    jobs.c.idempotency_key,
)


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int = 1,
    marketplace: str | None = None,
    exclude_action_type_ids: Iterable[int] = (),
) -> Sequence[Any]:
    """Atomically take up to ``limit`` of the best pending jobs and lease them to ``owner``.

    Best means priority 1 first, then oldest first, among jobs whose ``run_at`` has come
    and that have not expired. A product's jobs on one marketplace run one at a time and
    in the order they were created (publish before update), whatever their priorities:
    only the oldest pending one is eligible, and none while another runs.
    """
    if limit < 1:
        return []
    cand = jobs.alias("cand")
    other = jobs.alias("other")
    same_product = and_(
        other.c.product_id == cand.c.product_id, other.c.marketplace == cand.c.marketplace
    )
    running_same = exists().where(same_product, other.c.status == RUNNING)
    earlier_same = exists().where(same_product, other.c.status == PENDING, other.c.id < cand.c.id)
    pick = select(cand.c.id).where(
        cand.c.status == PENDING,
        cand.c.run_at <= now,
        or_(cand.c.expires_at.is_(None), cand.c.expires_at > now),
        or_(cand.c.product_id.is_(None), and_(~running_same, ~earlier_same)),
    )
    if marketplace is not None:
        pick = pick.where(cand.c.marketplace == marketplace)
    excluded = list(exclude_action_type_ids)
    if excluded:
        pick = pick.where(cand.c.action_type_id.not_in(excluded))
    pick = pick.order_by(cand.c.priority, cand.c.id).limit(limit).with_for_update(skip_locked=True)
    stmt = (
        update(jobs)
        .where(jobs.c.id.in_(pick), jobs.c.status == PENDING)
        .values(
            status=RUNNING,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_seconds),
            attempts=jobs.c.attempts + 1,
            started_at=func.coalesce(jobs.c.started_at, now),
            updated_at=now,
        )
        .returning(*CLAIM_COLUMNS)
    )
    rows = conn.execute(stmt).all()
    batch_ids = {row.batch_id for row in rows if row.batch_id is not None}
    if batch_ids:
        conn.execute(
            update(batches)
            .where(batches.c.id.in_(batch_ids), batches.c.status == "pending")
            .values(status="running")
        )
    return sorted(rows, key=lambda r: (r.priority, r.id))


# -- leases -----------------------------------------------------------------------------
def extend_leases(
    conn: Connection, leases: Sequence[Lease], now: datetime, lease_seconds: float
) -> tuple[set[int], set[int]]:
    """Extend the leases still held; returns (job ids lost, job ids asked to cancel)."""
    if not leases:
        return set(), set()
    by_id = {lease.job_id: lease for lease in leases}
    owners = {lease.owner for lease in leases}
    rows = conn.execute(
        update(jobs)
        .where(
            jobs.c.id.in_(by_id),
            jobs.c.status == RUNNING,
            jobs.c.lease_owner.in_(owners),
        )
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .returning(jobs.c.id, jobs.c.lease_owner, jobs.c.attempts, jobs.c.cancel_requested)
    ).all()
    held = {
        row.id
        for row in rows
        if row.lease_owner == by_id[row.id].owner and row.attempts == by_id[row.id].attempts
    }
    cancel = {row.id for row in rows if row.id in held and row.cancel_requested}
    return set(by_id) - held, cancel


def cancel_requested(conn: Connection, job_ids: Iterable[int]) -> set[int]:
    """Which of ``job_ids`` were asked to cancel (a cheap read between lease renewals)."""
    ids = list(job_ids)
    if not ids:
        return set()
    rows = conn.execute(
        select(jobs.c.id).where(jobs.c.id.in_(ids), jobs.c.cancel_requested.is_(True))
    ).all()
    return {row.id for row in rows}


# -- a worker's outcome -----------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """What a worker wants written for a job it holds the lease of."""

    lease: Lease
    status: JobStatus
    action_type_id: int
    result_data: dict[str, Any] | None = None
    error_message: str | None = None
    duration_ms: int | None = None
    run_at: datetime | None = None
    consumed_retry: bool = False


def apply_outcomes(
    conn: Connection, outcomes: Sequence[Outcome], now: datetime
) -> list[Transition]:
    """Write the outcomes whose lease still holds; stats and batches change with them.

    A job asked to cancel ends cancelled whatever its handler reported (its result is
    kept), so a cancelled job never ends completed and is never re-queued. Returns the
    transitions that happened; an outcome whose lease was lost changes nothing.
    """
    counters = Counters()
    done: list[Transition] = []
    for outcome in outcomes:
        row = _write_outcome(conn, outcome, now, cancelled=outcome.status is JobStatus.CANCELLED)
        status = outcome.status
        if row is None and status is not JobStatus.CANCELLED:
            row = _write_outcome(conn, outcome, now, cancelled=True)
            status = JobStatus.CANCELLED
        if row is None:
            continue
        if status in (JobStatus.COMPLETED, JobStatus.FAILED):
            counters.stats.add(
                outcome.action_type_id,
                row.marketplace,
                now.date(),
                status is JobStatus.COMPLETED,
                outcome.duration_ms,
            )
        if status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
            counters.count(status.value, row.batch_id)
        done.append(Transition(row.id, row.marketplace, status.value, row.batch_id))
    counters.flush(conn, now)
    return done


def _write_outcome(conn: Connection, outcome: Outcome, now: datetime, *, cancelled: bool) -> Any:
    lease = outcome.lease
    values: dict[str, Any] = {
        "duration_ms": outcome.duration_ms,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now,
    }
    if outcome.result_data is not None:
        values["result_data"] = outcome.result_data
    guard = [
        jobs.c.id == lease.job_id,
        jobs.c.status == RUNNING,
        jobs.c.lease_owner == lease.owner,
        jobs.c.attempts == lease.attempts,
    ]
    if cancelled:
        if outcome.status is not JobStatus.CANCELLED:
            guard.append(jobs.c.cancel_requested.is_(True))
        message = outcome.error_message if outcome.status is JobStatus.CANCELLED else None
        values |= {
            "status": JobStatus.CANCELLED.value,
            "completed_at": now,
            "error_message": message or "Cancelled while running",
        }
    else:
        guard.append(jobs.c.cancel_requested.is_(False))
        values |= {"status": outcome.status.value, "error_message": outcome.error_message}
        if outcome.status is JobStatus.PENDING:
            values["run_at"] = outcome.run_at or now
            if outcome.consumed_retry:
                values["retry_count"] = jobs.c.retry_count + 1
        elif outcome.status is not JobStatus.PAUSED:
            values["completed_at"] = now
    return conn.execute(
        update(jobs)
        .where(*guard)
        .values(**values)
        .returning(jobs.c.id, jobs.c.marketplace, jobs.c.batch_id)
    ).first()


def release(conn: Connection, leases: Sequence[Lease], now: datetime) -> list[int]:
    """Give jobs back to the queue untouched (graceful stop); returns the released ids."""
    released = []
    for lease in leases:
        row = conn.execute(
            update(jobs)
            .where(
                jobs.c.id == lease.job_id,
                jobs.c.status == RUNNING,
                jobs.c.lease_owner == lease.owner,
                jobs.c.attempts == lease.attempts,
            )
            .values(status=PENDING, lease_owner=None, lease_until=None, run_at=now, updated_at=now)
            .returning(jobs.c.id)
        ).first()
        if row is not None:
            released.append(row.id)
    return released


# -- housekeeping -----------------------------------------------------------------------
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


def bump_batch(
    conn: Connection,
    batch_id: int,
    now: datetime,
    *,
    completed: int = 0,
    failed: int = 0,
    cancelled: int = 0,
) -> None:
    """Add to a batch's counters and derive its status from them, atomically."""
    b = batches.c
    new_done = b.completed_count + completed
    new_failed = b.failed_count + failed
    new_cancelled = b.cancelled_count + cancelled
    finished = (new_done + new_failed + new_cancelled) >= b.total_count
    status = case(
        (~finished, "running"),
        (new_failed + new_cancelled == 0, "completed"),
        (and_(new_done == 0, new_failed == 0), "cancelled"),
        (new_done == 0, "failed"),
        else_="partially_failed",
    )
    conn.execute(
        update(batches)
        .where(b.id == batch_id)
        .values(
            completed_count=new_done,
            failed_count=new_failed,
            cancelled_count=new_cancelled,
            status=status,
            completed_at=case((finished, now), else_=None),
        )
    )
