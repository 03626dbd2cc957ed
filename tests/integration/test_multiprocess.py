"""Several worker processes on one database: exact stats, no double claim, crash recovery.

The workers are real processes (``python -m tests.support.worker_proc``) sharing the
test's migrated SQLite file. Their handlers append ``"<job_id> <worker_id>"`` to a log
file when they start, which is how a double claim would show. The last test steals the
lease of a live but stalled worker inside one process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.db import Database
from app.marketplace import store
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.leases import LEASE_LOST
from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.retry import RetryPolicy
from app.models.user.marketplace_job import JobStatus
from tests.support.workers import (
    Worker,
    Workers,
    all_batches,
    all_jobs,
    all_stats,
    check_stats_match_jobs,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def workers(tmp_path: Path, db: Database) -> Iterator[Workers]:
    """Worker processes on the test's migrated database, killed at the end."""
    group = Workers(tmp_path, db.url.render_as_string(hide_password=False))
    try:
        yield group
    finally:
        group.kill_leftovers()


# -- reading the database -------------------------------------------------------------------
# -- a) exact stats under concurrency -------------------------------------------------------
# (marketplace, action, jobs): 2,000 jobs, each on a product of its own.
GROUPS = (
    ("ebay", "publish", 400),
    ("ebay", "update", 300),
    ("etsy", "publish", 400),
    ("etsy", "delete", 300),
    ("vinted", "publish", 300),
    ("vinted", "update", 300),
)


def test_stats_exact_with_four_worker_processes(
    db: Database, make_products: Callable[[int], list[int]], workers: Workers
) -> None:
    total = sum(n for _, _, n in GROUPS)
    assert total == 2000
    product_ids = make_products(total)
    service = MarketplaceJobService(db)
    created: list[int] = []
    offset = 0
    for marketplace, action, n in GROUPS:
        batch, jobs = service.create_batch(marketplace, action, product_ids[offset : offset + n])
        assert batch.total_count == n
        created.extend(job.id for job in jobs)
        offset += n
    assert len(set(created)) == total

    group = [
        workers.start(f"w{i}", "--until-empty", "--concurrency", "4", "--sleep-ms", "2")
        for i in range(4)
    ]
    workers.wait(group)
    workers.check_clean_exit(group)

    jobs = all_jobs(db)
    assert len(jobs) == total
    assert Counter(job.status for job in jobs) == {JobStatus.COMPLETED.value: total}
    assert all(job.attempts == 1 and job.retry_count == 0 for job in jobs)
    assert all(job.lease_owner is None and job.lease_until is None for job in jobs)

    starts = workers.starts()
    per_job = Counter(job_id for job_id, _ in starts)
    assert set(per_job) == set(created)
    assert [job_id for job_id, n in per_job.items() if n != 1] == []  # no double claim
    assert len({worker_id for _, worker_id in starts}) >= 2  # the work really was shared
    started_by = dict(starts)
    assert all(job.result_data["worker_id"] == started_by[job.id] for job in jobs)

    check_stats_match_jobs(db, jobs)
    assert sum(row.total_jobs for row in all_stats(db)) == 2000
    for batch in all_batches(db):
        assert (batch.status, batch.completed_count, batch.failed_count) == (
            "completed",
            batch.total_count,
            0,
        )


# -- b) no double claim ---------------------------------------------------------------------
ACCOUNT_ACTIONS = (
    ("vinted", "message"),
    ("vinted", "orders"),
    ("ebay", "sync"),
    ("ebay", "sync_orders"),
    ("etsy", "sync"),
    ("etsy", "sync_orders"),
)


