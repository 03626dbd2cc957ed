"""Jobs changed by another process reach this one's events (a team's shared queue, or a
worker beside the window): the window's pages follow them like their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from app.db import Database
from app.db.base import utcnow
from app.events import Event, JobChanged, JobCreated, SaleAlert, StatsChanged
from app.marketplace import MarketplaceJobService, change_feed
from app.marketplace.change_feed import JobChangeFeed, sales
from app.marketplace.tables import jobs
from app.models.user.sale import Sale
from tests.support.waiting import wait_until


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """The same database as another process sees it (its own engine and events)."""
    elsewhere = Database(db.url.render_as_string(hide_password=False))
    yield elsewhere
    elsewhere.close()


@pytest.fixture
async def heard(db: Database) -> Iterator[list[Event]]:
    """Every event published in this process, in order."""
    events: list[Event] = []
    unsubscribe = db.events.subscribe(events.append)
    yield events
    unsubscribe()


def about(events: list[Event], job_id: int) -> list[tuple[str, str]]:
    """What was said of ``job_id``: (event kind, status)."""
    said = []
    for event in events:
        if isinstance(event, JobCreated) and event.job_id == job_id:
            said.append(("created", "pending"))
        elif isinstance(event, JobChanged) and event.job_id == job_id:
            said.append(("changed", event.status))
    return said


async def test_changes_made_elsewhere_are_published_here_once(
    db: Database, other: Database, heard: list[Event]
) -> None:
    feed = JobChangeFeed(db, poll_seconds=0.05)
    feed.start()
    try:
        await asyncio.sleep(0.2)  # the first pass marks where following starts
        theirs = MarketplaceJobService(other)
        job = theirs.create_job(marketplace="ebay", action_code="sync", input_data={})
        await wait_until(lambda: about(heard, job.id) == [("created", "pending")])
        theirs.cancel_job(job.id)
        await wait_until(lambda: ("changed", "cancelled") in about(heard, job.id))
        await wait_until(lambda: any(isinstance(e, StatsChanged) for e in heard))
        assert [e.marketplace for e in heard if isinstance(e, StatsChanged)] == ["ebay"]
        theirs.retry_job(job.id)
        await wait_until(lambda: about(heard, job.id)[-1:] == [("changed", "pending")])
        await asyncio.sleep(0.3)  # several passes over the overlap: nothing said twice
        assert about(heard, job.id) == [
            ("created", "pending"),
            ("changed", "cancelled"),
            ("changed", "pending"),
        ]

        # this process's own changes are not repeated
        ours = MarketplaceJobService(db)
        mine = ours.create_job(marketplace="etsy", action_code="sync", input_data={})
        ours.cancel_job(mine.id)
        await asyncio.sleep(0.3)
        assert about(heard, mine.id) == [("created", "pending"), ("changed", "cancelled")]
    finally:
        await feed.stop()


async def test_a_job_changed_elsewhere_that_was_never_seen_here_is_told_too(
    db: Database, other: Database, heard: list[Event]
) -> None:
    """An old job (created before the window opened) that another process cancels."""
    old = MarketplaceJobService(other).create_job(
        marketplace="vinted", action_code="sync", input_data={}
    )
    with other.bind().begin() as conn:  # it was created well before
        conn.execute(
            update(jobs)
            .where(jobs.c.id == old.id)
            .values(created_at=old.created_at - timedelta(days=1))
        )
    feed = JobChangeFeed(db, poll_seconds=0.05)
    feed.start()
    try:
        await asyncio.sleep(0.2)
        MarketplaceJobService(other).pause_job(old.id)
        await wait_until(lambda: about(heard, old.id) == [("changed", "paused")])
    finally:
        await feed.stop()


async def test_a_change_committed_late_is_not_missed(
    db: Database, other: Database, heard: list[Event]
) -> None:
    """A change stamped before the newest one seen (its transaction began earlier and
    committed later) is read again within the overlap."""
    theirs = MarketplaceJobService(other)
    early = theirs.create_job(marketplace="ebay", action_code="sync", input_data={})
    feed = JobChangeFeed(db, poll_seconds=0.05, overlap=timedelta(seconds=30))
    feed.start()
    try:
        await asyncio.sleep(0.2)
        late = theirs.create_job(marketplace="etsy", action_code="sync", input_data={})
        await wait_until(lambda: about(heard, late.id) == [("created", "pending")])
        with other.bind().begin() as conn:  # cancelled "5 s ago", seen only now
            conn.execute(
                update(jobs)
                .where(jobs.c.id == early.id)
                .values(status="cancelled", updated_at=late.updated_at - timedelta(seconds=5))
            )
        await wait_until(lambda: about(heard, early.id) == [("changed", "cancelled")])
    finally:
        await feed.stop()


def sale_alerts(events: list[Event], sale_id: int) -> list[str]:
    return [e.kind for e in events if isinstance(e, SaleAlert) and e.sale_id == sale_id]


async def test_sale_alerts_raised_elsewhere_reach_this_process_once(
    db: Database, other: Database, heard: list[Event]
) -> None:
    """A teammate's worker records an oversell, then its delist fails (twice, after a
    retry): this window's tray hears each once."""
    feed = JobChangeFeed(db, poll_seconds=0.05)
    feed.start()
    try:
        await asyncio.sleep(0.2)
        with other.session() as session, session.begin():
            sale = Sale(
                marketplace="ebay",
                order_id="12-1",
                line_id="1",
                quantity=1,
                sold_at=utcnow(),
                quantity_before=0,
                quantity_after=0,
                oversell=True,
                status="delisting",
                message="Oversold: eBay order 12-1 bought 1 of “Coat” with none left.",
            )
            session.add(sale)
        await wait_until(lambda: sale_alerts(heard, sale.id) == ["oversell"])
        (alert,) = [e for e in heard if isinstance(e, SaleAlert)]
        assert alert.message.startswith("Oversold: eBay order 12-1") and alert.marketplace == "ebay"

        def set_status(status: str) -> None:
            with other.bind().begin() as conn:
                conn.execute(
                    update(sales)
                    .where(sales.c.id == sale.id)
                    .values(status=status, updated_at=utcnow())
                )

        set_status("delist_failed")
        await wait_until(lambda: sale_alerts(heard, sale.id) == ["oversell", "delist_failed"])
        set_status("delisting")  # the seller retried the delete...
        await asyncio.sleep(0.2)
        set_status("delist_failed")  # ...and it failed again: news again
        await wait_until(
            lambda: sale_alerts(heard, sale.id) == ["oversell", "delist_failed", "delist_failed"]
        )

        # an alert this process raised itself is not repeated
        db.events.publish(SaleAlert(sale.id, None, "ebay", "voided", "cancelled", 1))
        set_status("voided")
        await asyncio.sleep(0.3)
        assert sale_alerts(heard, sale.id) == [
            "oversell",
            "delist_failed",
            "delist_failed",
            "voided",
        ]
    finally:
        await feed.stop()


