"""A worker process for the multi-process tests.

Run as ``python -m tests.support.worker_proc --db URL --worker-id W --log FILE``
(from the project root). It builds a :class:`MarketplaceJobProcessor` whose handlers,
for every action type in the database, append ``"<job_id> <worker_id>\\n"`` to ``--log``
when they start, optionally sleep ``--sleep-ms``, and succeed. A :class:`JobRunner`
drives it until SIGTERM/SIGINT (graceful stop) or, with ``--until-empty``, until no job
is pending or running any more.

Log records at WARNING and above go to stderr, so a test can look there for
``database is locked`` or a ``Traceback``. Exit status 0 on success, 1 (with the
traceback on stderr) on any exception.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.db import Database
from app.marketplace.action_types import load_action_types
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.retry import RetryPolicy
from app.marketplace.runner import JobRunner
from app.models.user.marketplace_job import JobStatus, MarketplaceJob
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES

POLL_SECONDS = 0.05
HOUSEKEEPING_SECONDS = 0.5
EMPTY_CHECK_SECONDS = 0.2
STOP_TIMEOUT = 5.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of one worker."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.worker_proc")
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the database")
    parser.add_argument("--user-id", type=int, default=1, help="the seller whose jobs to run")
    parser.add_argument("--worker-id", required=True, help="lease owner name of this worker")
    parser.add_argument(
        "--log", required=True, type=Path, help="file the handlers append starts to"
    )
    parser.add_argument("--lease", type=float, default=30.0, help="lease seconds")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs at once per marketplace")
    parser.add_argument(
        "--until-empty", action="store_true", help="stop once nothing is pending or running"
    )
    parser.add_argument("--sleep-ms", type=int, default=0, help="how long each handler sleeps")
    parser.add_argument(
        "--retry-base",
        type=float,
        default=RetryPolicy().base_seconds,
        help="retry backoff base seconds (also the delay before a reaped job runs again)",
    )
    return parser.parse_args(argv)


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write (O_APPEND keeps lines of processes whole)."""
    with open(path, "a", buffering=1, encoding="utf-8") as fh:
        fh.write(line)


def make_handler(log_path: Path, worker_id: str, sleep_seconds: float) -> type[BaseJobHandler]:
    """A handler class that records its start, sleeps and succeeds."""

    class StartLoggingHandler(BaseJobHandler):
        async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
            append_line(log_path, f"{job.id} {worker_id}\n")
            if sleep_seconds > 0:
                await asyncio.sleep(sleep_seconds)
            return {"success": True, "job_id": job.id, "worker_id": worker_id}

    return StartLoggingHandler


def build_registry(
    db: Database, handler: type[BaseJobHandler], user_id: int
) -> dict[str, type[BaseJobHandler]]:
    """``handler`` under the key of every action type the database knows."""
    with db.session(user_id, readonly=True) as session:
        actions = load_action_types(session)
    return {action.handler_key: handler for action in actions.values()}


def install_logging() -> None:
    """Warnings and errors of every logger (and Python warnings) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)


async def stop_when_empty(db: Database, runner: JobRunner, user_id: int) -> None:
    """Stop ``runner`` once no job of the seller is pending or running (in any process)."""
    service = MarketplaceJobService(db, user_id)
    try:
        while True:
            counts = await db.run(service.count_by_status)
            if counts[JobStatus.PENDING.value] == 0 and counts[JobStatus.RUNNING.value] == 0:
                runner.stop()
                return
            await asyncio.sleep(EMPTY_CHECK_SECONDS)
    except BaseException:
        runner.stop()  # never leave the runner going when the watcher died
        raise


async def run_worker(args: argparse.Namespace) -> None:
    """Run the worker until stopped."""
    db = Database(args.db)
    try:
        handler = make_handler(args.log, args.worker_id, args.sleep_ms / 1000)
        processor = MarketplaceJobProcessor(
            db,
            user_id=args.user_id,
            handlers=build_registry(db, handler, args.user_id),
            worker_id=args.worker_id,
            lease_seconds=args.lease,
            policy=RetryPolicy(base_seconds=args.retry_base),
        )
        runner = JobRunner(
            processor,
            concurrency={mp: args.concurrency for mp in MARKETPLACE_VALUES},
            poll_seconds=POLL_SECONDS,
            housekeeping_seconds=HOUSEKEEPING_SECONDS,
            stop_timeout=STOP_TIMEOUT,
            apply_rate_limits=False,
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        watcher = (
            asyncio.create_task(stop_when_empty(db, runner, args.user_id))
            if args.until_empty
            else None
        )
        try:
            await runner.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            if watcher is not None and not watcher.done():
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
        if watcher is not None and not watcher.cancelled():
            watcher.result()  # re-raise whatever stopped the watcher
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    install_logging()
    try:
        asyncio.run(run_worker(args))
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