def test_four_workers_never_claim_a_job_twice(db: Database, workers: Workers) -> None:
    service = MarketplaceJobService(db)
    created = [
        service.create_job(marketplace, action, input_data={"n": n}).id
        for n in range(100)
        for marketplace, action in ACCOUNT_ACTIONS
    ]
    assert len(set(created)) == 600

    group = [
        workers.start(f"claimer{i}", "--until-empty", "--concurrency", "8", "--sleep-ms", "15")
        for i in range(4)
    ]
    workers.wait(group)
    workers.check_clean_exit(group)

    starts = workers.starts()
    per_job = Counter(job_id for job_id, _ in starts)
    assert sorted(per_job) == sorted(created)
    assert {job_id: n for job_id, n in per_job.items() if n != 1} == {}
    assert len({worker_id for _, worker_id in starts}) >= 2

    jobs = all_jobs(db)
    assert len(jobs) == 600
    assert {job.id: job.attempts for job in jobs if job.attempts != 1} == {}
    assert Counter(job.status for job in jobs) == {JobStatus.COMPLETED.value: 600}
    started_by = dict(starts)
    assert all(job.result_data["worker_id"] == started_by[job.id] for job in jobs)
    assert sum(row.total_jobs for row in all_stats(db)) == 600


# -- c) crash recovery ----------------------------------------------------------------------
def wait_for_starts(workers: Workers, worker: Worker, count: int, timeout: float = 30.0) -> None:
    """Wait until the log shows ``count`` starts (failing if the worker dies first)."""
    deadline = time.monotonic() + timeout
    while len(workers.starts()) < count:
        if worker.proc.poll() is not None:
            pytest.fail(f"worker exited with {worker.proc.returncode}\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"fewer than {count} starts after {timeout} s\n{worker.output()}")
        time.sleep(0.01)


def test_killed_worker_jobs_are_reaped_and_run_again(
    db: Database, make_products: Callable[[int], list[int]], workers: Workers
) -> None:
    _, created = MarketplaceJobService(db).create_batch("ebay", "publish", make_products(60))
    job_ids = {job.id for job in created}

    victim = workers.start("victim", "--lease", "2", "--sleep-ms", "300", "--concurrency", "4")
    wait_for_starts(workers, victim, 5)
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    assert victim.proc.returncode == -signal.SIGKILL

    at_kill = {job.id: job for job in all_jobs(db)}
    in_flight = {job_id for job_id, job in at_kill.items() if job.status == JobStatus.RUNNING.value}
    assert in_flight, "the killed worker held no job"
    assert {at_kill[job_id].lease_owner for job_id in in_flight} == {"victim"}
    victim_starts = Counter(job_id for job_id, _ in workers.starts())

    rescuer = workers.start("rescuer", "--lease", "2", "--until-empty", "--retry-base", "0.2")
    workers.wait([rescuer])
    workers.check_clean_exit([rescuer])

    jobs = all_jobs(db)
    assert len(jobs) == 60
    assert {job.id for job in jobs} == job_ids  # none lost
    assert Counter(job.status for job in jobs) == {JobStatus.COMPLETED.value: 60}
    assert all(job.lease_owner is None for job in jobs)
    for job in jobs:
        if job.id in in_flight:  # reaped (one retry spent) and claimed a second time
            assert (job.attempts, job.retry_count) == (2, 1), job.id
            assert job.result_data["worker_id"] == "rescuer"
        else:
            assert (job.attempts, job.retry_count) == (1, 0), job.id

    rescuer_starts = Counter(
        job_id for job_id, worker_id in workers.starts() if worker_id == "rescuer"
    )
    assert set(rescuer_starts.values()) == {1}
    finished_by_victim = {
        job_id for job_id, job in at_kill.items() if job.status == JobStatus.COMPLETED.value
    }
    assert set(rescuer_starts) == job_ids - finished_by_victim
    assert in_flight <= set(rescuer_starts)
    assert all(victim_starts[job_id] == 1 for job_id in finished_by_victim)

    stats = all_stats(db)
    assert sum(row.total_jobs for row in stats) == 60  # the re-run jobs are counted once
    assert sum(row.success_count for row in stats) == 60
    check_stats_match_jobs(db, jobs)


# -- d) lease stolen from a live but stalled worker ----------------------------------------
@pytest.mark.asyncio
async def test_stalled_worker_cannot_overwrite_the_job_taken_over(
    db: Database,
    make_products: Callable[[int], list[int]],
    handlers: dict[str, type[BaseJobHandler]],
) -> None:
    [product_id] = make_products(1)
    job_id = MarketplaceJobService(db).create_job("etsy", "publish", product_id).id

    db_b = Database(db.url.render_as_string(hide_password=False))  # "another process": own engine
    stalled = MarketplaceJobProcessor(db, handlers=handlers, worker_id="stalled", lease_seconds=2.0)
    taker = MarketplaceJobProcessor(
        db_b,
        handlers=handlers,
        worker_id="taker",
        lease_seconds=30,
        policy=RetryPolicy(base_seconds=0.05),
    )
    try:
        # A claims the job, then stalls: it never holds (renews) the lease nor runs it.
        [claimed] = await stalled.claim({None: 1})
        assert claimed.lease == store.Lease(job_id, "stalled", 1)
        assert await taker.housekeeping() == []  # the lease still holds: nothing to reap

        await asyncio.sleep(2.3)
        reaped = await taker.housekeeping()
        assert [(t.job_id, t.status) for t in reaped] == [(job_id, JobStatus.PENDING.value)]

        result = None
        deadline = time.monotonic() + 10
        while result is None and time.monotonic() < deadline:
            result = await taker.process_next_job()  # None until the retry delay passed
            if result is None:
                await asyncio.sleep(0.05)
        assert result is not None
        assert (result["job_id"], result["status"]) == (job_id, JobStatus.COMPLETED.value)

        # A wakes up and reports a failure with its stale lease: nothing changes.
        stale = store.Outcome(
            lease=claimed.lease,
            status=JobStatus.FAILED,
            action_type_id=claimed.action.id,
            marketplace="etsy",
            batch_id=None,
            result_data={"by": "stalled"},
            error_message="stalled worker's late failure",
            duration_ms=99_999,
        )
        assert await stalled.writer.write(stale) is None
        assert await stalled.release([claimed]) == []

        # A's heartbeat, were it to resume, finds the lease lost.
        held = stalled.hold(claimed)
        deadline = time.monotonic() + 5
        while not held.stopped and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert held.reason == LEASE_LOST
        stalled.keeper.drop(job_id)

        [job] = all_jobs(db)
        assert job.status == JobStatus.COMPLETED.value
        assert (job.attempts, job.retry_count) == (2, 1)
        assert job.result_data == result["result"]
        assert job.error_message is None
        assert job.duration_ms == result["duration_ms"]
        assert job.lease_owner is None

        [row] = all_stats(db)
        assert (row.total_jobs, row.success_count, row.failure_count) == (1, 1, 0)
        assert row.total_duration_ms == result["duration_ms"]
    finally:
        await stalled.close()
        await taker.close()
        db_b.close()


# -- graceful stop --------------------------------------------------------------------------
def test_sigterm_stops_a_worker_gracefully(
    db: Database, make_products: Callable[[int], list[int]], workers: Workers
) -> None:
    MarketplaceJobService(db).create_batch("etsy", "publish", make_products(10))

    worker = workers.start("graceful", "--sleep-ms", "500", "--concurrency", "2")
    wait_for_starts(workers, worker, 2)
    worker.proc.send_signal(signal.SIGTERM)
    workers.wait([worker], timeout=20)
    workers.check_clean_exit([worker])

    # The jobs it was running finished; it claimed nothing more; nothing is left running.
    started = {job_id for job_id, _ in workers.starts()}
    statuses = {job.id: job.status for job in all_jobs(db)}
    assert {statuses[job_id] for job_id in started} == {JobStatus.COMPLETED.value}
    assert Counter(statuses.values()) == {
        JobStatus.COMPLETED.value: len(started),
        JobStatus.PENDING.value: 10 - len(started),
    }
