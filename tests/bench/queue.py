"""Queue throughput: Marketdesk's JobRunner against huey's SqliteHuey and a raw SQLite floor.

Run it from the project root::

    python -m tests.bench.queue [--jobs N] [--repeat R] [--concurrency C] [--huey-workers W]
                                [--batch] [--only marketdesk,huey,raw] [--dir PATH]

What is measured
----------------
Jobs per second of draining a queue of ``N`` no-op jobs that were all enqueued before the
clock starts, for three queues, each on a fresh SQLite file in a fresh temporary directory
(on disk, not tmpfs; ``--dir`` picks another place) and all at the same durability:
``journal_mode=WAL`` and ``synchronous=NORMAL`` (checked with ``PRAGMA`` on each system's own
connection and printed). A run is only counted once the database confirms that exactly ``N``
jobs finished.

1. **Marketdesk** - ``Database(url).migrate()``, ``N`` jobs created with
   ``MarketplaceJobService.create_job`` (account-level ``sync`` on eBay, distinct
   idempotency keys; with ``--batch``, ``create_batch`` over ``N`` products instead, which
   adds the per-product ordering checks and the batch counters to the path). Timed: a
   ``JobRunner(MarketplaceJobProcessor(db, handlers={"sync_ebay": NoopHandler}),
   concurrency={"ebay": C, others 0}, apply_rate_limits=False)`` from ``run()`` until the
   ``N``-th ``JobChanged(status="completed")`` event (published after the commit that made
   the job completed); then the runner is stopped. That is the production code path: batch
   claims with leases, lease keeper, handler built per job, group-committed outcomes
   (``OutcomeWriter``) with the stats upsert in the same transaction, events.
   ``NoopHandler.execute`` returns ``{"success": True}``. Verified afterwards: the
   ``completed`` count from ``count_by_status`` and the stats row's ``total_jobs`` are ``N``.
   ``C`` defaults to 256, the best of a sweep over 64..512 on a 2-core machine: the runner
   claims up to ``C`` jobs per transaction and the outcome writer commits the ones that
   finish together, so throughput grows with ``C`` until it flattens (64 gives about 85%).
2. **huey** (the version installed) - ``SqliteHuey`` whose storage adds
   ``PRAGMA synchronous=NORMAL`` to huey's own connection set-up (huey already opens the
   file in WAL; its ``fsync`` option only knows FULL or OFF, so a three-line subclass of
   ``SqliteStorage`` is the only change). ``N`` calls of a ``@huey.task()`` returning
   ``{"success": True}`` are enqueued, then huey's own ``Consumer`` (``W`` thread workers,
   default 1, the best and steadiest of 1, 2 and 4 here: huey's SQLite storage runs every
   statement on one shared connection behind a lock, so extra threads only add lock and GIL
   hand-offs, and 2 workers measured anywhere between a third of and just above 1 worker;
   ``periodic=False``) is started in process and timed until the ``N``-th
   ``SIGNAL_COMPLETE`` (emitted after the result was stored). Verified afterwards: the task
   table is empty and the result store holds ``N`` results. This is huey as it is deployed,
   with its real worker loop: per task a dequeue transaction (select + delete), the revoke
   check, and a result-store write, so like Marketdesk it durably records that each task
   ran and what it returned. It keeps no leases, retries state, stats or per-job history
   (a dequeued task is deleted; a crash mid-task loses it), so it does strictly less work
   per job than Marketdesk; it is the popular "small durable queue on SQLite" peer.
3. **Raw floor** - a migrated Marketdesk file with ``N`` jobs created the same way, drained
   by one thread with the stdlib ``sqlite3`` module (no ORM, statements cached by the
   driver, the handler is a direct call): per job one ``BEGIN IMMEDIATE`` transaction that
   claims with ``UPDATE ... SET status='running', lease... WHERE id = (SELECT id ... ORDER
   BY priority, id LIMIT 1) RETURNING ...`` and one that writes the guarded ``completed``
   UPDATE plus the ``INSERT ... ON CONFLICT DO UPDATE`` of ``marketplace_job_stats``.
   That is the least SQL a leased queue with stats issues when it takes one job at a time
   on this schema; a worker that claims and commits several jobs per transaction, as
   Marketdesk's runner does, is not bound by it.

Every repeat runs the three once each, rotating their order so that none always runs
first or last on a noisy machine; the median of the repeats is reported, with the ratios
Marketdesk/huey (issue target >= 1.2) and Marketdesk/raw floor (target >= 0.8) and a
markdown row for the README. ``--only`` runs a subset (no ratios then), e.g. while
working on the runner: ``--only marketdesk``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import platform
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

MARKETPLACE = "ebay"
ACTION = "sync"
HANDLER_KEY = f"{ACTION}_{MARKETPLACE}"
TARGET_VS_HUEY = 1.2
TARGET_VS_RAW = 0.8


@dataclass
class Measure:
    """One timed drain of a queue."""

    system: str
    jobs: int
    seconds: float
    settings: str

    @property
    def rate(self) -> float:
        """Jobs per second."""
        return self.jobs / self.seconds


def timeout_for(n: int) -> float:
    """A generous bound on one drain, so that a stuck queue fails instead of hanging."""
    return 60.0 + n / 20


@contextlib.contextmanager
def fresh_file(root: str | None, name: str) -> Iterator[Path]:
    """A new, empty directory for one SQLite file (WAL and SHM files go next to it)."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=root) as tmp:
        yield Path(tmp) / f"{name}.sqlite3"


