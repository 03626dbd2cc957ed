"""Queue throughput on PostgreSQL: Marketdesk's JobRunner against procrastinate, 1 to 4 processes.

Run it from the project root::

    python -m tests.bench.postgres [--jobs N] [--repeat R] [--workers 1,2,4]
                                   [--concurrency C] [--procrastinate-concurrency P]
                                   [--only marketdesk,procrastinate]

What is measured
----------------
Jobs per second of draining a queue of ``N`` no-op jobs, all enqueued before the clock
starts, by ``K`` worker processes (``K`` = 1, 2 and 4 by default), for two PostgreSQL
queues. One private throwaway cluster (``tests/support/pg.py``: PostgreSQL from Debian,
loopback TCP, ``fsync=off``, ``synchronous_commit=on``; the same server for both systems)
serves the whole run; every measurement gets a fresh database, which is vacuumed and
analysed and followed by a ``CHECKPOINT`` once its jobs are in (not timed), so that neither
system meets autovacuum or a checkpoint that the other was spared. The server runs on the
same machine as the workers and shares its cores with them.

1. **Marketdesk** - ``Database(url).migrate()``, then ``N`` jobs created with
   ``MarketplaceJobService.create_job`` (account-level ``sync`` on eBay, distinct
   idempotency keys). Each worker process (``python -m tests.bench.postgres --worker
   marketdesk ...``) runs ``JobRunner(MarketplaceJobProcessor(db, handlers={"sync_ebay":
   NoopHandler}), concurrency={"ebay": C, others 0}, apply_rate_limits=False)`` with the
   runner's production defaults otherwise: batch claims with ``FOR UPDATE SKIP LOCKED``
   and leases, the lease keeper, a handler built per job, group-committed outcomes with
   the stats upsert in the same transaction, LISTEN/NOTIFY wake-ups, events. A watcher in
   each worker stops its runner once no job is pending or running any more (checked every
   0.1 s), so the workers exit when the queue is empty. Verified afterwards:
   ``count_by_status`` says ``N`` completed and the stats rows add up to ``N``.
2. **procrastinate** (the version installed) - an ``App`` on its ``PsycopgConnector``
   (psycopg 3 async pool of ``P + 2`` connections, all opened before the start), its schema
   applied with ``schema_manager``, ``N`` calls of an ``async`` no-op task deferred with
   ``batch_defer``. Each worker process runs procrastinate's own worker,
   ``app.run_worker_async(concurrency=P, wait=False)`` (otherwise its defaults: LISTEN/NOTIFY,
   heartbeats, jobs kept), which exits once it finds the queue empty. Verified afterwards:
   ``procrastinate_jobs`` holds ``N`` jobs, all ``succeeded``. procrastinate fetches one
   job per statement and finishes each with another; it keeps a job row with its status and
   events, but no result, no stats and no lease (the jobs of a crashed worker are found
   with ``get_stalled_jobs`` through its missing heartbeat, by a task one schedules), so
   it writes less per job than Marketdesk does.

Timing. All ``K`` processes are started, import everything, connect (Marketdesk opens the
connections its database threads will use; procrastinate opens its pool) and print
``ready``; process start-up is not measured. The parent then takes the time and writes
``go`` to each one's standard input. Each worker notes (``time.monotonic``, the system-wide
``CLOCK_MONOTONIC`` on Linux, so comparable across processes) when its last job finished:
for Marketdesk the last ``JobChanged(status="completed")`` event, which is published after
the commit; for procrastinate the return of the last ``JobManager.finish_job`` call (the
commit of the ``succeeded`` status; the bench wraps the method of its own app instance to
see it). The drain time is the latest of these minus the start, that is until the database
holds ``N`` finished jobs; the time until every process has exited (empty-queue detection,
wind-down, interpreter exit) is printed beside it but not used.

Concurrency. Each system runs with one per-process concurrency at every worker count,
the best overall of a sweep at 1, 2 and 4 processes with 4000 jobs on this machine (2 cores,
shared with the server). Marketdesk ``C`` = 256 (swept 16..1024: 16 gives about a third,
64 about two thirds; 128 to 512 are within the noise of each other; the runner claims up
to ``C`` jobs per transaction and group-commits the outcomes that finish together).
procrastinate ``P`` = 2 (swept 1..32: 1, 2 and 4 are within the noise, 8 and more are
slower; its worker fetches one job per statement, one fetch at a time, so concurrency only
overlaps the finishing writes). Each worker also prints its CPU time from the start to its
exit, and the server's CPU time over the same span is read from ``/proc`` (postmaster and
its children); both are shown per job beside each measurement, so that one can see when
the machine, not the queue, is the limit.

Every repeat runs every worker count of both systems once, rotating the order of the
systems; medians of the repeats are reported with the ratio Marketdesk/procrastinate at
each worker count (issue target: above 1 at every count) and each system's scaling from 1
to 4 processes (target for Marketdesk: at least 2.5x), plus markdown rows for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.queue import ACTION, HANDLER_KEY, MARKETPLACE, make_noop_handler

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = ("marketdesk", "procrastinate")
LABELS = {"marketdesk": "Marketdesk", "procrastinate": "procrastinate"}
DEFAULT_WORKERS = (1, 2, 4)
DEFAULT_CONCURRENCY = 256
DEFAULT_PROCRASTINATE_CONCURRENCY = 2
TARGET_RATIO = 1.0
TARGET_SCALING = 2.5
READY = "ready"
GO = "go"
DRAIN_CHECK_SECONDS = 0.1
CREATE_THREADS = 4
TASK_NAME = "bench_noop"


def timeout_for(n: int) -> float:
    """A generous bound on one drain, so that a stuck queue fails instead of hanging."""
    return 60.0 + n / 20


def libpq_dsn(url: str) -> str:
    """The psycopg (libpq) form of a ``postgresql+psycopg://`` SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def install_logging() -> None:
    """Warnings and errors to stderr (the parent keeps each worker's stderr in a file)."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


# -- worker processes ---------------------------------------------------------------------
@dataclass
class Tally:
    """Jobs a worker finished, and when it finished the last one (``time.monotonic``)."""

    done: int = 0
    last: float | None = None
    cpu_at_go: float = 0.0

    def count(self) -> None:
        self.done += 1
        self.last = time.monotonic()

    def report(self, go: float) -> dict[str, Any]:
        """What the worker prints at the end; ``cpu`` is its CPU time since ``go``."""
        return {
            "jobs": self.done,
            "last": self.last,
            "go": go,
            "cpu": time.process_time() - self.cpu_at_go,
        }


async def wait_for_go() -> float:
    """Say ready, block until the parent writes ``go``; returns when it arrived."""
    print(READY, flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    if line.strip() != GO:
        raise RuntimeError(f"expected {GO!r} from the parent, got {line!r}")
    return time.monotonic()


def warm_pool(db: Any, connections: int) -> None:
    """Open the pooled connections the database threads will use, before the start."""
    with contextlib.ExitStack() as stack:
        for _ in range(connections):
            conn = stack.enter_context(db.engine.connect())
            conn.exec_driver_sql("SELECT 1")
            conn.rollback()


def jobs_left(db: Any) -> bool:
    """True while any job is pending or running (in any process)."""
    from sqlalchemy import exists, select

    from app.marketplace.tables import jobs

    with db.bind(1).connect() as conn:
        active = exists().where(jobs.c.status.in_(("pending", "running")))
        left = bool(conn.execute(select(active)).scalar())
        conn.rollback()
    return left


async def stop_when_drained(db: Any, runner: Any) -> None:
    """Stop ``runner`` once the queue is empty (what ``worker_proc --until-empty`` does)."""
    try:
        while await db.run(jobs_left, db):
            await asyncio.sleep(DRAIN_CHECK_SECONDS)
    finally:
        runner.stop()


async def marketdesk_worker(url: str, concurrency: int) -> dict[str, Any]:
    """One Marketdesk worker process: a JobRunner with a no-op handler until the queue is empty."""
    from app.db import Database
    from app.events import Event, JobChanged
    from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
    from app.marketplace.runner import JobRunner

    db = Database(url)
    try:
        processor = MarketplaceJobProcessor(db, handlers={HANDLER_KEY: make_noop_handler()})
        await processor.actions()  # action types, loaded once per process
        warm_pool(db, db.executor._max_workers + 1)
        limits = {"vinted": 0, "ebay": 0, "etsy": 0, MARKETPLACE: concurrency}
        runner = JobRunner(processor, concurrency=limits, apply_rate_limits=False)
        tally = Tally()

        def on_event(event: Event) -> None:
            if isinstance(event, JobChanged) and event.status == "completed":
                tally.count()

        unsubscribe = db.events.subscribe(on_event)
        go = await wait_for_go()
        tally.cpu_at_go = time.process_time()
        watcher = asyncio.create_task(stop_when_drained(db, runner))
        try:
            await runner.run()
        finally:
            unsubscribe()
            if not watcher.done():
                watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return tally.report(go)
    finally:
        db.close()


def make_procrastinate_app(url: str, pool_size: int) -> tuple[Any, Any]:
    """A procrastinate App on ``url`` with its psycopg pool, and its no-op task."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_dsn(url), min_size=pool_size, max_size=pool_size
    )
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK_NAME)
    async def noop(i: int) -> dict[str, Any]:
        return {"success": True}

    return app, noop


