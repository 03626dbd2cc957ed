"""The atomic stats upsert and the stats queries (``marketplace_job_stats``).

Counters are never read and written back: one ``INSERT ... ON CONFLICT DO UPDATE`` adds
the deltas to whatever the row holds, so concurrent workers on one SQLite file (or one
PostgreSQL server) cannot lose an increment, and two first inserts cannot collide. It
is issued inside the transaction that makes the jobs' terminal status change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Float, Insert, bindparam, cast
from sqlalchemy.dialects import postgresql, sqlite

from app.marketplace.tables import stats as stats_table


@dataclass
class StatsDelta:
    """Outcomes to add to one (action type, marketplace, day) row."""

    total: int = 0
    success: int = 0
    failure: int = 0
    duration_ms: int = 0

    def add(self, success: bool, duration_ms: int | None) -> None:
        """Count one finished job."""
        self.total += 1
        if success:
            self.success += 1
        else:
            self.failure += 1
        self.duration_ms += max(0, duration_ms or 0)


@dataclass
class StatsBatch:
    """Deltas grouped by row key, so a group commit issues one upsert per row."""

    deltas: dict[tuple[int, str, date], StatsDelta] = field(
        default_factory=lambda: defaultdict(StatsDelta)
    )

    def add(
        self,
        action_type_id: int,
        marketplace: str,
        day: date,
        success: bool,
        duration_ms: int | None,
    ) -> None:
        """Count one finished job in its row."""
        self.deltas[(action_type_id, marketplace, day)].add(success, duration_ms)

    @property
    def marketplaces(self) -> set[str]:
        """Marketplaces whose stats this batch changes."""
        return {key[1] for key in self.deltas}


def dialect_insert(conn: Connection, table: Any) -> Insert:
    """An INSERT with ``on_conflict_do_update`` support for the connection's backend."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


_UPSERTS: dict[str, Any] = {}


def _upsert_statement(conn: Connection) -> Any:
    """The stats upsert for the connection's backend, built once with bind parameters."""
    cached = _UPSERTS.get(conn.dialect.name)
    if cached is not None:
        return cached
    t = stats_table.c
    stmt: Any = dialect_insert(conn, stats_table).values(
        action_type_id=bindparam("s_action", type_=t.action_type_id.type),
        marketplace=bindparam("s_marketplace", type_=t.marketplace.type),
        date=bindparam("s_date", type_=t.date.type),
        total_jobs=bindparam("s_total", type_=t.total_jobs.type),
        success_count=bindparam("s_success", type_=t.success_count.type),
        failure_count=bindparam("s_failure", type_=t.failure_count.type),
        total_duration_ms=bindparam("s_duration", type_=t.total_duration_ms.type),
        avg_duration_ms=bindparam("s_avg", type_=t.avg_duration_ms.type),
        created_at=bindparam("s_now", type_=t.created_at.type),
        updated_at=bindparam("s_now", type_=t.updated_at.type),
    )
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.action_type_id, t.marketplace, t.date],
        set_={
            "total_jobs": t.total_jobs + new.total_jobs,
            "success_count": t.success_count + new.success_count,
            "failure_count": t.failure_count + new.failure_count,
            "total_duration_ms": t.total_duration_ms + new.total_duration_ms,
            "avg_duration_ms": cast(t.total_duration_ms + new.total_duration_ms, Float)
            / (t.total_jobs + new.total_jobs),
            "updated_at": new.updated_at,
        },
    )
    _UPSERTS[conn.dialect.name] = stmt
    return stmt


def upsert(conn: Connection, batch: StatsBatch, now: datetime) -> None:
    """Add every delta of ``batch`` to its stats row in one statement per row."""
    stmt = _upsert_statement(conn)
    for (action_type_id, marketplace, day), delta in sorted(batch.deltas.items()):
        conn.execute(
            stmt,
            {
                "s_action": action_type_id,
                "s_marketplace": marketplace,
                "s_date": day,
                "s_total": delta.total,
                "s_success": delta.success,
                "s_failure": delta.failure,
                "s_duration": delta.duration_ms,
                "s_avg": delta.duration_ms / delta.total,
                "s_now": now,
            },
        )
