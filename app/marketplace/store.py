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

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, and_, bindparam, case, exists, func, or_, select, update

from app.db.prepared import PreparedCache
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


_CLAIM_STATEMENTS: dict[tuple[str | None, bool], Any] = {}
_PREPARED = PreparedCache()


def _claim_statement(marketplace: str | None, has_excluded: bool) -> Any:
    """The claim UPDATE for one marketplace filter, built once with bind parameters."""
    key = (marketplace, has_excluded)
    stmt = _CLAIM_STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    now = bindparam("c_now", type_=jobs.c.run_at.type)
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
    if has_excluded:
        pick = pick.where(cand.c.action_type_id.not_in(bindparam("c_excluded", expanding=True)))
    pick = (
        pick.order_by(cand.c.priority, cand.c.id)
        .limit(bindparam("c_limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    # A materialised CTE picks the rows exactly once: PostgreSQL may re-run an
    # ``IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` per outer row and take more.
    picked = pick.cte("picked").prefix_with("MATERIALIZED")
    stmt = (
        update(jobs)
        .where(jobs.c.id == picked.c.id, jobs.c.status == PENDING)
        .values(
            status=RUNNING,
            lease_owner=bindparam("c_owner", type_=jobs.c.lease_owner.type),
            lease_until=bindparam("c_until", type_=jobs.c.lease_until.type),
            attempts=jobs.c.attempts + 1,
            started_at=func.coalesce(jobs.c.started_at, now),
            updated_at=now,
        )
        .returning(*CLAIM_COLUMNS)
    )
    _CLAIM_STATEMENTS[key] = stmt
    return stmt


_START_BATCHES = (
    update(batches)
    .where(batches.c.id.in_(bindparam("b_ids", expanding=True)), batches.c.status == "pending")
    .values(status="running")
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
    in order: only the oldest pending one is eligible, and none while another runs.
    """
    if limit < 1:
        return []
    excluded = list(exclude_action_type_ids)
    params: dict[str, Any] = {
        "c_now": now,
        "c_limit": limit,
        "c_owner": owner,
        "c_until": now + timedelta(seconds=lease_seconds),
    }
    if excluded:
        params["c_excluded"] = excluded
    has_excluded = bool(excluded)
    prepared = _PREPARED.get(
        conn,
        ("claim", marketplace, has_excluded),
        lambda: _claim_statement(marketplace, has_excluded),
    )
    rows = (
        prepared.execute(conn, params)
        if not has_excluded
        else conn.execute(_claim_statement(marketplace, has_excluded), params).all()
    )
    batch_ids = {row.batch_id for row in rows if row.batch_id is not None}
    if batch_ids:
        conn.execute(_START_BATCHES, {"b_ids": sorted(batch_ids)})
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
    marketplace: str
    batch_id: int | None
    result_data: dict[str, Any] | None = None
    error_message: str | None = None
    duration_ms: int | None = None
    retry_in: float = 0.0  # seconds from the commit's database time to the next attempt
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

    def record(
        outcome: Outcome, status: JobStatus, job_id: int, marketplace: str, batch_id: int | None
    ) -> None:
        if status in (JobStatus.COMPLETED, JobStatus.FAILED):
            counters.stats.add(
                outcome.action_type_id,
                marketplace,
                now.date(),
                status is JobStatus.COMPLETED,
                outcome.duration_ms,
            )
        if status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
            counters.count(status.value, batch_id)
        done.append(Transition(job_id, marketplace, status.value, batch_id))

    slow: list[Outcome] = []
    groups: dict[tuple[JobStatus, bool, bool, bool], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.status is JobStatus.CANCELLED or not conn.dialect.supports_sane_multi_rowcount:
            slow.append(outcome)
        else:
            groups[_shape(outcome, cancelled=False)].append(outcome)
    for shape, group in groups.items():
        if len(group) == 1:
            slow.extend(group)
            continue
        # Optimistic: every lease still holds and nobody asked to cancel (the usual case);
        # one executemany writes them all, else the savepoint is undone and each is retried.
        savepoint = conn.begin_nested()
        status, cancelled, has_result, consumed = shape
        prepared = _PREPARED.get(
            conn,
            shape,
            functools.partial(
                _outcome_statement, status, cancelled, has_result, consumed, returning=False
            ),
        )
        params = [_outcome_params(o, now, cancelled=False) for o in group]
        written = prepared.executemany(conn, params, fixed={"o_now": now})
        if written != len(group):
            savepoint.rollback()
            slow.extend(group)
            continue
        savepoint.commit()
        for outcome in group:
            record(
                outcome, outcome.status, outcome.lease.job_id, outcome.marketplace, outcome.batch_id
            )
    for outcome in sorted(slow, key=lambda o: o.lease.job_id):
        row = _write_outcome(conn, outcome, now, cancelled=outcome.status is JobStatus.CANCELLED)
        status = outcome.status
        if row is None and status is not JobStatus.CANCELLED:
            row = _write_outcome(conn, outcome, now, cancelled=True)
            status = JobStatus.CANCELLED
        if row is None:
            continue
        record(outcome, status, row.id, row.marketplace, row.batch_id)
    counters.flush(conn, now)
    return done


def _shape(outcome: Outcome, *, cancelled: bool) -> tuple[JobStatus, bool, bool, bool]:
    pending = outcome.status is JobStatus.PENDING
    return (
        outcome.status,
        cancelled,
        outcome.result_data is not None,
        pending and outcome.consumed_retry,
    )


def _outcome_params(outcome: Outcome, now: datetime, *, cancelled: bool) -> dict[str, Any]:
    lease = outcome.lease
    error: str | None
    if cancelled:
        message = outcome.error_message if outcome.status is JobStatus.CANCELLED else None
        error = message or "Cancelled while running"
    else:
        error = outcome.error_message
    params: dict[str, Any] = {
        "o_id": lease.job_id,
        "o_owner": lease.owner,
        "o_attempts": lease.attempts,
        "o_duration": outcome.duration_ms,
        "o_now": now,
        "o_error": error,
    }
    if outcome.result_data is not None:
        params["o_result"] = outcome.result_data
    if outcome.status is JobStatus.PENDING and not cancelled:
        params["o_run_at"] = now + timedelta(seconds=outcome.retry_in)
    return params


_OUTCOME_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _outcome_statement(
    status: JobStatus,
    cancelled: bool,
    has_result: bool,
    consumed_retry: bool,
    returning: bool = True,
) -> Any:
    """The guarded outcome UPDATE of one shape, built once with bind parameters."""
    key = (status, cancelled, has_result, consumed_retry, returning)
    stmt = _OUTCOME_STATEMENTS.get(key)
    if stmt is not None:
        return stmt
    c = jobs.c
    values: dict[str, Any] = {
        "duration_ms": bindparam("o_duration", type_=c.duration_ms.type),
        "lease_owner": None,
        "lease_until": None,
        "updated_at": bindparam("o_now", type_=c.updated_at.type),
    }
    if has_result:
        values["result_data"] = bindparam("o_result", type_=c.result_data.type)
    guard = [
        c.id == bindparam("o_id", type_=c.id.type),
        c.status == RUNNING,
        c.lease_owner == bindparam("o_owner", type_=c.lease_owner.type),
        c.attempts == bindparam("o_attempts", type_=c.attempts.type),
    ]
    if cancelled:
        if status is not JobStatus.CANCELLED:
            guard.append(c.cancel_requested.is_(True))
        values |= {
            "status": JobStatus.CANCELLED.value,
            "completed_at": bindparam("o_now", type_=c.completed_at.type),
            "error_message": bindparam("o_error", type_=c.error_message.type),
        }
    else:
        guard.append(c.cancel_requested.is_(False))
        values |= {
            "status": status.value,
            "error_message": bindparam("o_error", type_=c.error_message.type),
        }
        if status is JobStatus.PENDING:
            values["run_at"] = bindparam("o_run_at", type_=c.run_at.type)
            if consumed_retry:
                values["retry_count"] = c.retry_count + 1
        elif status is not JobStatus.PAUSED:
            values["completed_at"] = bindparam("o_now", type_=c.completed_at.type)
    stmt = update(jobs).where(*guard).values(**values)
    if returning:
        stmt = stmt.returning(c.id, c.marketplace, c.batch_id)
    _OUTCOME_STATEMENTS[key] = stmt
    return stmt


def _write_outcome(conn: Connection, outcome: Outcome, now: datetime, *, cancelled: bool) -> Any:
    stmt = _outcome_statement(*_shape(outcome, cancelled=cancelled))
    return conn.execute(stmt, _outcome_params(outcome, now, cancelled=cancelled)).first()


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