async def procrastinate_worker(url: str, concurrency: int) -> dict[str, Any]:
    """One procrastinate worker process: its own worker loop until the queue is empty."""
    app, _ = make_procrastinate_app(url, concurrency + 2)
    tally = Tally()
    async with app.open_async():
        manager = app.job_manager
        finish_job = manager.finish_job

        async def counted_finish_job(*args: Any, **kwargs: Any) -> None:
            await finish_job(*args, **kwargs)
            tally.count()

        manager.finish_job = counted_finish_job  # this app instance only
        go = await wait_for_go()
        tally.cpu_at_go = time.process_time()
        await app.run_worker_async(
            concurrency=concurrency, wait=False, install_signal_handlers=False
        )
    return tally.report(go)


def worker_main(args: argparse.Namespace) -> int:
    """Entry point of ``--worker``: print ready, drain, print a JSON line with the tally."""
    install_logging()
    run = {"marketdesk": marketdesk_worker, "procrastinate": procrastinate_worker}[args.worker]
    result = asyncio.run(run(args.db, args.concurrency))
    print(json.dumps(result), flush=True)
    return 0


# -- the parent: databases ----------------------------------------------------------------
def vacuum_and_checkpoint(url: str) -> None:
    """``VACUUM (ANALYZE)`` the database and ``CHECKPOINT`` the server (not timed)."""
    import psycopg

    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")


