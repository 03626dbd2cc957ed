"""Following a sale's delete and update jobs to the end, and alerting when they fail.

:func:`settle_sales` looks at the jobs each unsettled sale queued (``sales.actions``):
one that finally failed or expired (the queue already spent its retries) makes the sale
``delist_failed`` and raises :class:`app.events.SaleAlert` (``delist_failed``): the
product may still be for sale elsewhere, a double sale is at stake. When every job
completed (or the seller cancelled it) the sale is ``done``. A seller who retries the
failed job puts the sale back to ``delisting``, so a second failure alerts again. Every
status change is a guarded UPDATE, so two watchers (a window and a worker on one
database) never alert twice.

:class:`SaleWatcher` runs it whenever a followed job changes status (``JobChanged``), at
start-up (what happened while the program was closed) and every ``poll_seconds`` (jobs
run by other processes). :func:`needing_attention` is the dashboard's list. A ``voided``
sale (:mod:`app.inventory.voids`) is neither settled nor listed as needing attention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.db.base import utcnow
from app.events import Event, JobChanged, JobCreated, SaleAlert
from app.inventory.follower import Follower
from app.inventory.sales import name_of
from app.models.user.marketplace_job import JobStatus, MarketplaceJob
from app.models.user.product import Product
from app.models.user.sale import Sale, SaleStatus

log = logging.getLogger("marketdesk.inventory")

sales = cast(Table, Sale.__table__)
UNSETTLED = (SaleStatus.DELISTING.value, SaleStatus.DELIST_FAILED.value)
GAVE_UP = frozenset({JobStatus.FAILED.value, JobStatus.EXPIRED.value})
VERBS = {"delete": "take it off", "update": "lower its quantity on"}
#: How far back the dashboard lists sales needing attention.
ATTENTION_DAYS = 7


@dataclass(frozen=True)
class _JobState:
    status: str
    error: str | None


def settle_sales(session: Session, user_id: int = 1) -> list[SaleAlert]:
    """Bring each unsettled sale's status in line with its jobs; the new alerts."""
    rows = session.scalars(select(Sale).where(Sale.status.in_(UNSETTLED))).all()
    if not rows:
        return []
    job_ids = {int(action["job_id"]) for sale in rows for action in sale.actions}
    states = {
        job_id: _JobState(status, error)
        for job_id, status, error in session.execute(
            select(MarketplaceJob.id, MarketplaceJob.status, MarketplaceJob.error_message).where(
                MarketplaceJob.id.in_(job_ids)
            )
        )
    }
    alerts: list[SaleAlert] = []
    now = utcnow()
    for sale in rows:
        status, message = _verdict(session, sale, states)
        if status == sale.status:
            continue
        changed = session.execute(
            update(sales)
            .where(sales.c.id == sale.id, sales.c.status == sale.status)
            .values(status=status, message=message, updated_at=now)
            .returning(sales.c.id)
        ).first()
        if changed is None:
            continue  # another watcher settled it first
        log.info("sale %s: %s -> %s", sale.id, sale.status, status)
        if status == SaleStatus.DELIST_FAILED:
            log.error("sale %s: %s", sale.id, message)
            alerts.append(
                SaleAlert(
                    sale.id,
                    sale.product_id,
                    sale.marketplace,
                    "delist_failed",
                    message or "",
                    user_id,
                )
            )
    return alerts


def _verdict(session: Session, sale: Sale, states: dict[int, _JobState]) -> tuple[str, str | None]:
    """The sale's status as its jobs say, and the message that goes with it."""
    failed: list[tuple[dict[str, Any], _JobState]] = []
    waiting = False
    for action in sale.actions:
        state = states.get(int(action["job_id"]))
        if state is None or state.status == JobStatus.CANCELLED:
            continue  # the seller cancelled (or removed) it: nothing left to wait for
        if state.status in GAVE_UP:
            failed.append((action, state))
        elif state.status != JobStatus.COMPLETED:
            waiting = True
    if failed:
        title = _title(session, sale.product_id)
        problems = "; ".join(
            f"{VERBS.get(str(action['action']), 'change it on')} {name_of(str(action['marketplace']))}"
            f" ({state.error or state.status})"
            for action, state in failed
        )
        places = ", ".join(name_of(str(action["marketplace"])) for action, _ in failed)
        return SaleStatus.DELIST_FAILED.value, (
            f"“{title}” sold on {name_of(sale.marketplace)} (order {sale.order_id}) but "
            f"Marketdesk could not {problems}. End the listing on {places} by hand "
            "before someone else buys it"
        )
    if waiting:
        return SaleStatus.DELISTING.value, sale.message if sale.oversell else None
    return SaleStatus.DONE.value, sale.message if sale.oversell else None


