"""PostgreSQL as a team's shared queue: a schema per seller, several workers, one clock.

Everything runs against the private throwaway server of ``tests/support/pg.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db import Database
from app.db import base as db_base
from app.db.notify import JobListener, notify_new_job
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.retry import RetryPolicy
from app.marketplace.runner import JobRunner
from app.models import Product
from app.models.user.marketplace_job import JobStatus, MarketplaceJob
from tests.support.handlers import scripted_registry
from tests.support.workers import Workers, all_jobs, all_stats, check_stats_match_jobs

Handlers = dict[str, type[BaseJobHandler]]


@pytest.fixture
def team_db(pg_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL database with two sellers (schemas user_1 and user_2)."""
    db = Database(pg_url)
    db.migrate()
    if 2 not in db.sellers():
        assert db.add_seller("Second shop") == 2
    yield db
    db.close()


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


def make_products(db: Database, user_id: int, n: int) -> list[int]:
    with db.session(user_id) as session, session.begin():
        products = [Product(title=f"Item {i}", price=5) for i in range(n)]
        session.add_all(products)
        session.flush()
        return [p.id for p in products]


def wait_until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_sellers_live_in_their_own_schemas(team_db: Database) -> None:
    assert team_db.sellers() == [1, 2]
    assert team_db.schema_map(2) == {"tenant": "user_2", "public": "public"}
    (p1,) = make_products(team_db, 1, 1)
    MarketplaceJobService(team_db, 1).create_job(
        marketplace="ebay", action_code="publish", product_id=p1
    )
    assert MarketplaceJobService(team_db, 1).count_by_status()["pending"] == 1
    assert MarketplaceJobService(team_db, 2).count_by_status()["pending"] == 0


@pytest.mark.slow
def test_four_workers_two_sellers_4000_jobs(team_db: Database, tmp_path: Path) -> None:
    created: dict[int, list[int]] = {}
    for user_id in (1, 2):
        products = make_products(team_db, user_id, 1200)
        service = MarketplaceJobService(team_db, user_id)
        ids: list[int] = []
        for (marketplace, action), chunk in zip(
            (("ebay", "publish"), ("etsy", "update"), ("vinted", "publish")),
            (products[:400], products[400:800], products[800:]),
            strict=True,
        ):
            ids += [job.id for job in service.create_batch(marketplace, action, chunk)[1]]
        for i in range(800):
            marketplace = ("ebay", "etsy")[i % 2]
            job = service.create_job(
                marketplace=marketplace, action_code="sync", idempotency_key=f"sync-{i}"
            )
            ids.append(job.id)
        created[user_id] = ids
    assert sum(len(ids) for ids in created.values()) == 4000

    groups = {
        user_id: Workers(tmp_path / f"seller{user_id}", url_of(team_db)) for user_id in (1, 2)
    }
    started = []
    try:
        for user_id, group in groups.items():
            group.dir.mkdir()
            started += [
                (
                    group,
                    group.start(
                        f"s{user_id}w{i}",
                        "--user-id",
                        str(user_id),
                        "--until-empty",
                        "--concurrency",
                        "8",
                        "--sleep-ms",
                        "2",
                    ),
                )
                for i in range(2)
            ]
        for group, worker in started:
            group.wait([worker])
            group.check_clean_exit([worker])
    finally:
        for group in groups.values():
            group.kill_leftovers()

    for user_id, ids in created.items():
        jobs = all_jobs(team_db, user_id)
        assert sorted(job.id for job in jobs) == sorted(ids)  # none lost
        assert Counter(job.status for job in jobs) == {JobStatus.COMPLETED.value: 2000}
        assert all(job.attempts == 1 for job in jobs)  # none claimed twice
        starts = Counter(job_id for job_id, _ in groups[user_id].starts())
        assert set(starts) == set(ids) and set(starts.values()) == {1}
        check_stats_match_jobs(team_db, jobs, user_id)
        assert sum(row.total_jobs for row in all_stats(team_db, user_id)) == 2000


@pytest.mark.slow
def test_killed_worker_on_postgres_is_recovered(team_db: Database, tmp_path: Path) -> None:
    service = MarketplaceJobService(team_db, 2)
    ids = [
        service.create_job(marketplace="etsy", action_code="sync", idempotency_key=f"k{i}").id
        for i in range(40)
    ]
    group = Workers(tmp_path, url_of(team_db))
    try:
        doomed = group.start(
            "doomed", "--user-id", "2", "--lease", "2", "--sleep-ms", "300", "--concurrency", "4"
        )
        wait_until(lambda: len(group.starts()) >= 4)
        os.kill(doomed.proc.pid, signal.SIGKILL)
        doomed.proc.wait(timeout=10)
        assert service.count_by_status()["running"] > 0
        rescuer = group.start(
            "rescuer",
            "--user-id",
            "2",
            "--lease",
            "2",
            "--until-empty",
            "--retry-base",
            "0.2",
            "--concurrency",
            "8",
        )
        group.wait([rescuer])
        group.check_clean_exit([rescuer])
    finally:
        group.kill_leftovers()
    jobs = all_jobs(team_db, 2)
    assert sorted(job.id for job in jobs) == sorted(ids)
    assert Counter(job.status for job in jobs) == {JobStatus.COMPLETED.value: 40}
    assert any(job.attempts == 2 for job in jobs)
    assert sum(row.total_jobs for row in all_stats(team_db, 2)) == 40