def drop_database(cluster: Any, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_dsn(cluster.url()), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_marketdesk(url: str, n: int) -> None:
    """Migrate a fresh database and create ``n`` pending no-op jobs."""
    from app.db import Database
    from app.marketplace.marketplace_job_service import MarketplaceJobService

    db = Database(url)
    try:
        db.migrate()
        service = MarketplaceJobService(db)

        def create(i: int) -> int:
            return service.create_job(MARKETPLACE, ACTION, idempotency_key=f"bench-{i}").id

        with ThreadPoolExecutor(CREATE_THREADS) as pool:
            ids = set(pool.map(create, range(n)))
        counts = service.count_by_status(MARKETPLACE)
    finally:
        db.close()
    if len(ids) != n or counts["pending"] != n:
        raise RuntimeError(f"Marketdesk: {len(ids)} jobs created, db says {counts}")


def check_marketdesk(url: str, n: int) -> None:
    """Every job completed, and the stats count them all."""
    from app.db import Database
    from app.marketplace.marketplace_job_service import MarketplaceJobService

    db = Database(url)
    try:
        service = MarketplaceJobService(db)
        counts = service.count_by_status(MARKETPLACE)
        stats_total = sum(row.total_jobs for row in service.get_stats(days=2))
    finally:
        db.close()
    if counts["completed"] != n or stats_total != n:
        raise RuntimeError(
            f"Marketdesk: expected {n} completed, db says {counts}, stats {stats_total}"
        )


def prepare_procrastinate(url: str, n: int) -> None:
    """Apply procrastinate's schema and defer ``n`` no-op tasks."""

    async def setup() -> None:
        app, noop = make_procrastinate_app(url, 2)
        async with app.open_async():
            await app.schema_manager.apply_schema_async()
            chunk = 1000
            for start in range(0, n, chunk):
                await noop.batch_defer_async(
                    *({"i": i} for i in range(start, min(n, start + chunk)))
                )

    asyncio.run(setup())
    counts = procrastinate_counts(url)
    if counts != {"todo": n}:
        raise RuntimeError(f"procrastinate: expected {n} todo jobs, db says {counts}")


def procrastinate_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(libpq_dsn(url)) as conn:
        rows = conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1")
        return {status: count for status, count in rows}


def check_procrastinate(url: str, n: int) -> None:
    counts = procrastinate_counts(url)
    if counts != {"succeeded": n}:
        raise RuntimeError(f"procrastinate: expected {n} succeeded jobs, db says {counts}")


# -- the parent: one timed drain ----------------------------------------------------------
def server_cpu_seconds(cluster: Any) -> float | None:
    """CPU seconds the server used so far (postmaster, its children, reaped children); Linux."""
    try:
        postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process is gone
            pid, ppid = int(stat.parent.name), int(fields[1])
            utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
            if pid == postmaster:
                ticks += utime + stime + cutime + cstime
            elif ppid == postmaster:
                ticks += utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None


@dataclass
class Measure:
    """One timed drain of a queue by ``workers`` processes."""

    system: str
    workers: int
    jobs: int
    seconds: float
    exited: float
    per_worker: list[int] = field(default_factory=list)
    worker_cpu: float = 0.0
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        """Jobs per second."""
        return self.jobs / self.seconds

    def cpu(self) -> str:
        """CPU per job of the workers (from go to their exit) and of the server."""
        server = f"{self.server_cpu / self.jobs * 1e6:.0f}" if self.server_cpu is not None else "?"
        return (
            f"CPU per job: workers {self.worker_cpu / self.jobs * 1e6:.0f} us, server {server} us"
        )


@contextlib.contextmanager
def worker_processes(
    system: str, url: str, k: int, concurrency: int
) -> Iterator[list[tuple[subprocess.Popen[str], Path]]]:
    """Start ``k`` worker processes (stderr to files); kill whatever is left at the end."""
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        procs: list[tuple[subprocess.Popen[str], Path]] = []
        try:
            for i in range(k):
                err_path = Path(tmp) / f"worker-{i}.err"
                with open(err_path, "w", encoding="utf-8") as err:
                    proc = subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "tests.bench.postgres",
                            "--worker",
                            system,
                            "--db",
                            url,
                            "--concurrency",
                            str(concurrency),
                        ],
                        cwd=ROOT,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=err,
                        text=True,
                    )
                procs.append((proc, err_path))
            yield procs
        finally:
            for proc, _ in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                for stream in (proc.stdin, proc.stdout):
                    if stream is not None:
                        with contextlib.suppress(OSError):
                            stream.close()


