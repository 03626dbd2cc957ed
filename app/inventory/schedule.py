"""Recurring order syncs: one schedule per marketplace, kept in ``schedules``.

:class:`OrderSyncScheduler` is an asyncio task. Each pass (:meth:`~OrderSyncScheduler.tick`)
makes sure every served marketplace has its row (``order_sync:<marketplace>``, every
:data:`DEFAULT_INTERVAL` seconds, first run due at once: the start-up sync), and for each
row that is due and whose marketplace is ready (eBay, Etsy: the account is connected;
Vinted: the browser plugin is connected and logged in) moves ``next_run_at`` one
interval on with a guarded UPDATE and queues the marketplace's order sync (``run_at`` =
now) in the same transaction. The job's idempotency key is the one of any order sync
of that marketplace without input, so there are never two waiting, and two schedulers
on one database (a window and a worker) never both queue: only one wins the UPDATE.

Because ``next_run_at`` is stored, a restart honours it: a sync that ran a minute ago
is not repeated at start-up, a schedule overdue while the program was closed runs at
once. A marketplace that is due but not ready runs as soon as it is (the scheduler wakes
on connection and plugin events, and looks again every ``poll_seconds``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.events import BridgeStateChanged, ConnectionChanged, Event, JobCreated
from app.inventory.follower import Follower
from app.marketplace.action_types import check_marketplace
from app.marketplace.job_keys import idempotency_key
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.stats import dialect_insert
from app.models.user.marketplace_account import ConnectionState
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES
from app.models.user.schedule import MIN_INTERVAL_SECONDS, Schedule

if TYPE_CHECKING:
    from app.accounts import AccountManager
    from app.bridge.status import BridgeStatus

log = logging.getLogger("marketdesk.inventory")

#: Every five minutes while the program runs.
DEFAULT_INTERVAL = 300
#: The order-sync action of each marketplace.
ORDER_SYNC_ACTIONS = {"vinted": "orders", "ebay": "sync_orders", "etsy": "sync_orders"}

schedules = cast(Table, Schedule.__table__)


def schedule_name(marketplace: str) -> str:
    """The ``schedules`` row of a marketplace's order sync."""
    return f"order_sync:{marketplace}"


class Readiness(Protocol):
    """Whether a marketplace can run its order sync now."""

    async def ready(self, marketplace: str) -> bool:
        """True when a job of ``marketplace`` could run now."""
        ...


class PluginBridge(Protocol):
    """What readiness needs of the plugin bridge (:class:`app.bridge.host.BridgeHost`)."""

    def status(self) -> BridgeStatus:
        """What the bridge is doing now."""
        ...


class MarketplaceReadiness:
    """eBay and Etsy: the account is connected; Vinted: the plugin is paired and logged in."""

    def __init__(self, accounts: AccountManager | None, bridge: PluginBridge | None) -> None:
        self.accounts = accounts
        self.bridge = bridge

    async def ready(self, marketplace: str) -> bool:
        if marketplace == "vinted":
            if self.bridge is None:
                return False
            status = self.bridge.status()
            return status.state == "connected" and bool(status.vinted and status.vinted.logged_in)
        if self.accounts is None:
            return False
        account = await self.accounts.status(marketplace)
        return account.configured and account.state == ConnectionState.CONNECTED


@dataclass(frozen=True)
class ScheduleInfo:
    """A marketplace's order-sync schedule as stored."""

    marketplace: str
    interval_seconds: int
    enabled: bool
    next_run_at: datetime
    last_run_at: datetime | None
    last_job_id: int | None


def _info(row: Any) -> ScheduleInfo:
    return ScheduleInfo(
        row.marketplace,
        row.interval_seconds,
        bool(row.enabled),
        row.next_run_at,
        row.last_run_at,
        row.last_job_id,
    )


def ensure_schedules(conn: Connection, now: datetime, marketplaces: Iterable[str]) -> None:
    """Add the missing order-sync rows (due at once) of ``marketplaces``."""
    for marketplace in marketplaces:
        stmt: Any = dialect_insert(conn, schedules).values(
            name=schedule_name(marketplace),
            marketplace=marketplace,
            action_code=ORDER_SYNC_ACTIONS[marketplace],
            interval_seconds=DEFAULT_INTERVAL,
            enabled=True,
            next_run_at=now,
            created_at=now,
        )
        conn.execute(stmt.on_conflict_do_nothing(index_elements=[schedules.c.name]))


def _rows(conn: Connection, marketplaces: Iterable[str]) -> list[Any]:
    names = [schedule_name(m) for m in marketplaces]
    return list(
        conn.execute(select(schedules).where(schedules.c.name.in_(names)).order_by(schedules.c.id))
    )


def load_schedules(
    db: Database, user_id: int = 1, marketplaces: Iterable[str] = MARKETPLACE_VALUES
) -> list[ScheduleInfo]:
    """The order-sync schedules (made when missing); blocking."""
    wanted = list(marketplaces)
    with db.bind(user_id).begin() as conn:
        ensure_schedules(conn, db.now(conn), wanted)
        return [_info(row) for row in _rows(conn, wanted)]


