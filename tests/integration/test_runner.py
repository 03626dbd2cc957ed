"""The runner: wake-up, per-marketplace concurrency, rate limits, reaping, graceful stop."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any, ClassVar

from app.db import Database
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.runner import JobRunner
from app.models import MarketplaceActionType
from app.models.user.marketplace_job import MarketplaceJob
from tests.support.waiting import wait_until

Handlers = dict[str, type[BaseJobHandler]]


class Recorder(BaseJobHandler):
    """Records start times and how many run at once."""

    starts: ClassVar[list[tuple[float, int]]] = []
    active = 0
    peak = 0

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        Recorder.starts.append((time.monotonic(), job.action_type_id))
        Recorder.active += 1
        Recorder.peak = max(Recorder.peak, Recorder.active)
        try:
            await asyncio.sleep(float((job.input_data or {}).get("sleep", 0.05)))
        finally:
            Recorder.active -= 1
        return {"success": True}


def reset_recorder() -> None:
    Recorder.starts, Recorder.active, Recorder.peak = [], 0, 0


async def test_wakes_at_once_when_a_job_is_created(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    runner = JobRunner(MarketplaceJobProcessor(db, handlers=handlers), poll_seconds=30)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.3)  # idle, waiting on a 30 s poll
    created = time.monotonic()
    job = await asyncio.to_thread(service.create_job, marketplace="etsy", action_code="sync")
    await wait_until(lambda: service.get_job(job.id).status == "completed", timeout=5)
    assert time.monotonic() - created < 1.0
    runner.stop()
    await task


async def test_concurrency_per_marketplace(
    db: Database, make_products: Callable[[int], list[int]]
) -> None:
    reset_recorder()
    products = make_products(6)
    service = MarketplaceJobService(db)
    service.create_batch("vinted", "update", products, input_data={"sleep": 0.2})
    registry: Handlers = {"update_vinted": Recorder}
    runner = JobRunner(
        MarketplaceJobProcessor(db, handlers=registry), apply_rate_limits=False, poll_seconds=0.05
    )
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: service.count_by_status()["completed"] == 6)
    runner.stop()
    await task
    assert Recorder.peak == 1  # Vinted: one browser tab, one action at a time


async def test_rate_limit_of_action_type_spaces_starts(
    db: Database, make_products: Callable[[int], list[int]]
) -> None:
    reset_recorder()
    with db.session() as session, session.begin():
        session.query(MarketplaceActionType).filter_by(marketplace="ebay", code="update").update(
            {"rate_limit_ms": 300}
        )
    products = make_products(4)
    service = MarketplaceJobService(db)
    service.create_batch("ebay", "update", products)
    runner = JobRunner(
        MarketplaceJobProcessor(db, handlers={"update_ebay": Recorder}), poll_seconds=0.05
    )
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: service.count_by_status()["completed"] == 4)
    runner.stop()
    await task
    times = sorted(t for t, _ in Recorder.starts)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 4 and all(g >= 0.28 for g in gaps), gaps


async def test_graceful_stop_releases_running_jobs(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(
        marketplace="etsy", action_code="sync_orders", input_data={"sleep": 30}
    )
    runner = JobRunner(MarketplaceJobProcessor(db, handlers=handlers), stop_timeout=0.3)
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: service.get_job(job.id).status == "running")
    runner.stop()
    await asyncio.wait_for(task, timeout=5)
    released = service.get_job(job.id)
    assert (
        released.status == "pending" and released.lease_owner is None and released.retry_count == 0
    )


async def test_housekeeping_reaps_a_dead_workers_job(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="sync")
    dead = MarketplaceJobProcessor(db, handlers=handlers, lease_seconds=0.3)
    (claimed,) = await dead.claim({None: 1})  # claimed, then the "process" dies: no heartbeat
    assert service.get_job(job.id).status == "running"
    alive = MarketplaceJobProcessor(db, handlers=handlers)
    runner = JobRunner(alive, housekeeping_seconds=0.2, poll_seconds=0.05)
    task = asyncio.create_task(runner.run())
    await wait_until(lambda: service.get_job(job.id).status == "completed", timeout=10)
    runner.stop()
    await task
    final = service.get_job(job.id)
    assert final.attempts == 2 and final.retry_count == 1
    assert claimed.lease.attempts == 1