def failure(
    system: str, procs: list[tuple[subprocess.Popen[str], Path]], what: str
) -> RuntimeError:
    """An error carrying the end of every worker's stderr."""
    tails = []
    for i, (proc, err_path) in enumerate(procs):
        text = err_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        tails.append(f"--- worker {i} (exit {proc.poll()}):\n{text}")
    return RuntimeError(f"{system}: {what}\n" + "\n".join(tails))


def drain(cluster: Any, system: str, url: str, *, n: int, k: int, concurrency: int) -> Measure:
    """Start ``k`` workers, wait until all are ready, say go, and time the drain."""
    with worker_processes(system, url, k, concurrency) as procs:
        for proc, _ in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != READY:
                raise failure(system, procs, "a worker did not get ready")
        gc.collect()
        server_cpu = server_cpu_seconds(cluster)
        started = time.monotonic()
        for proc, _ in procs:
            assert proc.stdin is not None
            proc.stdin.write(GO + "\n")
            proc.stdin.flush()
        deadline = started + timeout_for(n)
        for proc, _ in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise failure(system, procs, f"not drained after {timeout_for(n):.0f} s") from None
        exited = time.monotonic() - started
        server_after = server_cpu_seconds(cluster)
        if server_cpu is not None and server_after is not None:
            server_cpu = server_after - server_cpu
        tallies = []
        for proc, _ in procs:
            assert proc.stdout is not None
            lines = proc.stdout.read().strip().splitlines()
            if proc.returncode != 0 or not lines:
                raise failure(system, procs, "a worker failed")
            tallies.append(json.loads(lines[-1]))
    done = sum(t["jobs"] for t in tallies)
    lasts = [t["last"] for t in tallies if t["last"] is not None]
    if done != n or not lasts:
        raise RuntimeError(f"{system}: the workers report {done} of {n} jobs finished")
    return Measure(
        system,
        k,
        n,
        max(lasts) - started,
        exited,
        per_worker=[t["jobs"] for t in tallies],
        worker_cpu=sum(t["cpu"] for t in tallies),
        server_cpu=server_cpu,
    )