def pragmas(conn: sqlite3.Connection) -> str:
    """The durability settings a connection actually runs with."""
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
        conn.execute("PRAGMA synchronous").fetchone()[0]
    ]
    return f"journal_mode={mode} synchronous={sync}"


# -- Marketdesk ---------------------------------------------------------------------------
def marketdesk_db(path: Path, n: int, batch: bool) -> Any:
    """A migrated Marketdesk database holding ``n`` pending no-op jobs."""
    from app.db import Database
    from app.marketplace.marketplace_job_service import MarketplaceJobService
    from app.models import Product

    db = Database(f"sqlite:///{path}")
    db.migrate()
    service = MarketplaceJobService(db)
    if batch:
        with db.session() as session, session.begin():
            products = [Product(title=f"Bench item {i}", price=Decimal("1.00")) for i in range(n)]
            session.add_all(products)
            session.flush()
            product_ids = [p.id for p in products]
        service.create_batch(MARKETPLACE, "publish", product_ids)
    else:
        for i in range(n):
            service.create_job(MARKETPLACE, ACTION, idempotency_key=f"bench-{i}")
    return db


def marketdesk_handler_key(batch: bool) -> str:
    """The registry key of the action the bench queues."""
    return f"publish_{MARKETPLACE}" if batch else HANDLER_KEY


def make_noop_handler() -> type:
    """The no-op ``BaseJobHandler`` (built lazily so importing this module stays cheap)."""
    from app.marketplace.base_handler import BaseJobHandler

    class NoopHandler(BaseJobHandler):
        """Does nothing and succeeds."""

        marketplace = MARKETPLACE
        action_code = ACTION

        async def execute(self, job: Any) -> dict[str, Any]:
            return {"success": True}

    return NoopHandler


async def drain_marketdesk(db: Any, n: int, concurrency: int, handler_key: str) -> float:
    """Run a JobRunner until ``n`` jobs completed; returns the seconds it took."""
    from app.events import Event, JobChanged
    from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
    from app.marketplace.runner import JobRunner

    processor = MarketplaceJobProcessor(db, handlers={handler_key: make_noop_handler()})
    limits = {"vinted": 0, "ebay": 0, "etsy": 0, MARKETPLACE: concurrency}
    runner = JobRunner(processor, concurrency=limits, apply_rate_limits=False)
    completed = 0
    finished_at: float | None = None

    def on_event(event: Event) -> None:
        nonlocal completed, finished_at
        if isinstance(event, JobChanged) and event.status == "completed":
            completed += 1
            if completed == n:
                finished_at = time.perf_counter()
                runner.stop()

    unsubscribe = db.events.subscribe(on_event)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(runner.run(), timeout=timeout_for(n))
    finally:
        unsubscribe()
    if finished_at is None:
        raise RuntimeError(f"Marketdesk stopped after {completed} of {n} jobs")
    return finished_at - started


