"""Read-side queries over ``marketplace_job_stats`` for charts, tables and alerts (Qt-free).

Each query is one grouped ``SELECT`` over the daily counters (no row-by-row reads), so
a year of stats for every marketplace and action comes back as at most a few thousand
small rows. Counters are summed in SQL; rates and averages are derived in Python from the
sums (``total_duration_ms / total_jobs``), never averaged from per-row averages, so an
action with many jobs weighs more than one with few.

The functions take a SQLAlchemy :class:`~sqlalchemy.Connection` bound to one seller (the
``tenant`` and ``public`` schema placeholders mapped, as ``Database.bind(user_id)`` does);
:func:`load_snapshot` opens one read-only connection and runs all three, so a page
refreshes from one consistent view of the counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Float, bindparam, cast, func, select

from app.db import Database
from app.marketplace.action_types import check_marketplace
from app.marketplace.job_forms import DISPLAY
from app.marketplace.tables import stats as stats_table
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES


@dataclass(frozen=True)
class StatsQuery:
    """A range of UTC days (both ends included) and one marketplace or all of them."""

    start: date
    end: date
    marketplace: str | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"The range starts ({self.start}) after it ends ({self.end})")
        if self.marketplace is not None:
            object.__setattr__(self, "marketplace", check_marketplace(self.marketplace))

    @classmethod
    def last_days(cls, days: int, today: date, marketplace: str | None = None) -> StatsQuery:
        """The ``days`` days that end with ``today`` (included)."""
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        return cls(today - timedelta(days=days - 1), today, marketplace)

    @property
    def marketplaces(self) -> tuple[str, ...]:
        """The marketplaces the query covers."""
        return (self.marketplace,) if self.marketplace else MARKETPLACE_VALUES

    def days(self) -> list[date]:
        """Every day of the range, in order."""
        count = (self.end - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(count)]


def _rate(part: int, total: int) -> float | None:
    return part / total if total else None


@dataclass
class DailySeries:
    """One marketplace's counters for every day of a query's range (zeros without jobs).

    All lists are parallel to :attr:`days`. ``success_rates`` (0..1) and
    ``avg_durations_ms`` are None on days without jobs.
    """

    marketplace: str
    days: list[date]
    totals: list[int]
    successes: list[int]
    failures: list[int]
    success_rates: list[float | None]
    avg_durations_ms: list[float | None]

    @classmethod
    def empty(cls, marketplace: str, days: list[date]) -> DailySeries:
        """A series with no jobs on any day."""
        n = len(days)
        return cls(marketplace, list(days), [0] * n, [0] * n, [0] * n, [None] * n, [None] * n)

    def set_day(self, index: int, total: int, success: int, failure: int, duration: int) -> None:
        """Fill day number ``index`` from its summed counters."""
        self.totals[index] = total
        self.successes[index] = success
        self.failures[index] = failure
        self.success_rates[index] = _rate(success, total)
        self.avg_durations_ms[index] = duration / total if total else None

    @property
    def total_jobs(self) -> int:
        """Jobs finished over the whole range."""
        return sum(self.totals)


@dataclass(frozen=True)
class ActionTotals:
    """One action's counters on one marketplace, summed over a query's range."""

    marketplace: str
    action: str
    name: str
    total_jobs: int
    successes: int
    failures: int
    total_duration_ms: int

    @property
    def success_rate(self) -> float | None:
        """Share of successful jobs (0..1), None without jobs."""
        return _rate(self.successes, self.total_jobs)

    @property
    def avg_duration_ms(self) -> float | None:
        """Mean duration of a finished job, None without jobs."""
        return self.total_duration_ms / self.total_jobs if self.total_jobs else None


@dataclass(frozen=True)
class Alert:
    """A marketplace whose failure rate since ``since`` reached ``threshold``."""

    marketplace: str
    since: date
    total_jobs: int
    failures: int
    threshold: float

    @property
    def failure_rate(self) -> float:
        """Share of failed jobs (0..1)."""
        return self.failures / self.total_jobs

    @property
    def message(self) -> str:
        """The alert as a sentence for the seller."""
        name = DISPLAY.get(self.marketplace, self.marketplace)
        return (
            f"{name}: {self.failures} of {self.total_jobs} jobs failed since {self.since} "
            f"({self.failure_rate:.0%}), at or above the {self.threshold:.0%} alert threshold."
        )


@dataclass
class StatsSnapshot:
    """Everything a stats page shows, read in one transaction."""

    query: StatsQuery
    series: dict[str, DailySeries]
    actions: list[ActionTotals]
    alerts: list[Alert] = field(default_factory=list)


def _sums() -> list[Any]:
    c = stats_table.c
    return [
        func.sum(c.total_jobs).label("total"),
        func.sum(c.success_count).label("success"),
        func.sum(c.failure_count).label("failure"),
        func.sum(c.total_duration_ms).label("duration"),
    ]


def daily_series(conn: Connection, query: StatsQuery) -> dict[str, DailySeries]:
    """Per marketplace and day, the counters of every action added up.

    One series for each marketplace the query covers (with zeros where nothing ran), in
    the order of ``MARKETPLACE_VALUES``; one grouped query.
    """
    c = stats_table.c
    stmt = (
        select(c.marketplace, c.date, *_sums())
        .where(c.date >= query.start, c.date <= query.end)
        .group_by(c.marketplace, c.date)
    )
    if query.marketplace:
        stmt = stmt.where(c.marketplace == query.marketplace)
    days = query.days()
    index = {day: i for i, day in enumerate(days)}
    series = {mp: DailySeries.empty(mp, days) for mp in query.marketplaces}
    for row in conn.execute(stmt):
        target = series.get(row.marketplace)
        position = index.get(row.date)
        if target is None or position is None:
            continue
        target.set_day(
            position, int(row.total), int(row.success), int(row.failure), int(row.duration)
        )
    return series


def per_action(conn: Connection, query: StatsQuery) -> list[ActionTotals]:
    """Per marketplace and action, the counters summed over the range (actions that ran).

    Ordered by marketplace (as in ``MARKETPLACE_VALUES``) then action code; one grouped
    query joined to the action catalogue for the codes and names.
    """
    c = stats_table.c
    action = MarketplaceActionType.__table__.c
    stmt = (
        select(c.marketplace, action.code, action.name, *_sums())
        .join_from(stats_table, MarketplaceActionType, action.id == c.action_type_id)
        .where(c.date >= query.start, c.date <= query.end)
        .group_by(c.marketplace, action.code, action.name)
    )
    if query.marketplace:
        stmt = stmt.where(c.marketplace == query.marketplace)
    order = {mp: i for i, mp in enumerate(MARKETPLACE_VALUES)}
    rows = [
        ActionTotals(
            marketplace=row.marketplace,
            action=row.code,
            name=row.name,
            total_jobs=int(row.total),
            successes=int(row.success),
            failures=int(row.failure),
            total_duration_ms=int(row.duration),
        )
        for row in conn.execute(stmt)
    ]
    rows.sort(key=lambda r: (order.get(r.marketplace, len(order)), r.marketplace, r.action))
    return rows


def failure_alerts(
    conn: Connection, threshold: float, since: date, min_jobs: int = 10
) -> list[Alert]:
    """Marketplaces whose failure rate from ``since`` (included) on is ``>= threshold``.

    Only marketplaces with at least ``min_jobs`` finished jobs in the window count, so
    that one failure out of two jobs does not raise an alarm. ``threshold`` is a share
    (0.25 for 25 %). One grouped query; the comparison is made in SQL on the sums
    (``failures / total >= threshold``, a division so that 3 of 10 does reach 0.3), so
    nothing below the threshold is read.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"The threshold is a share between 0 and 1, not {threshold}")
    if min_jobs < 1:
        raise ValueError(f"min_jobs must be at least 1, not {min_jobs}")
    c = stats_table.c
    total = func.sum(c.total_jobs)
    failures = func.sum(c.failure_count)
    share = bindparam("threshold", threshold, type_=Float)
    stmt = (
        select(c.marketplace, total.label("total"), failures.label("failure"))
        .where(c.date >= since)
        .group_by(c.marketplace)
        .having(total >= min_jobs, cast(failures, Float) / func.nullif(total, 0) >= share)
    )
    order = {mp: i for i, mp in enumerate(MARKETPLACE_VALUES)}
    alerts = [
        Alert(row.marketplace, since, int(row.total), int(row.failure), threshold)
        for row in conn.execute(stmt)
    ]
    alerts.sort(key=lambda a: (order.get(a.marketplace, len(order)), a.marketplace))
    return alerts


def load_snapshot(
    db: Database,
    user_id: int,
    query: StatsQuery,
    *,
    threshold: float | None = None,
    since: date | None = None,
    min_jobs: int = 10,
) -> StatsSnapshot:
    """Series, per-action totals and (with a threshold) alerts, on one read-only connection.

    Blocking: call it off the event loop (``await db.run(load_snapshot, ...)``). Alerts
    are left empty unless both ``threshold`` and ``since`` are given.
    """
    with db.bind(user_id, readonly=True).connect() as conn, conn.begin():
        series = daily_series(conn, query)
        actions = per_action(conn, query)
        alerts = (
            failure_alerts(conn, threshold, since, min_jobs)
            if threshold is not None and since is not None
            else []
        )
    return StatsSnapshot(query, series, actions, alerts)