def measure(cluster: Any, system: str, *, n: int, k: int, concurrency: int, name: str) -> Measure:
    """A fresh database, its jobs, one timed drain by ``k`` processes, checks, drop."""
    url = cluster.create_database(name)
    try:
        prepare, check = {
            "marketdesk": (prepare_marketdesk, check_marketdesk),
            "procrastinate": (prepare_procrastinate, check_procrastinate),
        }[system]
        prepare(url, n)
        vacuum_and_checkpoint(url)
        result = drain(cluster, system, url, n=n, k=k, concurrency=concurrency)
        check(url, n)
        return result
    finally:
        drop_database(cluster, name)


# -- report -------------------------------------------------------------------------------
def run(args: argparse.Namespace, cluster: Any) -> dict[tuple[str, int], list[Measure]]:
    """All repeats of every system at every worker count."""
    concurrency = {
        "marketdesk": args.concurrency,
        "procrastinate": args.procrastinate_concurrency,
    }
    systems = tuple(s for s in SYSTEMS if s in args.only)
    results: dict[tuple[str, int], list[Measure]] = {
        (s, k): [] for k in args.workers for s in systems
    }
    for r in range(args.repeat):
        for j, k in enumerate(args.workers):
            shift = (r + j) % len(systems)
            for system in systems[shift:] + systems[:shift]:
                m = measure(
                    cluster,
                    system,
                    n=args.jobs,
                    k=k,
                    concurrency=concurrency[system],
                    name=f"{system}_{k}_{r}",
                )
                results[(system, k)].append(m)
                print(
                    f"  repeat {r + 1}/{args.repeat}  {LABELS[system]:<13} {k} worker(s) "
                    f"x {concurrency[system]:>3}  {m.rate:8.0f} jobs/s  ({m.seconds:.3f} s; "
                    f"all exited after {m.exited:.2f} s; per worker {m.per_worker}; {m.cpu()})",
                    flush=True,
                )
    return results


