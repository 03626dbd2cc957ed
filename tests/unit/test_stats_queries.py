"""Stats queries: daily series, per-action totals and failure alerts, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from app.db import Database, utcnow
from app.marketplace import MarketplaceJobService
from app.marketplace.errors import InvalidJobRequestError
from app.marketplace.stats_queries import (
    StatsQuery,
    daily_series,
    failure_alerts,
    load_snapshot,
    per_action,
)
from tests.support.stats import StatsRow
from tests.support.stats import add_stats as insert_stats

D0 = date(2024, 3, 1)


def add_stats(db: Database, *rows: StatsRow) -> None:
    """Insert stats rows: (marketplace, action, day, successes, failures, total ms)."""
    insert_stats(db, rows)


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine runs from now on."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def selects(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith("SELECT")]


def test_daily_series_adds_actions_up_per_day_and_leaves_gaps(
    db: Database, statements: list[str]
) -> None:
    add_stats(
        db,
        ("ebay", "publish", D0, 3, 1, 4000),
        ("ebay", "sync", D0, 6, 0, 2000),  # same day, other action: summed
        ("ebay", "publish", D0 + timedelta(days=2), 1, 1, 500),
        ("etsy", "update", D0 + timedelta(days=1), 0, 2, 300),
        ("vinted", "message", D0 - timedelta(days=1), 5, 0, 100),  # before the range
        ("vinted", "message", D0 + timedelta(days=3), 5, 0, 100),  # after the range
    )
    query = StatsQuery(D0, D0 + timedelta(days=2))
    with db.bind().connect() as conn:
        statements.clear()
        series = daily_series(conn, query)
    assert len(selects(statements)) == 1

    assert list(series) == ["vinted", "ebay", "etsy"]
    ebay = series["ebay"]
    assert ebay.days == [D0, D0 + timedelta(days=1), D0 + timedelta(days=2)]
    assert ebay.totals == [10, 0, 2]
    assert ebay.successes == [9, 0, 1]
    assert ebay.failures == [1, 0, 1]
    assert ebay.success_rates == [0.9, None, 0.5]
    # total duration / total jobs of the day, not the mean of the actions' averages
    assert ebay.avg_durations_ms == [600.0, None, 250.0]
    assert ebay.total_jobs == 12
    assert series["etsy"].success_rates == [None, 0.0, None]
    assert series["etsy"].avg_durations_ms == [None, 150.0, None]
    assert series["vinted"].totals == [0, 0, 0]
    assert series["vinted"].success_rates == [None, None, None]


def test_daily_series_of_one_marketplace(db: Database) -> None:
    add_stats(db, ("ebay", "sync", D0, 1, 0, 10), ("etsy", "sync", D0, 2, 0, 10))
    with db.bind().connect() as conn:
        series = daily_series(conn, StatsQuery(D0, D0, "etsy"))
    assert list(series) == ["etsy"]
    assert series["etsy"].totals == [2]


def test_per_action_sums_the_range_per_marketplace_and_action(
    db: Database, statements: list[str]
) -> None:
    add_stats(
        db,
        ("ebay", "publish", D0, 3, 1, 4000),
        ("ebay", "publish", D0 + timedelta(days=1), 4, 2, 2000),
        ("ebay", "delete", D0, 1, 0, 50),
        ("vinted", "publish", D0, 0, 4, 800),
        ("etsy", "sync", D0 + timedelta(days=5), 9, 9, 9),  # outside the range
    )
    query = StatsQuery(D0, D0 + timedelta(days=1))
    with db.bind().connect() as conn:
        statements.clear()
        rows = per_action(conn, query)
        only_ebay = per_action(conn, StatsQuery(D0, D0, "ebay"))
    assert len(selects(statements)) == 2

    assert [(r.marketplace, r.action) for r in rows] == [
        ("vinted", "publish"),
        ("ebay", "delete"),
        ("ebay", "publish"),
    ]
    publish = rows[2]
    assert (publish.total_jobs, publish.successes, publish.failures) == (10, 7, 3)
    assert publish.success_rate == pytest.approx(0.7)
    assert publish.avg_duration_ms == pytest.approx(600.0)
    assert publish.name == "Publish product"
    assert rows[0].success_rate == 0.0
    assert [(r.action, r.total_jobs) for r in only_ebay] == [("delete", 1), ("publish", 4)]


def test_failure_alerts_cross_the_threshold_with_enough_jobs(
    db: Database, statements: list[str]
) -> None:
    today = D0 + timedelta(days=10)
    add_stats(
        db,
        ("ebay", "publish", today, 7, 3, 1000),  # 3 of 10: exactly 30 %
        ("etsy", "publish", today, 1, 3, 1000),  # 75 % but only 4 jobs
        ("vinted", "publish", today, 18, 2, 1000),  # 10 %
        ("vinted", "sync", today - timedelta(days=1), 0, 30, 1000),  # before the window
    )
    with db.bind().connect() as conn:
        statements.clear()
        alerts = failure_alerts(conn, 0.3, since=today)
        assert len(selects(statements)) == 1
        assert failure_alerts(conn, 0.31, since=today) == []
        assert [a.marketplace for a in failure_alerts(conn, 0.3, today, min_jobs=4)] == [
            "ebay",
            "etsy",
        ]
        wider = failure_alerts(conn, 0.3, since=today - timedelta(days=1))

    (alert,) = alerts
    assert (alert.marketplace, alert.total_jobs, alert.failures) == ("ebay", 10, 3)
    assert alert.failure_rate == pytest.approx(0.3)
    assert alert.message == (
        f"eBay: 3 of 10 jobs failed since {today} (30%), at or above the 30% alert threshold."
    )
    # yesterday's 30 failures push Vinted to 32 of 50 (64 %)
    assert [(a.marketplace, a.failures, a.total_jobs) for a in wider] == [
        ("vinted", 32, 50),
        ("ebay", 3, 10),
    ]


def test_finished_jobs_counted_by_the_service_show_up(db: Database) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job("etsy", "sync")
    service.update_job_stats(job, True, 1200, "etsy")
    service.update_job_stats(job, False, 800, "etsy")
    service.update_job_stats(job, False, None, "etsy")
    today = utcnow().date()

    snapshot = load_snapshot(
        db, 1, StatsQuery.last_days(7, today), threshold=0.5, since=today, min_jobs=3
    )

    etsy = snapshot.series["etsy"]
    assert len(etsy.days) == 7 and etsy.days[-1] == today
    assert (etsy.totals[-1], etsy.successes[-1], etsy.failures[-1]) == (3, 1, 2)
    assert etsy.success_rates[-1] == pytest.approx(1 / 3)
    assert etsy.avg_durations_ms[-1] == pytest.approx(2000 / 3)
    assert [(a.marketplace, a.action, a.total_jobs) for a in snapshot.actions] == [
        ("etsy", "sync", 3)
    ]
    assert [(a.marketplace, a.failures) for a in snapshot.alerts] == [("etsy", 2)]
    assert load_snapshot(db, 1, StatsQuery(today, today)).alerts == []


def test_queries_check_their_arguments(db: Database) -> None:
    with pytest.raises(ValueError, match="starts"):
        StatsQuery(D0, D0 - timedelta(days=1))
    with pytest.raises(InvalidJobRequestError):
        StatsQuery(D0, D0, "amazon")
    with pytest.raises(ValueError, match="days"):
        StatsQuery.last_days(0, D0)
    assert StatsQuery(D0, D0, " eBay ").marketplace == "ebay"
    assert StatsQuery.last_days(30, D0).start == D0 - timedelta(days=29)
    with db.bind().connect() as conn:
        for threshold in (0.0, 1.5):
            with pytest.raises(ValueError, match="threshold"):
                failure_alerts(conn, threshold, D0)
        with pytest.raises(ValueError, match="min_jobs"):
            failure_alerts(conn, 0.5, D0, min_jobs=0)