def bench_marketdesk(root: str | None, n: int, concurrency: int, batch: bool) -> Measure:
    """Measure Marketdesk's runner on a fresh file."""
    from app.marketplace.marketplace_job_service import MarketplaceJobService

    with fresh_file(root, "marketdesk") as path:
        db = marketdesk_db(path, n, batch)
        try:
            with db.engine.connect() as conn:
                settings = pragmas(conn.connection.dbapi_connection)
                conn.rollback()
            gc.collect()
            seconds = asyncio.run(
                drain_marketdesk(db, n, concurrency, marketdesk_handler_key(batch))
            )
            counts = MarketplaceJobService(db).count_by_status(MARKETPLACE)
            stats_total = sum(row.total_jobs for row in MarketplaceJobService(db).get_stats(days=2))
        finally:
            db.close()
    if counts["completed"] != n or stats_total != n:
        raise RuntimeError(
            f"Marketdesk: expected {n} completed jobs, db says {counts}, stats {stats_total}"
        )
    return Measure("marketdesk", n, seconds, f"{settings}, concurrency {concurrency}")


# -- huey ---------------------------------------------------------------------------------
def make_huey(path: Path) -> Any:
    """A SqliteHuey on ``path`` at synchronous=NORMAL, with one no-op task."""
    from huey import SqliteHuey
    from huey.storage import SqliteStorage

    class NormalSyncSqliteStorage(SqliteStorage):
        """huey's SQLite storage (WAL by default) with ``synchronous=NORMAL`` added."""

        def _create_connection(self) -> sqlite3.Connection:
            conn: sqlite3.Connection = super()._create_connection()
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

    class BenchHuey(SqliteHuey):
        storage_class = NormalSyncSqliteStorage

    huey = BenchHuey("bench", filename=str(path), journal_mode="wal")

    @huey.task()
    def noop(i: int) -> dict[str, Any]:
        return {"success": True}

    huey.bench_task = noop
    return huey


@contextlib.contextmanager
def kept_signal_handlers() -> Iterator[None]:
    """huey's Consumer.start() installs process signal handlers; put ours back after."""
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    saved = {
        name: signal.getsignal(getattr(signal, name)) for name in names if hasattr(signal, name)
    }
    try:
        yield
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)


def bench_huey(root: str | None, n: int, workers: int) -> Measure:
    """Measure huey's consumer on a fresh file."""
    from huey.consumer import Consumer
    from huey.signals import SIGNAL_COMPLETE

    with fresh_file(root, "huey") as path:
        huey = make_huey(path)
        for i in range(n):
            huey.bench_task(i)
        if huey.storage.queue_size() != n:
            raise RuntimeError("huey: the tasks were not all enqueued")
        settings = pragmas(huey.storage.conn)
        lock = threading.Lock()
        all_done = threading.Event()
        completed = 0
        finished_at = 0.0

        @huey.signal(SIGNAL_COMPLETE)
        def on_complete(signal_name: str, task: Any, *args: Any) -> None:
            nonlocal completed, finished_at
            with lock:
                completed += 1
                if completed == n:
                    finished_at = time.perf_counter()
                    all_done.set()

        consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=False)
        gc.collect()
        with kept_signal_handlers():
            started = time.perf_counter()
            consumer.start()
            ok = all_done.wait(timeout_for(n))
            consumer.stop(graceful=True)
        left, results = huey.storage.queue_size(), huey.storage.result_store_size()
        huey.storage.close()
    if not ok or left or results != n:
        raise RuntimeError(
            f"huey: {completed} completed, {left} left in the queue, {results} results"
        )
    return Measure("huey", n, finished_at - started, f"{settings}, {workers} thread worker(s)")


# -- raw SQLite floor ---------------------------------------------------------------------
CLAIM_SQL = """
UPDATE marketplace_jobs
   SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
       started_at = coalesce(started_at, ?), updated_at = ?
 WHERE id = (SELECT id FROM marketplace_jobs
              WHERE status = 'pending' AND marketplace = ? AND run_at <= ?
                AND (expires_at IS NULL OR expires_at > ?)
              ORDER BY priority, id LIMIT 1)
   AND status = 'pending'
RETURNING id, action_type_id, marketplace, attempts, input_data
"""

