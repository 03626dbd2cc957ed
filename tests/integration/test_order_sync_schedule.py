"""The order-sync schedule: start-up sync, intervals, restarts, readiness, scheduled jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from app.accounts import AccountManager
from app.bridge.server import BridgeServer
from app.db import Database
from app.events import Event, JobCreated
from app.inventory.schedule import (
    DEFAULT_INTERVAL,
    MarketplaceReadiness,
    OrderSyncScheduler,
    _rows,
    load_schedules,
    save_interval,
    schedules,
)
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.models.user.marketplace_job import MarketplaceJob
from tests.fakes import FakeEbay
from tests.support.marketplaces import add_product, connect_ebay, make_due
from tests.support.plugin_client import ScriptedPlugin

CODES = {"vinted": "orders", "ebay": "sync_orders", "etsy": "sync_orders"}


class Ready:
    """Readiness decided by the test."""

    def __init__(self, *ready: str) -> None:
        self.marketplaces = set(ready or CODES)

    async def ready(self, marketplace: str) -> bool:
        return marketplace in self.marketplaces


def scheduler(db: Database, ready: Ready | None = None, **options: object) -> OrderSyncScheduler:
    return OrderSyncScheduler(db, MarketplaceJobService(db), ready or Ready(), **options)  # type: ignore[arg-type]


def sync_jobs(db: Database, status: str | None = None) -> list[MarketplaceJob]:
    query = select(MarketplaceJob).order_by(MarketplaceJob.id)
    if status is not None:
        query = query.where(MarketplaceJob.status == status)
    with db.session(readonly=True) as session:
        return list(session.scalars(query).all())


def move_schedule(db: Database, marketplace: str, **values: object) -> None:
    with db.bind().begin() as conn:
        conn.execute(
            update(schedules).where(schedules.c.marketplace == marketplace).values(**values)
        )


async def test_start_up_syncs_once_then_every_interval(db: Database) -> None:
    first = scheduler(db)
    wait = await first.tick()

    jobs = sync_jobs(db)
    assert sorted((j.marketplace, j.status) for j in jobs) == [
        ("ebay", "pending"),
        ("etsy", "pending"),
        ("vinted", "pending"),
    ]
    assert 0 < wait <= first.poll_seconds
    stored = {s.marketplace: s for s in load_schedules(db)}
    for job in jobs:
        info = stored[job.marketplace]
        assert info.interval_seconds == DEFAULT_INTERVAL and info.enabled
        assert info.last_job_id == job.id and info.last_run_at is not None
        assert info.next_run_at == info.last_run_at + timedelta(seconds=DEFAULT_INTERVAL)
        assert abs((job.run_at - info.last_run_at).total_seconds()) < 1
    assert await first.tick() and len(sync_jobs(db)) == 3  # nothing due yet

    # due again while the last sync still waits: never a second one waiting
    move_schedule(db, "ebay", next_run_at=datetime.now(UTC) - timedelta(seconds=1))
    await first.tick()
    assert [j.marketplace for j in sync_jobs(db, "pending")].count("ebay") == 1
    assert len(sync_jobs(db)) == 3


async def test_the_schedule_survives_a_restart(db: Database) -> None:
    before = scheduler(db)
    await before.tick()
    stored = {s.marketplace: s.next_run_at for s in load_schedules(db)}
    with db.bind().begin() as conn:  # the syncs ran
        conn.execute(update(MarketplaceJob.__table__).values(status="completed"))

    after = scheduler(db)  # the program started again a moment later
    wait = await after.tick()
    assert len(sync_jobs(db)) == 3  # no second start-up sync before the interval is over
    assert {s.marketplace: s.next_run_at for s in load_schedules(db)} == stored
    assert wait == pytest.approx(after.poll_seconds)  # capped; the next sync is minutes away

    # the program was closed for longer than an interval: it syncs at once
    move_schedule(db, "etsy", next_run_at=datetime.now(UTC) - timedelta(hours=3))
    restarted = scheduler(db)
    await restarted.tick()
    assert [j.marketplace for j in sync_jobs(db, "pending")] == ["etsy"]


async def test_only_ready_marketplaces_sync_and_the_others_when_they_are(db: Database) -> None:
    ready = Ready("ebay")
    sched = scheduler(db, ready)
    await sched.tick()
    assert [j.marketplace for j in sync_jobs(db)] == ["ebay"]
    due = {s.marketplace: s.next_run_at for s in load_schedules(db)}

    ready.marketplaces.add("vinted")
    await sched.tick()
    assert sorted(j.marketplace for j in sync_jobs(db)) == ["ebay", "vinted"]
    assert {s.marketplace: s.next_run_at for s in load_schedules(db)}["etsy"] == due["etsy"]


async def test_two_schedulers_on_one_database_queue_one_sync(db: Database) -> None:
    await asyncio.gather(scheduler(db).tick(), scheduler(db).tick())
    assert sorted(j.marketplace for j in sync_jobs(db)) == ["ebay", "etsy", "vinted"]


async def test_served_marketplaces_only(db: Database) -> None:
    await scheduler(db, marketplaces=["etsy"]).tick()
    assert [j.marketplace for j in sync_jobs(db)] == ["etsy"]
    assert [s.marketplace for s in load_schedules(db, marketplaces=["etsy"])] == ["etsy"]


async def test_intervals_are_saved_with_a_minimum(db: Database) -> None:
    sched = scheduler(db)
    await sched.tick()
    last = {s.marketplace: s.last_run_at for s in load_schedules(db)}
    saved = save_interval(db, 1, "ebay", 120)
    assert saved.interval_seconds == 120
    assert saved.next_run_at == last["ebay"] + timedelta(seconds=120)  # type: ignore[operator]
    off = save_interval(db, 1, "vinted", 600, enabled=False)
    assert (off.interval_seconds, off.enabled) == (600, False)
    with pytest.raises(ValueError, match="at least 60 seconds"):
        save_interval(db, 1, "etsy", 59)
    move_schedule(db, "vinted", next_run_at=datetime.now(UTC) - timedelta(seconds=1))
    with db.bind().begin() as conn:
        conn.execute(update(MarketplaceJob.__table__).values(status="completed"))
    await sched.tick()
    assert sync_jobs(db, "pending") == []  # switched off


async def test_the_running_scheduler_queues_at_start_up_and_wakes_on_changes(
    db: Database,
) -> None:
    created: list[Event] = []
    unsubscribe = db.events.subscribe(created.append)
    ready = Ready("etsy")
    sched = scheduler(db, ready, poll_seconds=30)
    sched.start()
    try:
        deadline = asyncio.get_running_loop().time() + 5
        while not any(isinstance(e, JobCreated) for e in created):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        ready.marketplaces.add("ebay")
        sched.wake()  # as a connection event would
        while len([e for e in created if isinstance(e, JobCreated)]) < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
    finally:
        await sched.stop()
        unsubscribe()
    assert not sched.running
    assert sorted(j.marketplace for j in sync_jobs(db)) == ["ebay", "etsy"]


async def test_readiness_follows_accounts_and_the_plugin(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    bridge = BridgeServer("readiness", port=0)
    await bridge.start()
    try:
        readiness = MarketplaceReadiness(accounts, bridge)
        assert [await readiness.ready(m) for m in CODES] == [False, False, False]
        await connect_ebay(accounts, fake_ebay)
        async with ScriptedPlugin(bridge.port, "readiness"):
            assert [await readiness.ready(m) for m in CODES] == [True, True, False]
        logged_out = ScriptedPlugin(bridge.port, "readiness", vinted={"logged_in": False})
        async with logged_out:
            assert not await readiness.ready("vinted")
    finally:
        await bridge.stop()
    assert not await MarketplaceReadiness(None, None).ready("ebay")


async def test_a_job_waits_for_its_run_at(db: Database) -> None:
    product = add_product(db)
    service = MarketplaceJobService(db)
    later = datetime.now(UTC) + timedelta(days=1)
    single = service.create_job("ebay", "delete", product, run_at=later)
    batch, (batched,) = service.create_batch("etsy", "delete", [product], run_at=later)
    assert (single.run_at, batched.run_at, batched.batch_id) == (later, later, batch.id)
    processor = MarketplaceJobProcessor(db)
    try:
        assert await processor.process_next_job() is None  # not yet
        make_due(db, single.id)
        result = await processor.process_next_job()
        assert result is not None and result["job_id"] == single.id
    finally:
        await processor.close()


async def test_a_pass_with_nothing_due_writes_nothing(db: Database) -> None:
    """The schedule looks every poll: only a due sync takes a write lock (SQLite's BEGIN
    IMMEDIATE) or writes a row."""
    schedule = scheduler(db)
    await schedule.tick()  # the start-up syncs: rows made, jobs queued
    writes: list[str] = []

    def note(conn: object, cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")):
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for _ in range(3):
            assert await schedule.tick() > 0
        assert writes == []
        move_schedule(db, "etsy", next_run_at=datetime.now(UTC) - timedelta(seconds=1))
        writes.clear()
        await schedule.tick()  # etsy is due: now it writes
        assert any(w.lstrip().upper().startswith("UPDATE") for w in writes)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert [j.marketplace for j in sync_jobs(db, "pending")].count("etsy") == 1


async def test_a_schedule_turned_off_after_the_read_does_not_queue(db: Database) -> None:
    schedule = scheduler(db)
    load_schedules(db)  # the rows, due at once
    with db.bind(readonly=True).connect() as conn:
        (row,) = [r for r in _rows(conn, ["etsy"])]
        now = db.now(conn)
    save_interval(db, 1, "etsy", 600, enabled=False)  # the seller turns it off meanwhile
    with db.session() as session, session.begin():
        assert schedule._queue(session, row, now) is None
    assert sync_jobs(db) == []