@pytest.mark.parametrize("skew", [timedelta(minutes=-10), timedelta(minutes=10)])
async def test_skewed_local_clock_neither_steals_nor_keeps_leases(
    team_db: Database, monkeypatch: pytest.MonkeyPatch, skew: timedelta
) -> None:
    """Leases are judged by the server's clock, whatever this machine's clock says."""
    service = MarketplaceJobService(team_db)
    live = service.create_job(marketplace="ebay", action_code="sync", idempotency_key="live")
    holder = MarketplaceJobProcessor(team_db, handlers=scripted_registry(), lease_seconds=30)
    (claimed_live,) = await holder.claim({None: 1})
    dead = service.create_job(marketplace="ebay", action_code="sync", idempotency_key="dead")
    crashed = MarketplaceJobProcessor(team_db, handlers=scripted_registry(), lease_seconds=1)
    (claimed_dead,) = await crashed.claim({None: 1})
    assert claimed_dead.lease.job_id == dead.id

    real_now = db_base.utcnow
    monkeypatch.setattr(db_base, "utcnow", lambda: real_now() + skew)
    monkeypatch.setattr("app.db.database.utcnow", lambda: real_now() + skew)
    skewed = MarketplaceJobProcessor(
        team_db, handlers=scripted_registry(), policy=RetryPolicy(base_seconds=0.1)
    )
    assert await skewed.housekeeping() == []  # a clock 10 minutes ahead steals nothing
    await asyncio.sleep(1.5)
    reaped = await skewed.housekeeping()  # a clock 10 minutes behind still sees the dead lease
    assert [(t.job_id, t.status) for t in reaped] == [(dead.id, "pending")]
    assert service.get_job(live.id).status == "running"
    for processor in (holder, crashed, skewed):
        await processor.close()
    assert claimed_live.lease.job_id == live.id


async def test_idle_worker_wakes_on_notify_from_another_process(team_db: Database) -> None:
    other = Database(url_of(team_db))  # another desktop in spirit: its own connections
    runner = JobRunner(
        MarketplaceJobProcessor(team_db, handlers=scripted_registry()),
        poll_seconds=30,
        housekeeping_seconds=60,
    )
    task = asyncio.create_task(runner.run())
    try:
        await asyncio.sleep(1.0)  # listening, idle, next poll in 30 s
        created = time.monotonic()
        job = await asyncio.to_thread(
            MarketplaceJobService(other).create_job, marketplace="etsy", action_code="sync_orders"
        )
        service = MarketplaceJobService(other)
        while (await asyncio.to_thread(service.get_job, job.id)).status != "completed":
            assert time.monotonic() - created < 5, "the notification did not wake the worker"
            await asyncio.sleep(0.02)
        assert time.monotonic() - created < 2
    finally:
        runner.stop()
        await task
        other.close()


async def test_cancel_from_another_machine_stops_the_job(team_db: Database) -> None:
    other = Database(url_of(team_db))
    service = MarketplaceJobService(other, 2)
    job = service.create_job(marketplace="ebay", action_code="sync", input_data={"sleep": 30})
    processor = MarketplaceJobProcessor(team_db, user_id=2, handlers=scripted_registry())
    run = asyncio.create_task(processor.process_next_job())
    while (await asyncio.to_thread(service.get_job, job.id)).status != "running":
        await asyncio.sleep(0.02)
    requested = time.monotonic()
    await asyncio.to_thread(service.cancel_job, job.id)
    result = await run
    await processor.close()
    other.close()
    assert result is not None and result["status"] == "cancelled"
    assert time.monotonic() - requested < 1.5
    final: MarketplaceJob = (
        service.get_job(job.id) if False else MarketplaceJobService(team_db, 2).get_job(job.id)
    )
    assert final.status == "cancelled"


async def test_listener_reconnects_after_the_server_drops_it(team_db: Database) -> None:
    """The listening connection comes back by itself (the runner polls meanwhile)."""
    woken: list[int] = []
    listener = JobListener(team_db.url, woken.append, max_backoff=0.5)
    listener.start()
    try:
        assert await asyncio.to_thread(listener.connected.wait, 10)
        with team_db.engine.begin() as conn:  # the server drops the listening connection
            dropped = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
                )
            ).scalars()
            assert list(dropped) == [True]
        deadline = time.monotonic() + 10
        while not woken:
            assert time.monotonic() < deadline, "the listener did not reconnect"
            if listener.connected.is_set():
                with team_db.engine.begin() as conn:
                    notify_new_job(conn, 7)
            await asyncio.sleep(0.2)
        assert woken[0] == 7
    finally:
        await asyncio.to_thread(listener.stop)