COMPLETE_SQL = """
UPDATE marketplace_jobs
   SET status = 'completed', lease_owner = NULL, lease_until = NULL, result_data = ?,
       error_message = NULL, duration_ms = ?, completed_at = ?, updated_at = ?
 WHERE id = ? AND status = 'running' AND lease_owner = ? AND attempts = ?
   AND cancel_requested = 0
RETURNING id
"""

STATS_SQL = """
INSERT INTO marketplace_job_stats
       (action_type_id, marketplace, date, total_jobs, success_count, failure_count,
        total_duration_ms, avg_duration_ms, created_at, updated_at)
VALUES (?, ?, ?, 1, 1, 0, ?, ?, ?, ?)
ON CONFLICT (action_type_id, marketplace, date) DO UPDATE SET
       total_jobs = total_jobs + excluded.total_jobs,
       success_count = success_count + excluded.success_count,
       failure_count = failure_count + excluded.failure_count,
       total_duration_ms = total_duration_ms + excluded.total_duration_ms,
       avg_duration_ms = CAST(total_duration_ms + excluded.total_duration_ms AS REAL)
                         / (total_jobs + excluded.total_jobs),
       updated_at = excluded.updated_at
"""


def sql_time(moment: datetime) -> str:
    """A UTC time as SQLAlchemy stores it in SQLite (naive, microseconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def noop(job_input: Any) -> dict[str, Any]:
    """The raw floor's handler."""
    return {"success": True}