def save_interval(
    db: Database, user_id: int, marketplace: str, seconds: int, enabled: bool = True
) -> ScheduleInfo:
    """Sync ``marketplace``'s orders every ``seconds`` (at least 60) from now on; blocking.

    The next sync moves to one new interval after the last one (at once when that has
    passed already).
    """
    marketplace = check_marketplace(marketplace)
    if seconds < MIN_INTERVAL_SECONDS:
        raise ValueError(f"Order sync interval: at least {MIN_INTERVAL_SECONDS} seconds")
    with db.bind(user_id).begin() as conn:
        now = db.now(conn)
        ensure_schedules(conn, now, [marketplace])
        (row,) = _rows(conn, [marketplace])
        last = row.last_run_at
        conn.execute(
            update(schedules)
            .where(schedules.c.id == row.id)
            .values(
                interval_seconds=seconds,
                enabled=enabled,
                next_run_at=last + timedelta(seconds=seconds) if last else row.next_run_at,
                updated_at=now,
            )
        )
        (saved,) = _rows(conn, [marketplace])
    log.info("order sync of %s: every %d s%s", marketplace, seconds, "" if enabled else " (off)")
    return _info(saved)


class OrderSyncScheduler(Follower):
    """Queues each served marketplace's order sync at start-up and every interval."""

    name = "order-sync-schedule"

    def __init__(
        self,
        db: Database,
        service: MarketplaceJobService,
        readiness: Readiness,
        *,
        marketplaces: Iterable[str] = MARKETPLACE_VALUES,
        poll_seconds: float = 30.0,
    ) -> None:
        super().__init__(db, poll_seconds)
        self.service = service
        self.readiness = readiness
        self.marketplaces = tuple(check_marketplace(m) for m in marketplaces)
        self._ensured = False

    def start(self) -> None:
        """Start the schedule (its first pass runs at once)."""
        if self.running or not self.marketplaces:
            return
        self._begin()
        log.info("order sync schedule started for %s", ", ".join(self.marketplaces))

    def _on_event(self, event: Event) -> None:
        if isinstance(event, ConnectionChanged | BridgeStateChanged):
            self.wake()  # a marketplace may have become ready

    async def step(self) -> float:
        """Queue the due syncs; again when the next is due."""
        return await self.tick()

    async def tick(self) -> float:
        """Queue the due syncs of the ready marketplaces; seconds until the next is due."""
        ready = {m for m in self.marketplaces if await self.readiness.ready(m)}
        created, wait = await self.db.run(self._due, ready)
        self.db.events.publish_many(
            JobCreated(job_id, marketplace, self.service.user_id) for job_id, marketplace in created
        )
        return min(wait, self.poll_seconds)

    def _due(self, ready: set[str]) -> tuple[list[tuple[int, str]], float]:
        """Queue the due syncs of the ``ready`` marketplaces; the jobs made and the seconds
        until the next is due. A pass with nothing due only reads (on SQLite, no write
        lock every ``poll_seconds``); the rows are made once per scheduler."""
        if not self._ensured:
            with self.db.bind(self.service.user_id).begin() as conn:
                ensure_schedules(conn, self.db.now(conn), self.marketplaces)
            self._ensured = True
        with self.db.bind(self.service.user_id, readonly=True).connect() as conn:
            now = self.db.now(conn)
            rows = _rows(conn, self.marketplaces)
        #: When each schedule that matters next is due (a due one waits for readiness).
        upcoming = {
            row.id: row.next_run_at
            for row in rows
            if row.enabled and (row.next_run_at > now or row.marketplace in ready)
        }
        due = [row for row in rows if row.id in upcoming and row.next_run_at <= now]
        created: list[tuple[int, str]] = []
        if due:
            with self.db.session(self.service.user_id) as session, session.begin():
                conn = session.connection()
                now = self.db.now(conn)
                for row in due:
                    job = self._queue(session, row, now)
                    if job is None:
                        upcoming.pop(row.id)  # another scheduler took this run
                        continue
                    upcoming[row.id] = now + timedelta(seconds=row.interval_seconds)
                    if job[1]:
                        created.append((job[0], row.marketplace))
        waits = [(moment - now).total_seconds() for moment in upcoming.values()]
        return created, max(min(waits, default=self.poll_seconds), 0.0)

    def _queue(self, session: Session, row: Any, now: datetime) -> tuple[int, bool] | None:
        """Move ``row``'s next run one interval on and queue its order sync, in
        ``session``'s transaction: the job's id and whether it is new; None when another
        scheduler moved it first (the guarded UPDATE found nothing due)."""
        conn = session.connection()
        moved = conn.execute(
            update(schedules)
            .where(
                schedules.c.id == row.id,
                schedules.c.next_run_at <= now,
                schedules.c.enabled.is_(True),  # not turned off since the read
            )
            .values(
                next_run_at=now + timedelta(seconds=row.interval_seconds),
                last_run_at=now,
                updated_at=now,
            )
            .returning(schedules.c.id)
        ).first()
        if moved is None:
            return None
        job, new = self.service._create(
            session,
            marketplace=row.marketplace,
            action_code=row.action_code,
            product_id=None,
            priority=None,
            input_data=None,
            run_at=now,
            key=idempotency_key(row.marketplace, row.action_code, None, None),
        )
        conn.execute(update(schedules).where(schedules.c.id == row.id).values(last_job_id=job.id))
        log.info(
            "order sync of %s: job %s%s",
            row.marketplace,
            job.id,
            "" if new else " (already queued)",
        )
        return job.id, new