async def test_a_quiet_queue_is_not_read_again_and_a_big_burst_is_told_once(
    db: Database, other: Database, heard: list[Event], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a burst is older than the overlap, a pass reads nothing; a burst larger than
    what the feed remembers is still told once, not on every pass."""
    monkeypatch.setattr(change_feed, "REMEMBERED", 10)
    feed = JobChangeFeed(db, poll_seconds=0.05, overlap=timedelta(milliseconds=500))
    feed.start()
    try:
        await asyncio.sleep(0.2)
        theirs = MarketplaceJobService(other)
        made = [
            theirs.create_job(marketplace="etsy", action_code="sync", input_data={"n": n}).id
            for n in range(30)
        ]
        with other.bind().begin() as conn:  # one bulk change, as a "cancel all" would be
            conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(made))
                .values(status="failed", updated_at=other.now(conn))
            )
        await wait_until(lambda: all(("changed", "failed") in about(heard, i) for i in made))
        await asyncio.sleep(0.8)  # many passes, the burst now older than the overlap
        assert all(about(heard, i).count(("changed", "failed")) == 1 for i in made)
        seen, sold = await db.run(feed._read)
        assert seen == [] and sold == []
    finally:
        await feed.stop()


async def test_what_this_process_says_during_a_read_is_not_overridden_by_it(
    db: Database, other: Database, heard: list[Event]
) -> None:
    """A pass read a job as pending while this process cancelled it: the stale row is
    not published (it would show the job pending again)."""
    job = MarketplaceJobService(other).create_job(
        marketplace="ebay", action_code="sync", input_data={}
    )
    feed = JobChangeFeed(db, poll_seconds=0.05)
    feed.start()
    try:
        await asyncio.sleep(0.2)  # the job is known (pending) from the first pass
        ours = MarketplaceJobService(db)
        read = feed._read

        def stale_read() -> tuple[list[Any], list[Any]]:
            seen, sold = read()
            stale = [s for s in seen if s.job_id == job.id]  # the row as read: pending
            ours.cancel_job(job.id)  # meanwhile, here (its event comes from this thread)
            return stale or [
                change_feed._Seen(job.id, "ebay", "pending", job.created_at, utcnow())
            ], sold

        feed._read = stale_read  # type: ignore[method-assign]
        await wait_until(lambda: ("changed", "cancelled") in about(heard, job.id))
        feed._read = read  # type: ignore[method-assign]
        await asyncio.sleep(0.3)
        assert about(heard, job.id) == [("changed", "cancelled")]  # never "pending" again
    finally:
        await feed.stop()
