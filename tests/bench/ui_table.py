"""Jobs table: the lazy JobsPage against a QTableWidget filled with every row.

Run it from the project root::

    python -m tests.bench.ui_table [--jobs N] [--repeat R] [--dir PATH]

What is measured
----------------
One fresh SQLite file (``Database(url).migrate()``, WAL) is filled once with ``N`` jobs
(default 100,000; 1,000 products; the three marketplaces and their seeded actions in
turn; 70% completed, 10% failed with an error message, the rest pending, paused,
cancelled or expired) by Core ``executemany`` inserts, outside any clock. Each
measurement then runs in a process of its own (``--child``), so that neither inherits
the other's memory or caches; both start from the same state: a ``QApplication`` on the
offscreen platform, a qasync event loop, the ``Database`` with one connection opened and
closed, every module imported. Timed, with ``time.perf_counter``:

1. **JobsPage** - from ``JobsPage(ctx)`` (which creates the ``JobsTableModel``) through
   ``resize(1100, 720)``, ``show()`` and ``await page.refresh()`` (action list, the
   ``N`` ids of the empty filter, model reset) until the rows the table shows (row 0 to
   ``rowAt(viewport height - 1)``) have their data, which the model reads in chunks of
   200 from the database thread once the view paints them, plus one synchronous
   ``viewport().repaint()`` that draws them.
2. **QTableWidget** - from creating the widget through reading every row with the same
   query (``job_queries.all_job_rows``: the join and columns of ``job_rows``, newest
   first), ``setRowCount(N)``, one ``QTableWidgetItem`` per cell (9 columns, the same
   texts as the model, the status coloured), with updates off while filling, then
   ``resize``, ``show()`` and the same synchronous repaint.

Memory: resident set size growth (``/proc/self/statm``) from just before the clock
starts to the moment it stops, with the page or widget still alive. Every repeat runs
both children, alternating which goes first; medians are reported with the ratio
QTableWidget / JobsPage. Targets (the issue): first rows within 0.3 s, at least 10x
faster than the QTableWidget, RSS growth under 50 MB.

"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 0.3
TARGET_RATIO = 10.0
TARGET_MB = 50.0
WIDTH, HEIGHT = 1100, 720
KINDS = ("page", "widget")
LABELS = {"page": "JobsPage (lazy model)", "widget": "QTableWidget (all rows)"}


@dataclass
class Measure:
    """One child's result."""

    kind: str
    seconds: float
    rss_mb: float
    rows: int
    visible: int


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- the database -------------------------------------------------------------------------
STATUS_CYCLE = ["completed"] * 7 + ["failed", "pending", "cancelled", "paused", "expired"]


def build(path: Path, n: int) -> None:
    """A migrated file with ``n`` jobs (not timed)."""
    from sqlalchemy import insert, select

    from app.db import Database
    from app.marketplace.job_queries import action_types
    from app.marketplace.tables import jobs
    from app.models.user.product import Product

    db = Database(f"sqlite:///{path}")
    db.migrate()
    now = datetime.now(UTC)
    with db.bind().begin() as conn:
        actions = [tuple(r) for r in conn.execute(select(action_types.c.id, action_types.c.code))]
        actions.sort()
        conn.execute(
            insert(Product),
            [{"title": f"Bench item {i}", "price": 9, "created_at": now} for i in range(1000)],
        )
        rows: list[dict[str, Any]] = []
        marketplaces = {
            r[0]: r[1] for r in conn.execute(select(action_types.c.id, action_types.c.marketplace))
        }
        for i in range(n):
            action_id, code = actions[i % len(actions)]
            status = STATUS_CYCLE[(i * 7) % len(STATUS_CYCLE)]
            created = now - timedelta(seconds=n - i)
            rows.append(
                {
                    "marketplace": marketplaces[action_id],
                    "action_type_id": action_id,
                    "product_id": (i % 1000) + 1 if code in ("publish", "update") else None,
                    "idempotency_key": f"bench-{i}",
                    "status": status,
                    "cancel_requested": status == "cancelled",
                    "priority": 1 + i % 4,
                    "input_data": {"n": i},
                    "result_data": {"success": True} if status == "completed" else None,
                    "error_message": (
                        f"listing rejected: title too long ({i})\nHTTP 400 from the API"
                        if status == "failed"
                        else None
                    ),
                    "retry_count": 3 if status == "failed" else 0,
                    "max_retries": 3,
                    "attempts": 4 if status == "failed" else 1,
                    "run_at": created,
                    "duration_ms": 100 + i % 900,
                    "created_at": created,
                    "updated_at": created + timedelta(seconds=1),
                }
            )
            if len(rows) == 10_000:
                conn.execute(insert(jobs), rows)
                rows = []
        if rows:
            conn.execute(insert(jobs), rows)
    db.close()


