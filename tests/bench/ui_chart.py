"""Stats page: redraw time of the charts for a year of stats, and the query time behind it.

Run it from the project root::

    python -m tests.bench.ui_chart [--days 365] [--repeat 30] [--warmup 5] [--dir PATH]

What is measured
----------------
The set-up (not timed): a fresh SQLite file (migrated Marketdesk database) in a temporary
directory holding ``marketplace_job_stats`` for the 3 marketplaces x ``--days`` UTC days
ending today, one row per action type of the marketplace per day (Vinted 7, eBay 5, Etsy 5
actions: 17 rows a day, 6,205 rows for a year), with seeded random counts (0-40 jobs,
about 20 % failures, 0.2-5 s per job). The real :class:`app.ui.stats_page.StatsPage`
(offscreen platform, ``QT_QPA_PLATFORM=offscreen``), 1200 x 760 pixels, shown, showing
the whole range for all marketplaces (three lines per line chart, 17 bars, 17 table rows).

1. **Query.** ``load_snapshot`` (what a refresh runs on the database executor: one read-only
   transaction with the three grouped queries ``daily_series``, ``per_action`` and
   ``failure_alerts``), called directly on this thread; and each of the three queries
   alone on an open read-only connection. Median of ``--repeat`` calls after ``--warmup``.
2. **Redraw.** Two snapshots A and B are loaded first (B after one more job was counted
   with ``MarketplaceJobService.update_job_stats``, so today's points differ) and the
   page alternates between them, so every redraw really changes the data. Timed per
   redraw, three ways:

   * ``setData only``: ``StatsPage.draw(snapshot)``: ``setData`` on the 6 existing curves
     (365 points each), ``setOpts`` on the 3 bar items, axis ticks and ranges, the table's
     17 rows; no painting.
   * ``frame`` (the target figure): ``draw(snapshot)``, then ``page.repaint()`` (paints
     the page and every child synchronously) and ``QApplication.processEvents()`` (the
     updates that pyqtgraph's scenes and view boxes queued meanwhile are processed and
     painted): what the window spends between a refresh's data arriving and the new
     charts being on screen.
   * ``grab``: ``draw(snapshot)`` then ``page.grab()``, a full synchronous render of the
     whole page into a pixmap (every pixel, not only the changed ones): an upper bound.

   Median, 90th percentile and max over ``--repeat`` redraws after ``--warmup`` ones,
   against the target: a frame in at most 30 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert, select

from app.db import Database, utcnow
from app.marketplace import MarketplaceJobService
from app.marketplace.stats_queries import (
    StatsQuery,
    StatsSnapshot,
    daily_series,
    failure_alerts,
    load_snapshot,
    per_action,
)
from app.marketplace.tables import stats as stats_table
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.ui.context import UiContext
from app.ui.failure_alert import ALERT_MIN_JOBS, DEFAULT_ALERT
from app.ui.relay import EventRelay
from app.ui.stats_page import StatsPage

TARGET_MS = 30.0
SIZE = (1200, 760)


def seed(db: Database, days: int, rng: random.Random) -> int:
    """Stats rows for every action type of every marketplace on each of ``days`` days."""
    today = utcnow().date()
    with db.bind().begin() as conn:
        actions = conn.execute(
            select(MarketplaceActionType.id, MarketplaceActionType.marketplace)
        ).all()
        rows: list[dict[str, Any]] = []
        for n in range(days):
            day = today - timedelta(days=n)
            for action_id, marketplace in actions:
                total = rng.randint(1, 40)
                failures = sum(rng.random() < 0.2 for _ in range(total))
                duration = sum(rng.randint(200, 5000) for _ in range(total))
                rows.append(
                    {
                        "action_type_id": action_id,
                        "marketplace": marketplace,
                        "date": day,
                        "total_jobs": total,
                        "success_count": total - failures,
                        "failure_count": failures,
                        "total_duration_ms": duration,
                        "avg_duration_ms": duration / total,
                    }
                )
        conn.execute(insert(stats_table), rows)
    return len(rows)


def timed(fn: Callable[[], object], warmup: int, repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> str:
    """Median, p90 and max of ``times`` (ms)."""
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"median {statistics.median(ordered):7.2f} ms  p90 {p90:7.2f} ms  max {ordered[-1]:7.2f} ms"
    )


def queries(db: Database, query: StatsQuery, warmup: int, repeat: int) -> dict[str, list[float]]:
    """Times of the snapshot and of each grouped query alone."""
    today = query.end
    snapshot = timed(
        lambda: load_snapshot(db, 1, query, threshold=DEFAULT_ALERT, since=today),
        warmup,
        repeat,
    )
    results = {"load_snapshot (all three, one transaction)": snapshot}
    with db.bind(readonly=True).connect() as conn, conn.begin():
        results["daily_series"] = timed(lambda: daily_series(conn, query), warmup, repeat)
        results["per_action"] = timed(lambda: per_action(conn, query), warmup, repeat)
        results["failure_alerts"] = timed(
            lambda: failure_alerts(conn, DEFAULT_ALERT, today, ALERT_MIN_JOBS), warmup, repeat
        )
    return results


def redraws(
    app: QApplication, page: StatsPage, snapshots: list[StatsSnapshot], warmup: int, repeat: int
) -> dict[str, list[float]]:
    """Times of one redraw, alternating between the snapshots, for each way of timing it."""
    turn = [0]

    def next_snapshot() -> StatsSnapshot:
        turn[0] += 1
        return snapshots[turn[0] % len(snapshots)]

    def set_data() -> None:
        page.draw(next_snapshot())

    def frame() -> None:
        page.draw(next_snapshot())
        page.repaint()
        app.processEvents()

    def grab() -> None:
        page.draw(next_snapshot())
        page.grab()

    results: dict[str, list[float]] = {}
    for name, fn in (("setData only", set_data), ("frame", frame), ("grab", grab)):
        results[name] = timed(fn, warmup, repeat)
        app.processEvents()  # nothing of one way left over for the next
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.ui_chart",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--days", type=int, default=365, help="days of stats (default 365)")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the stats")
    parser.add_argument(
        "--dir", default=None, help="where the temporary files go (default: system temp)"
    )
    args = parser.parse_args(argv)
    if args.days < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--days and --repeat must be at least 1, --warmup at least 0")
    return args


def main(argv: list[str] | None = None) -> None:
    """Set up, measure, print."""
    args = parse_args(argv)
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    print(
        f"Stats page: 3 marketplaces x {args.days} days; Python {platform.python_version()}, "
        f"PySide6 {pyside_version}, pyqtgraph {pg.__version__}, "
        f"Qt platform {app.platformName()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ui-chart-", dir=args.dir) as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        db.migrate()
        rows = seed(db, args.days, random.Random(args.seed))
        today = utcnow().date()
        query = StatsQuery.last_days(args.days, today)
        print(f"{rows} stats rows; range {query.start} .. {query.end}", flush=True)

        query_times = queries(db, query, args.warmup, args.repeat)

        first = load_snapshot(db, 1, query, threshold=DEFAULT_ALERT, since=today)
        service = MarketplaceJobService(db)
        job = service.create_job("ebay", "sync")
        service.update_job_stats(job, False, 60_000, "ebay")
        second = load_snapshot(db, 1, query, threshold=DEFAULT_ALERT, since=today)

        settings = QSettings(str(Path(folder) / "window.ini"), QSettings.Format.IniFormat)
        relay = EventRelay(db.events)
        page = StatsPage(UiContext(db, relay, settings))
        page.resize(*SIZE)
        page.show()
        page.draw(first)
        app.processEvents()
        points = sum(len(c.getData()[0]) for c in page.success_curves.values())
        draw_times = redraws(app, page, [first, second], args.warmup, args.repeat)
        page.close()
        relay.close()
        db.close()

    print(f"\nQuery ({args.repeat} runs after {args.warmup} warm-up runs)")
    for name, times in query_times.items():
        print(f"  {name:<44} {summary(times)}")
    print(
        f"\nRedraw of the page, {SIZE[0]}x{SIZE[1]}, {points} points on the success chart "
        f"({args.repeat} runs after {args.warmup} warm-up runs)"
    )
    for name, times in draw_times.items():
        print(f"  {name:<44} {summary(times)}")
    frame = statistics.median(draw_times["frame"])
    verdict = "meets" if frame <= TARGET_MS else "MISSES"
    print(f"\nframe median {frame:.2f} ms (target <= {TARGET_MS:.0f} ms: {verdict})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