def _title(session: Session, product_id: int | None) -> str:
    if product_id is None:
        return "A product no longer in the catalog"
    title = session.scalar(select(Product.title).where(Product.id == product_id))
    return title or f"Product {product_id}"


@dataclass(frozen=True)
class SaleNotice:
    """A sale the dashboard lists: oversold, or its listings could not all be ended."""

    sale_id: int
    marketplace: str
    order_id: str
    product_id: int | None
    title: str
    oversell: bool
    status: str
    message: str
    detected_at: datetime


def needing_attention(
    session: Session, limit: int = 20, days: int = ATTENTION_DAYS
) -> list[SaleNotice]:
    """Oversells and failed delists of the last ``days`` days, newest first (not the
    voided ones: their order was cancelled or refunded)."""
    since = utcnow() - timedelta(days=days)
    query = (
        select(Sale, Product.title)
        .outerjoin(Product, Product.id == Sale.product_id)
        .where(
            or_(Sale.oversell.is_(True), Sale.status == SaleStatus.DELIST_FAILED),
            # a cancelled or refunded sale is no double sale any more
            Sale.status != SaleStatus.VOIDED,
            Sale.detected_at >= since,
        )
        .order_by(Sale.id.desc())
        .limit(limit)
    )
    return [
        SaleNotice(
            sale.id,
            sale.marketplace,
            sale.order_id,
            sale.product_id,
            title or "(no longer in the catalog)",
            sale.oversell,
            sale.status,
            sale.message or "",
            sale.detected_at,
        )
        for sale, title in session.execute(query)
    ]


class SaleWatcher(Follower):
    """Settles sales as their jobs end and publishes the alerts (one asyncio task)."""

    name = "sale-watcher"

    def __init__(self, db: Database, user_id: int = 1, *, poll_seconds: float = 30.0) -> None:
        super().__init__(db, poll_seconds)
        self.user_id = user_id
        self._watched: set[int] = set()
        self._stale = True

    def start(self) -> None:
        """Follow job changes from now on (settles once at once)."""
        if self.running:
            return
        self._stale = True
        self._begin()

    def _on_event(self, event: Event) -> None:
        if getattr(event, "user_id", self.user_id) != self.user_id:
            return
        if isinstance(event, JobCreated):
            self._stale = True  # maybe a sale's new job: re-read what to follow
        elif isinstance(event, JobChanged) and (self._stale or event.job_id in self._watched):
            self.wake()

    async def step(self) -> float:
        """Settle the sales; again after the poll interval unless a job wakes it."""
        await self.settle()
        return self.poll_seconds

    async def settle(self) -> list[SaleAlert]:
        """One pass: settle sales, publish the alerts, remember which jobs to follow."""
        self._stale = False
        alerts, watched = await self.db.run(self._settle)
        self._watched = watched
        if alerts:
            self.db.events.publish_many(alerts)
        return alerts

    def _settle(self) -> tuple[list[SaleAlert], set[int]]:
        with self.db.session(self.user_id) as session, session.begin():
            alerts = settle_sales(session, self.user_id)
            pending = session.scalars(select(Sale.actions).where(Sale.status.in_(UNSETTLED)))
            watched = {int(action["job_id"]) for actions in pending for action in actions}
        return alerts, watched


@dataclass(frozen=True)
class SaleLine:
    """A recorded sale with what was done about it, for the dashboard."""

    sale_id: int
    marketplace: str
    order_id: str
    title: str
    quantity: int
    quantity_before: int
    quantity_after: int
    status: str
    #: (marketplace, action, job id, the job's status) of each follow-up job.
    actions: tuple[tuple[str, str, int, str], ...]


def recent_sales(session: Session, limit: int = 20) -> list[SaleLine]:
    """The newest sales and the state of their delete/update jobs, newest first."""
    rows = session.execute(
        select(Sale, Product.title)
        .outerjoin(Product, Product.id == Sale.product_id)
        .order_by(Sale.id.desc())
        .limit(limit)
    ).all()
    job_ids = {int(action["job_id"]) for sale, _ in rows for action in sale.actions}
    statuses: dict[int, str] = {}
    if job_ids:
        found = session.execute(
            select(MarketplaceJob.id, MarketplaceJob.status).where(MarketplaceJob.id.in_(job_ids))
        )
        statuses = {int(job_id): str(status) for job_id, status in found}
    return [
        SaleLine(
            sale.id,
            sale.marketplace,
            sale.order_id,
            title or "(no longer in the catalog)",
            sale.quantity,
            sale.quantity_before,
            sale.quantity_after,
            sale.status,
            tuple(
                (
                    str(action["marketplace"]),
                    str(action["action"]),
                    int(action["job_id"]),
                    statuses.get(int(action["job_id"]), "gone"),
                )
                for action in sale.actions
            ),
        )
        for sale, title in rows
    ]