# -- the two children ---------------------------------------------------------------------
def child(kind: str, path: Path) -> Measure:
    """Set up Qt, qasync and the database, then time one of the two."""
    import asyncio

    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QHeaderView, QTableWidget, QTableWidgetItem

    from app.db import Database
    from app.marketplace.job_queries import all_job_rows
    from app.ui.context import UiContext
    from app.ui.jobs_model import COLUMNS, STATUS_COLOURS, STATUS_COLUMN, display
    from app.ui.jobs_page import JobsPage
    from app.ui.relay import EventRelay

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    db = Database(f"sqlite:///{path}")
    with db.bind(readonly=True).connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    settings_dir = tempfile.mkdtemp(prefix="bench-ui-settings-")
    settings = QSettings(str(Path(settings_dir) / "w.ini"), QSettings.Format.IniFormat)
    ctx = UiContext(db, EventRelay(db.events), settings)
    keep: list[Any] = []

    async def page() -> Measure:
        before, started = rss_bytes(), time.perf_counter()
        page = JobsPage(ctx)
        keep.append(page)
        page.resize(WIDTH, HEIGHT)
        page.show()
        await page.refresh()
        view, model = page.table, page.model
        deadline = started + 30
        while True:
            last = view.rowAt(view.viewport().height() - 1)
            last = model.rowCount() - 1 if last < 0 else last
            if model.is_loaded(0, last):
                break
            if time.perf_counter() > deadline:
                raise RuntimeError("the first rows never arrived")
            await asyncio.sleep(0.001)
        view.viewport().repaint()
        seconds = time.perf_counter() - started
        grown = rss_bytes() - before
        if model.data(model.index(last, 1)) in (None, "…"):
            raise RuntimeError("the last visible row shows no data")
        await ctx.drain()
        return Measure("page", seconds, grown / 2**20, model.rowCount(), last + 1)

    def widget() -> Measure:
        before, started = rss_bytes(), time.perf_counter()
        table = QTableWidget()
        keep.append(table)
        table.setUpdatesEnabled(False)
        table.setSortingEnabled(False)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        with db.bind(readonly=True).connect() as conn:
            rows = all_job_rows(conn)
        table.setColumnCount(len(COLUMNS))
        table.setHorizontalHeaderLabels(list(COLUMNS))
        table.setRowCount(len(rows))
        for r, job in enumerate(rows):
            for c in range(len(COLUMNS)):
                item = QTableWidgetItem(str(display(job, c)))
                if c == STATUS_COLUMN:
                    item.setForeground(STATUS_COLOURS[job.status])
                table.setItem(r, c, item)
        table.setUpdatesEnabled(True)
        table.resize(WIDTH, HEIGHT)
        table.show()
        table.viewport().repaint()
        seconds = time.perf_counter() - started
        grown = rss_bytes() - before
        last = table.rowAt(table.viewport().height() - 1)
        return Measure("widget", seconds, grown / 2**20, table.rowCount(), last + 1)

    try:
        if kind == "page":
            return loop.run_until_complete(page())
        return widget()
    finally:
        ctx.relay.close()
        db.close()


def run_child(kind: str, path: Path) -> Measure:
    """One measurement in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.ui_table", "--child", kind, "--db", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{done.stdout}\n{done.stderr}")
    return Measure(**json.loads(done.stdout.strip().splitlines()[-1]))


# -- report -------------------------------------------------------------------------------
def report(n: int, results: dict[str, list[Measure]]) -> None:
    """Medians, ratios and verdicts."""
    seconds = {k: statistics.median(m.seconds for m in ms) for k, ms in results.items()}
    memory = {k: statistics.median(m.rss_mb for m in ms) for k, ms in results.items()}
    ratio = seconds["widget"] / seconds["page"]
    verdict = {True: "meets", False: "MISSES"}
    print()
    print(f"| {n:,} jobs, median of {len(results['page'])} | first rows shown | RSS growth |")
    print("|---|---:|---:|")
    for kind in KINDS:
        print(f"| {LABELS[kind]} | {seconds[kind]:.3f} s | {memory[kind]:.1f} MB |")
    print(
        f"| ratio QTableWidget / JobsPage | {ratio:.1f}x | "
        f"{memory['widget'] / max(memory['page'], 0.1):.1f}x |"
    )
    print()
    print(
        f"JobsPage first rows   {seconds['page']:.3f} s  (target <= {TARGET_SECONDS} s: "
        f"{verdict[seconds['page'] <= TARGET_SECONDS]})"
    )
    print(
        f"Speed-up vs widget    {ratio:.1f}x     (target >= {TARGET_RATIO:.0f}x: "
        f"{verdict[ratio >= TARGET_RATIO]})"
    )
    print(
        f"JobsPage RSS growth   {memory['page']:.1f} MB  (target < {TARGET_MB:.0f} MB: "
        f"{verdict[memory['page'] < TARGET_MB]})"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.ui_table",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--dir", default=None, help="where the temporary file goes")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1:
        parser.error("--jobs and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        measure = child(args.child, args.db)
        print(json.dumps(measure.__dict__), flush=True)
        return
    import PySide6
    import sqlalchemy

    print(
        f"Jobs table: {args.jobs:,} jobs x {args.repeat} repeat(s); Python "
        f"{platform.python_version()}, PySide6 {PySide6.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-ui-table-", dir=args.dir) as tmp:
        path = Path(tmp) / "jobs.sqlite3"
        started = time.perf_counter()
        build(path, args.jobs)
        print(f"  built {args.jobs:,} jobs in {time.perf_counter() - started:.1f} s (not timed)")
        results: dict[str, list[Measure]] = {kind: [] for kind in KINDS}
        for r in range(args.repeat):
            order = KINDS if r % 2 == 0 else tuple(reversed(KINDS))
            for kind in order:
                m = run_child(kind, path)
                if m.rows != args.jobs:
                    raise RuntimeError(f"{kind}: {m.rows} rows shown, expected {args.jobs}")
                results[kind].append(m)
                print(
                    f"  repeat {r + 1}/{args.repeat}  {LABELS[kind]:<24} {m.seconds:8.3f} s  "
                    f"RSS +{m.rss_mb:7.1f} MB  ({m.visible} rows visible)",
                    flush=True,
                )
    report(args.jobs, results)


if __name__ == "__main__":
    main(sys.argv[1:])
