"""Core events that the window subscribes to: created, changed, stats changed."""

from __future__ import annotations

from app.db import Database
from app.events import Event, JobChanged, JobCreated, StatsChanged
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler


async def test_events_follow_a_job(db: Database, handlers: dict[str, type[BaseJobHandler]]) -> None:
    seen: list[Event] = []
    unsubscribe = db.events.subscribe(seen.append)

    def broken(event: Event) -> None:
        raise RuntimeError("a faulty subscriber must not break the queue")

    db.events.subscribe(broken)
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="etsy", action_code="sync")
    service.create_job(marketplace="etsy", action_code="sync")  # duplicate: no second event
    processor = MarketplaceJobProcessor(db, handlers=handlers)
    await processor.process_next_job()
    await processor.close()
    unsubscribe()
    service.create_job(marketplace="ebay", action_code="sync")
    assert seen == [
        JobCreated(job.id, "etsy"),
        JobChanged(job.id, "etsy", "completed"),
        StatsChanged("etsy"),
    ]


def test_update_job_stats_is_an_atomic_upsert(db: Database) -> None:
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="vinted", action_code="orders")
    service.update_job_stats(job, True, 100, "vinted")
    service.update_job_stats(job, False, 300, "vinted")
    (row,) = service.get_stats(marketplace="vinted")
    assert (row.total_jobs, row.success_count, row.failure_count) == (2, 1, 1)
    assert row.avg_duration_ms == 200.0 and row.total_duration_ms == 400
    assert row.success_rate == 0.5