def drain_raw(path: Path, n: int, handler: Callable[[Any], dict[str, Any]]) -> int:
    """Claim, run and complete jobs one by one until none is pending; returns how many."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        execute = conn.execute
        owner = "raw-floor:1"
        done = 0
        while True:
            now = datetime.now(UTC)
            stamp = sql_time(now)
            execute("BEGIN IMMEDIATE")
            row = execute(
                CLAIM_SQL,
                (
                    owner,
                    sql_time(now + timedelta(seconds=30)),
                    stamp,
                    stamp,
                    MARKETPLACE,
                    stamp,
                    stamp,
                ),
            ).fetchone()
            execute("COMMIT")
            if row is None:
                return done
            job_id, action_type_id, marketplace, attempts, job_input = row
            started = time.monotonic()
            result = handler(job_input)
            duration_ms = int((time.monotonic() - started) * 1000)
            now = datetime.now(UTC)
            stamp = sql_time(now)
            execute("BEGIN IMMEDIATE")
            written = execute(
                COMPLETE_SQL,
                (json.dumps(result), duration_ms, stamp, stamp, job_id, owner, attempts),
            ).fetchone()
            if written is not None:
                execute(
                    STATS_SQL,
                    (
                        action_type_id,
                        marketplace,
                        now.date().isoformat(),
                        duration_ms,
                        float(duration_ms),
                        stamp,
                        stamp,
                    ),
                )
                done += 1
            execute("COMMIT")
    finally:
        conn.close()


def bench_raw(root: str | None, n: int, batch: bool) -> Measure:
    """Measure the raw sqlite3 floor on a fresh, migrated file."""
    with fresh_file(root, "raw") as path:
        marketdesk_db(path, n, batch).close()
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA synchronous=NORMAL")
        settings = pragmas(conn)
        conn.close()
        gc.collect()
        started = time.perf_counter()
        done = drain_raw(path, n, noop)
        seconds = time.perf_counter() - started
        conn = sqlite3.connect(path)
        completed = conn.execute(
            "SELECT count(*) FROM marketplace_jobs WHERE status = 'completed'"
        ).fetchone()[0]
        stats_total = conn.execute("SELECT sum(total_jobs) FROM marketplace_job_stats").fetchone()[
            0
        ]
        conn.close()
    if not done == completed == stats_total == n:
        raise RuntimeError(f"raw floor: {done} drained, {completed} completed, stats {stats_total}")
    return Measure("raw", n, seconds, f"{settings}, 1 thread, stdlib sqlite3")


# -- report -------------------------------------------------------------------------------
SYSTEMS = ("marketdesk", "huey", "raw")
LABELS = {"marketdesk": "Marketdesk", "huey": "huey SqliteHuey", "raw": "raw sqlite3 floor"}


def run(args: argparse.Namespace) -> dict[str, list[Measure]]:
    """All repeats of all three systems."""
    benches: dict[str, Callable[[], Measure]] = {
        "marketdesk": lambda: bench_marketdesk(args.dir, args.jobs, args.concurrency, args.batch),
        "huey": lambda: bench_huey(args.dir, args.jobs, args.huey_workers),
        "raw": lambda: bench_raw(args.dir, args.jobs, args.batch),
    }
    systems = tuple(name for name in SYSTEMS if name in args.only)
    results: dict[str, list[Measure]] = {name: [] for name in systems}
    for r in range(args.repeat):
        shift = r % len(systems)
        for name in systems[shift:] + systems[:shift]:
            measure = benches[name]()
            results[name].append(measure)
            print(
                f"  repeat {r + 1}/{args.repeat}  {LABELS[name]:<18} {measure.rate:9.0f} jobs/s "
                f"({measure.seconds:.3f} s; {measure.settings})",
                flush=True,
            )
    return results


def report(args: argparse.Namespace, results: dict[str, list[Measure]]) -> None:
    """Print medians, ratios against the targets, and the README row."""
    median = {
        name: statistics.median(m.rate for m in measures) for name, measures in results.items()
    }
    print()
    for name, measures in results.items():
        rates = ", ".join(f"{m.rate:.0f}" for m in measures)
        print(f"{LABELS[name]:<18} median {median[name]:9.0f} jobs/s   (repeats: {rates})")
    print()
    if len(results) < len(SYSTEMS):
        return
    vs_huey = median["marketdesk"] / median["huey"]
    vs_raw = median["marketdesk"] / median["raw"]
    verdict = {True: "meets", False: "MISSES"}
    print(
        f"Marketdesk / huey      = {vs_huey:.2f}x  (target >= {TARGET_VS_HUEY}x: "
        f"{verdict[vs_huey >= TARGET_VS_HUEY]})"
    )
    print(
        f"Marketdesk / raw floor = {vs_raw:.2f}x  (target >= {TARGET_VS_RAW}x: "
        f"{verdict[vs_raw >= TARGET_VS_RAW]})"
    )
    print()
    shape = "batch over products" if args.batch else "no-op jobs"
    print("README row (columns: workload | Marketdesk | huey | raw floor | vs huey | vs raw):")
    print(
        f"| {args.jobs} {shape}, SQLite WAL + synchronous=NORMAL, median of {args.repeat} "
        f"| {median['marketdesk']:.0f} jobs/s | {median['huey']:.0f} jobs/s "
        f"| {median['raw']:.0f} jobs/s | {vs_huey:.2f}x | {vs_raw:.2f}x |"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.queue",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--jobs", type=int, default=2000, help="jobs per run (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each system (default 3)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=256,
        help="Marketdesk runner slots for the marketplace (default 256)",
    )
    parser.add_argument(
        "--huey-workers", type=int, default=1, help="huey consumer thread workers (default 1)"
    )
    parser.add_argument(
        "--batch", action="store_true", help="create the jobs with create_batch over N products"
    )
    parser.add_argument(
        "--dir", default=None, help="where the temporary files go (default: system temp)"
    )
    parser.add_argument(
        "--only",
        default=",".join(SYSTEMS),
        help="comma-separated subset of marketdesk,huey,raw (default: all three)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.repeat < 1 or args.concurrency < 1 or args.huey_workers < 1:
        parser.error("--jobs, --repeat, --concurrency and --huey-workers must be at least 1")
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not args.only or args.only - set(SYSTEMS):
        parser.error(f"--only takes names among {', '.join(SYSTEMS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    import huey
    import sqlalchemy

    print(
        f"Queue throughput: {args.jobs} jobs x {args.repeat} repeat(s); Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, SQLAlchemy {sqlalchemy.__version__}, huey {huey.__version__}"
    )
    results = run(args)
    report(args, results)


if __name__ == "__main__":
    main(sys.argv[1:])