def report(args: argparse.Namespace, results: dict[tuple[str, int], list[Measure]]) -> None:
    """Medians, ratios, scaling against the targets, and the README rows."""
    median = {key: statistics.median(m.rate for m in ms) for key, ms in results.items()}
    systems = [s for s in SYSTEMS if s in args.only]
    print()
    for system in systems:
        for k in args.workers:
            rates = ", ".join(f"{m.rate:.0f}" for m in results[(system, k)])
            print(
                f"{LABELS[system]:<13} {k} worker(s): median {median[(system, k)]:8.0f} jobs/s"
                f"   (repeats: {rates})"
            )
    verdict = {True: "meets", False: "MISSES"}
    print()
    both = len(systems) == len(SYSTEMS)
    if both:
        for k in args.workers:
            ratio = median[("marketdesk", k)] / median[("procrastinate", k)]
            print(
                f"Marketdesk / procrastinate, {k} worker(s) = {ratio:.2f}x  "
                f"(target > {TARGET_RATIO:.0f}x: {verdict[ratio > TARGET_RATIO]})"
            )
    low, high = min(args.workers), max(args.workers)
    if low != high:
        for system in systems:
            scaling = median[(system, high)] / median[(system, low)]
            target = (
                f"  (target >= {TARGET_SCALING}x: {verdict[scaling >= TARGET_SCALING]})"
                if system == "marketdesk" and (low, high) == (1, 4)
                else ""
            )
            print(f"{LABELS[system]} scaling {high} / {low} worker(s) = {scaling:.2f}x{target}")
    if not both:
        return
    print()
    print(
        "README rows (columns: workload | worker processes | Marketdesk | procrastinate "
        "| Marketdesk / procrastinate):"
    )
    for k in args.workers:
        md, pc = median[("marketdesk", k)], median[("procrastinate", k)]
        print(
            f"| {args.jobs} no-op jobs, median of {args.repeat} | {k} | {md:.0f} jobs/s "
            f"| {pc:.0f} jobs/s | {md / pc:.2f}x |"
        )
    if low != high:
        md_scaling = median[("marketdesk", high)] / median[("marketdesk", low)]
        pc_scaling = median[("procrastinate", high)] / median[("procrastinate", low)]
        print(
            f"| scaling {low} -> {high} worker processes | | {md_scaling:.2f}x "
            f"| {pc_scaling:.2f}x | |"
        )


def server_version(cluster: Any) -> str:
    import psycopg

    with psycopg.connect(libpq_dsn(cluster.url())) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.postgres",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--jobs", type=int, default=4000, help="jobs per run (default 4000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case (default 3)")
    parser.add_argument(
        "--workers",
        default=",".join(map(str, DEFAULT_WORKERS)),
        help="comma-separated worker-process counts (default 1,2,4)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"Marketdesk runner slots per worker process (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--procrastinate-concurrency",
        type=int,
        default=DEFAULT_PROCRASTINATE_CONCURRENCY,
        help="procrastinate worker concurrency per process "
        f"(default {DEFAULT_PROCRASTINATE_CONCURRENCY})",
    )
    parser.add_argument(
        "--only",
        default=",".join(SYSTEMS),
        help="comma-separated subset of marketdesk,procrastinate (default: both)",
    )
    # Internal: one worker process (started by the parent).
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        if not args.db:
            parser.error("--worker needs --db")
        return args
    try:
        args.workers = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    except ValueError:
        parser.error("--workers takes comma-separated integers")
    if (
        args.jobs < 1
        or args.repeat < 1
        or args.concurrency < 1
        or args.procrastinate_concurrency < 1
        or not args.workers
        or min(args.workers) < 1
    ):
        parser.error("--jobs, --repeat, --workers and the concurrencies must be at least 1")
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    if not args.only or args.only - set(SYSTEMS):
        parser.error(f"--only takes names among {', '.join(SYSTEMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker is not None:
        return worker_main(args)
    install_logging()
    import procrastinate
    import psycopg
    import sqlalchemy

    from tests.support.pg import start_cluster

    cluster = start_cluster()
    try:
        print(
            f"PostgreSQL queue throughput: {args.jobs} jobs x {args.repeat} repeat(s), "
            f"worker processes {args.workers}; {os.cpu_count()} CPUs; Python "
            f"{platform.python_version()}, PostgreSQL {server_version(cluster)} (same machine, "
            f"fsync=off), psycopg {psycopg.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
            f"procrastinate {procrastinate.__version__}",
            flush=True,
        )
        results = run(args, cluster)
    finally:
        cluster.stop()
    report(args, results)
    return 0


if __name__ == "__main__":
    # Run under the module's real name, not ``__main__``: procrastinate warns about apps
    # made in the main module (it could not import their tasks by name from elsewhere).
    import importlib

    sys.exit(importlib.import_module("tests.bench.postgres").main(sys.argv[1:]))
