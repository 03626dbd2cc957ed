"""Read-only queries behind the jobs table: filtered id lists, rows by id, one job's detail.

The window shows tens of thousands of jobs without loading them all: it asks
:func:`job_ids` for the ids that match a :class:`JobFilter` (newest first, one cheap
column), then :func:`job_rows` for the few rows on screen. Everything here is plain
SQLAlchemy Core on a connection or session bound with the seller's schema map
(``db.bind(user_id).connect()`` or ``db.session(user_id)``), and Qt-free.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, func, select
from sqlalchemy.orm import Session

from app.marketplace.tables import jobs, tasks
from app.models.public.marketplace_action_type import MarketplaceActionType

action_types = cast(Table, MarketplaceActionType.__table__)

#: Ids per ``IN (...)`` list (well below SQLite's bound-parameter limit).
IN_CHUNK = 500

Executor = Connection | Session


@dataclass(frozen=True)
class JobFilter:
    """Which jobs the table shows; ``None`` means any."""

    marketplace: str | None = None
    status: str | None = None
    action: str | None = None

    def matches(self, row: JobRow) -> bool:
        """True when ``row`` passes this filter (the same test as the SQL of :func:`job_ids`)."""
        return (
            (self.marketplace is None or row.marketplace == self.marketplace)
            and (self.status is None or row.status == self.status)
            and (self.action is None or row.action == self.action)
        )


@dataclass(frozen=True, slots=True)
class JobRow:
    """What one line of the jobs table shows."""

    id: int
    marketplace: str
    action: str
    product_id: int | None
    status: str
    priority: int
    attempts: int
    retry_count: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class StepRow:
    """One sub-step of a job (``marketplace_tasks``)."""

    name: str
    status: str
    attempts: int
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class JobDetail:
    """Everything the detail pane shows about one job."""

    row: JobRow
    input_data: dict[str, Any] | None
    result_data: dict[str, Any] | None
    error: str | None
    steps: tuple[StepRow, ...]


def _where(query: Select[Any], job_filter: JobFilter) -> Select[Any]:
    if job_filter.marketplace is not None:
        query = query.where(jobs.c.marketplace == job_filter.marketplace)
    if job_filter.status is not None:
        query = query.where(jobs.c.status == job_filter.status)
    if job_filter.action is not None:
        query = query.where(
            jobs.c.action_type_id.in_(
                select(action_types.c.id).where(action_types.c.code == job_filter.action)
            )
        )
    return query


def _row_select() -> Select[Any]:
    return select(
        jobs.c.id,
        jobs.c.marketplace,
        action_types.c.code,
        jobs.c.product_id,
        jobs.c.status,
        jobs.c.priority,
        jobs.c.attempts,
        jobs.c.retry_count,
        jobs.c.error_message,
        jobs.c.created_at,
        jobs.c.updated_at,
        jobs.c.duration_ms,
    ).select_from(jobs.join(action_types, action_types.c.id == jobs.c.action_type_id))


def _to_row(values: Sequence[Any]) -> JobRow:
    return JobRow(*values)


def job_ids(conn: Executor, job_filter: JobFilter | None = None) -> list[int]:
    """Ids of the jobs that match ``job_filter``, newest (highest id) first.

    The ids come back as one aggregated value (a JSON array on SQLite, an array on
    PostgreSQL) rather than one result row each: for 100,000 jobs that is about a
    quarter of the time. The order is restored in Python (linear on sorted input).
    """
    query = _where(select(jobs.c.id), job_filter or JobFilter())
    dialect = _dialect(conn)
    ids: list[int]
    if dialect == "sqlite":
        ids = json.loads(
            conn.execute(select(func.json_group_array(query.subquery().c.id))).scalar_one()
        )
    elif dialect == "postgresql":
        ids = list(conn.execute(select(func.array_agg(query.subquery().c.id))).scalar_one() or ())
    else:
        ids = [row[0] for row in conn.execute(query)]
    ids.sort(reverse=True)
    return ids


def first_page(
    conn: Executor, job_filter: JobFilter | None, count: int
) -> tuple[list[int], dict[int, JobRow]]:
    """:func:`job_ids` and the rows of the first ``count`` of them, in one go."""
    ids = job_ids(conn, job_filter)
    return ids, job_rows(conn, ids[:count])


def _dialect(conn: Executor) -> str:
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    return str(bind.dialect.name)


def job_rows(conn: Executor, ids: Iterable[int]) -> dict[int, JobRow]:
    """The rows of ``ids`` by id (ids of jobs that no longer exist are left out)."""
    wanted = list(dict.fromkeys(ids))
    rows: dict[int, JobRow] = {}
    base = _row_select()
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for values in conn.execute(base.where(jobs.c.id.in_(chunk))):
            rows[values[0]] = _to_row(values)
    return rows


def all_job_rows(conn: Executor, job_filter: JobFilter | None = None) -> list[JobRow]:
    """Every matching row at once, newest first (for comparisons; the window never does it)."""
    query = _where(_row_select(), job_filter or JobFilter()).order_by(jobs.c.id.desc())
    return [_to_row(values) for values in conn.execute(query)]


def action_codes(conn: Executor, marketplace: str | None = None) -> list[str]:
    """The distinct action codes (of one marketplace or of all), sorted."""
    query = select(action_types.c.code).distinct().order_by(action_types.c.code)
    if marketplace is not None:
        query = query.where(action_types.c.marketplace == marketplace)
    return [row[0] for row in conn.execute(query)]


def job_detail(conn: Executor, job_id: int) -> JobDetail | None:
    """Input, result, error and steps of ``job_id``; None when there is no such job."""
    found = conn.execute(
        _row_select().add_columns(jobs.c.input_data, jobs.c.result_data).where(jobs.c.id == job_id)
    ).first()
    if found is None:
        return None
    values = tuple(found)
    row = _to_row(values[:-2])
    steps = tuple(
        StepRow(name, status, attempts, result, error)
        for name, status, attempts, result, error in conn.execute(
            select(
                tasks.c.name,
                tasks.c.status,
                tasks.c.attempts,
                tasks.c.result_data,
                tasks.c.error_message,
            )
            .where(tasks.c.job_id == job_id)
            .order_by(tasks.c.position, tasks.c.id)
        )
    )
    return JobDetail(
        row=row,
        input_data=values[-2],
        result_data=values[-1],
        error=row.error_message,
        steps=steps,
    )
