"""Processor behaviour: retries, pauses, timeouts, cancellation, steps, batches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from app.db import Database, utcnow
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.errors import JobStateError, RetryableJobError
from app.marketplace.retry import RetryPolicy
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_task import MarketplaceTask

Handlers = dict[str, type[BaseJobHandler]]
Products = Callable[[int], list[int]]


def processor(db: Database, handlers: Handlers, **kwargs: Any) -> MarketplaceJobProcessor:
    kwargs.setdefault("policy", RetryPolicy(base_seconds=0.2, cap_seconds=1.0))
    return MarketplaceJobProcessor(db, handlers=handlers, **kwargs)


async def test_retryable_error_backs_off_then_fails(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="sync", input_data={"fail": "retry"})
    proc = processor(db, handlers)
    first = await proc.process_next_job()
    assert first is not None
    assert (first["status"], first["will_retry"], first["retry_count"]) == ("pending", True, 1)
    waiting = service.get_job(job.id)
    assert waiting.run_at > utcnow()  # backoff: not runnable at once
    assert await proc.process_next_job() is None
    for expected in (2, 3):
        await asyncio.sleep((service.get_job(job.id).run_at - utcnow()).total_seconds() + 0.01)
        result = await proc.process_next_job()
        assert result is not None and result["retry_count"] == expected
    await asyncio.sleep((service.get_job(job.id).run_at - utcnow()).total_seconds() + 0.01)
    last = await proc.process_next_job()
    await proc.close()
    assert last is not None
    assert (last["status"], last["will_retry"]) == ("failed", False)
    final = service.get_job(job.id)
    assert final.retry_count == 3 and final.error_message == "marketplace busy"
    (stats,) = service.get_stats(marketplace="ebay")
    assert (stats.total_jobs, stats.failure_count) == (1, 1)  # counted once, not per attempt


async def test_retry_after_is_honoured(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(
        marketplace="etsy", action_code="sync", input_data={"fail": "retry", "retry_after": 120}
    )
    proc = processor(db, handlers)
    await proc.process_next_job()
    await proc.close()
    delay = (service.get_job(job.id).run_at - utcnow()).total_seconds()
    assert 110 < delay <= 120


async def test_permanent_error_fails_at_once(
    db: Database, handlers: Handlers, make_products: Products
) -> None:
    (product,) = make_products(1)
    service = MarketplaceJobService(db)
    job = service.create_job(
        marketplace="ebay",
        action_code="publish",
        product_id=product,
        input_data={"fail": "permanent"},
    )
    proc = processor(db, handlers)
    result = await proc.process_next_job()
    await proc.close()
    assert result is not None and result["status"] == "failed" and not result["will_retry"]
    assert service.get_job(job.id).error_message == "listing rejected: title too long"


async def test_auth_failure_pauses_without_spending_retries(
    db: Database, handlers: Handlers
) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(
        marketplace="etsy", action_code="sync_orders", input_data={"fail": "auth"}
    )
    proc = processor(db, handlers)
    result = await proc.process_next_job()
    assert result is not None and result["status"] == "paused"
    paused = service.get_job(job.id)
    assert paused.retry_count == 0 and paused.error_message == "Reconnect your account"
    assert await proc.process_next_job() is None
    service.resume_job(job.id)
    assert (await proc.process_next_job() or {}).get("status") == "paused"
    await proc.close()


async def test_timeout_from_action_type_is_applied(db: Database, handlers: Handlers) -> None:
    with db.session() as session, session.begin():
        from app.models import MarketplaceActionType

        session.query(MarketplaceActionType).filter_by(marketplace="ebay", code="sync").update(
            {"timeout_seconds": 1}
        )
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="sync", input_data={"sleep": 30})
    proc = processor(db, handlers, cancel_grace_seconds=0.5)
    started = time.monotonic()
    result = await proc.process_next_job()
    await proc.close()
    assert time.monotonic() - started < 5
    assert result is not None and result["status"] == "pending" and result["will_retry"]
    assert "Timed out after 1 s" in (service.get_job(job.id).error_message or "")


async def test_cancel_pending_is_immediate(db: Database, handlers: Handlers) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="sync")
    assert service.cancel_job(job.id).status == "cancelled"
    proc = processor(db, handlers)
    assert await proc.process_next_job() is None
    await proc.close()
    with pytest.raises(JobStateError, match="is cancelled and cannot be cancelled"):
        service.cancel_job(job.id)


@pytest.mark.parametrize("ignore_cancel", [False, True])
async def test_cancel_running_within_a_second(
    db: Database, handlers: Handlers, ignore_cancel: bool
) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(
        marketplace="ebay",
        action_code="sync",
        input_data={"sleep": 20, "ignore_cancel": ignore_cancel},
    )
    proc = processor(db, handlers, cancel_grace_seconds=1.0)
    run = asyncio.create_task(proc.process_next_job())
    while service.get_job(job.id).status != "running":
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    requested = time.monotonic()
    await asyncio.to_thread(service.cancel_job, job.id)
    result = await run
    elapsed = time.monotonic() - requested
    await proc.close()
    assert result is not None and result["status"] == "cancelled"
    # cooperative: within a second; a handler that ignores it: forced after the 1 s grace
    assert elapsed < (2.3 if ignore_cancel else 1.2)
    final = service.get_job(job.id)
    assert final.status == "cancelled" and final.completed_at is not None
    assert service.get_stats() == []


async def test_cancelled_while_running_never_ends_completed(db: Database) -> None:
    """The handler finishes after the cancel request but before the heartbeat sees it."""
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="etsy", action_code="sync")

    class CancelledMeanwhile(BaseJobHandler):
        async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
            await asyncio.to_thread(service.cancel_job, job.id)
            return {"success": True, "listing_id": "123"}

    proc = MarketplaceJobProcessor(db, handlers={"sync_etsy": CancelledMeanwhile})
    result = await proc.process_next_job()
    await proc.close()
    assert result is not None and result["status"] == "cancelled" and not result["success"]
    final = service.get_job(job.id)
    assert final.status == "cancelled"
    assert final.result_data == {"success": True, "listing_id": "123"}  # what happened is kept
    assert service.get_stats() == []


async def test_steps_resume_after_failure(db: Database) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="sync")
    calls: list[str] = []

    class ThreeSteps(BaseJobHandler):
        async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
            photos = await self.step("upload_photos", self.upload)
            offer = await self.step("create_offer", self.create_offer)
            listing = await self.step("publish_offer", self.publish)
            return {"success": True, **photos, **offer, **listing}

        async def upload(self) -> dict[str, Any]:
            calls.append("upload")
            return {"photos": ["p1"]}

        async def create_offer(self) -> dict[str, Any]:
            calls.append("offer")
            return {"offer_id": "o-1"}

        async def publish(self) -> dict[str, Any]:
            calls.append("publish")
            if calls.count("publish") == 1:
                raise RetryableJobError("eBay is down", retry_after=0)
            return {"listing_id": "L-9"}

    proc = processor(db, {"sync_ebay": ThreeSteps})
    first = await proc.process_next_job()
    second = await proc.process_next_job()
    await proc.close()
    assert first is not None and first["status"] == "pending"
    assert second is not None and second["status"] == "completed"
    assert calls == ["upload", "offer", "publish", "publish"]  # no second offer
    assert service.get_job(job.id).result_data == {
        "success": True,
        "photos": ["p1"],
        "offer_id": "o-1",
        "listing_id": "L-9",
    }
    with db.session() as session:
        steps = (
            session.query(MarketplaceTask)
            .filter_by(job_id=job.id)
            .order_by(MarketplaceTask.position)
            .all()
        )
        assert [(s.name, s.status, s.attempts) for s in steps] == [
            ("upload_photos", "completed", 1),
            ("create_offer", "completed", 1),
            ("publish_offer", "completed", 2),
        ]


async def test_batch_counters_and_status(
    db: Database, handlers: Handlers, make_products: Products
) -> None:
    products = make_products(4)
    service = MarketplaceJobService(db)
    batch, jobs = service.create_batch("etsy", "update", products)
    assert batch.total_count == 4 and batch.status == "pending"
    again, same = service.create_batch("etsy", "update", products[:2])
    assert [j.id for j in same] == [j.id for j in jobs[:2]] and again.total_count == 0
    service.cancel_job(jobs[3].id)
    with db.session() as session, session.begin():
        session.get_one(MarketplaceJob, jobs[2].id).input_data = {"fail": "permanent"}
    proc = processor(db, handlers)
    while await proc.process_next_job() is not None:
        pass
    await proc.close()
    from app.models import MarketplaceBatch

    with db.session() as session:
        done = session.get_one(MarketplaceBatch, batch.id)
        assert (done.completed_count, done.failed_count, done.cancelled_count) == (2, 1, 1)
        assert done.status == "partially_failed" and done.completed_at is not None
    service.retry_job(jobs[3].id)
    with db.session() as session:
        assert session.get_one(MarketplaceBatch, batch.id).status == "running"


def test_pause_resume_retry_expire(db: Database) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="vinted", action_code="orders")
    assert service.pause_job(job.id).status == "paused"
    with pytest.raises(JobStateError, match="is paused and cannot be paused"):
        service.pause_job(job.id)
    assert service.resume_job(job.id).status == "pending"
    assert service.expire_job(job.id).status == "expired"
    retried = service.retry_job(job.id)
    assert retried.status == "pending" and retried.retry_count == 0
    overdue = service.create_job(
        marketplace="vinted", action_code="sync", expires_at=utcnow() - timedelta(seconds=1)
    )
    assert service.expire_overdue() == 1
    assert service.get_job(overdue.id).status == "expired"
    with pytest.raises(LookupError, match="Job 999 does not exist"):
        service.cancel_job(999)


async def test_product_jobs_run_one_at_a_time_in_order(
    db: Database, handlers: Handlers, make_products: Products
) -> None:
    (product,) = make_products(1)
    service = MarketplaceJobService(db)
    publish = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    update = service.create_job(
        marketplace="ebay", action_code="update", product_id=product, priority=1
    )
    proc = processor(db, handlers)
    claimed = await proc.claim({"ebay": 5})
    assert [c.lease.job_id for c in claimed] == [publish.id]  # the update waits for the publish
    await proc.run_claimed(claimed[0])
    assert [c.lease.job_id for c in await proc.claim({"ebay": 5})] == [update.id]
    await proc.close()
