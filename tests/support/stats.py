"""Stats rows written straight into ``marketplace_job_stats`` for chart and query tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import insert, select

from app.db import Database
from app.marketplace.tables import stats as stats_table
from app.models.public.marketplace_action_type import MarketplaceActionType

#: (marketplace, action code, day, successes, failures, total duration in ms)
StatsRow = tuple[str, str, date, int, int, int]


def action_ids(db: Database) -> dict[tuple[str, str], int]:
    """Action type ids by (marketplace, code)."""
    with db.bind().connect() as conn:
        rows = conn.execute(
            select(
                MarketplaceActionType.marketplace,
                MarketplaceActionType.code,
                MarketplaceActionType.id,
            )
        )
        return {(mp, code): int(i) for mp, code, i in rows}


def add_stats(db: Database, rows: Iterable[StatsRow]) -> None:
    """Insert one stats row per tuple."""
    ids = action_ids(db)
    with db.bind().begin() as conn:
        conn.execute(
            insert(stats_table),
            [
                {
                    "action_type_id": ids[(mp, code)],
                    "marketplace": mp,
                    "date": day,
                    "total_jobs": ok + bad,
                    "success_count": ok,
                    "failure_count": bad,
                    "total_duration_ms": ms,
                    "avg_duration_ms": ms / (ok + bad),
                }
                for mp, code, day, ok, bad, ms in rows
            ],
        )
