"""Job and sale changes made by other processes, as events of this one.

A process publishes core events (:mod:`app.events`) only for its own changes, and the
window's pages and tray follow those events. On a shared queue (a team on PostgreSQL, or
a worker beside the window on the same SQLite file) other processes create and run jobs
and record sales too: :class:`JobChangeFeed` reads the jobs changed since it last looked
(``updated_at``, set by the database's clock on every change) every ``poll_seconds``, and
publishes ``JobCreated``, ``JobChanged`` and, for jobs that ended, ``StatsChanged``, for
the changes this process has not published itself; and from the sales changed meanwhile,
the ``SaleAlert`` of an oversell, a delist that finally failed or a voided sale that
another process raised. It re-reads a short ``overlap`` before the newest change it saw,
so a transaction that committed after a later one (PostgreSQL stamps the time its
transaction began) is not missed; a change seen twice is published once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select

from app.db import Database
from app.events import Event, JobChanged, JobCreated, SaleAlert, StatsChanged
from app.inventory.follower import Follower
from app.marketplace.tables import jobs
from app.models.user.marketplace_job import TERMINAL_STATUSES
from app.models.user.sale import Sale, SaleStatus

log = logging.getLogger("marketdesk.marketplace")

#: How many jobs' last known status are remembered (the oldest are forgotten first).
REMEMBERED = 50_000
ENDED = frozenset(status.value for status in TERMINAL_STATUSES)
sales = cast(Table, Sale.__table__)


@dataclass(frozen=True)
class _Seen:
    """A job as one pass read it."""

    job_id: int
    marketplace: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _SaleSeen:
    """A sale as one pass read it."""

    sale_id: int
    product_id: int | None
    marketplace: str
    status: str
    oversell: bool
    message: str | None
    changed_at: datetime

    def alerts(self) -> set[str]:
        """The alert kinds its state stands for."""
        kinds = set()
        if self.status == SaleStatus.VOIDED:
            kinds.add("voided")
        elif self.oversell:
            kinds.add("oversell")
        if self.status == SaleStatus.DELIST_FAILED:
            kinds.add("delist_failed")
        return kinds


class JobChangeFeed(Follower):
    """Publishes, as this process's events, the job changes and sale alerts other
    processes made."""

    name = "job-change-feed"

    def __init__(
        self,
        db: Database,
        user_id: int = 1,
        *,
        poll_seconds: float = 2.0,
        overlap: timedelta = timedelta(seconds=10),
    ) -> None:
        super().__init__(db, poll_seconds)
        self.user_id = user_id
        self.overlap = overlap
        #: The newest ``updated_at`` read so far (None before the first pass).
        self._newest: datetime | None = None
        #: Where the last pass began to read: a job created after it is a new job.
        self._window_start: datetime | None = None
        #: Each job's last known status: published by this process or read by a pass.
        self._status: OrderedDict[int, str] = OrderedDict()
        #: The newest sale change read so far (sales are stamped by the writer's clock).
        self._sales_newest: datetime | None = None
        #: The alerts raised of each sale, here or read by a pass: (sale id, kind).
        self._alerted: OrderedDict[tuple[int, str], None] = OrderedDict()

    def start(self) -> None:
        """Follow from now on (what changed before is what the pages load anyway; the
        first pass only learns the jobs changed within the overlap)."""
        if not self.running:
            self._begin()

    def _on_event(self, event: Event) -> None:
        if getattr(event, "user_id", self.user_id) != self.user_id:
            return
        if isinstance(event, JobChanged):
            self._remember(event.job_id, event.status)
        elif isinstance(event, JobCreated) and event.job_id not in self._status:
            self._remember(event.job_id, "pending")
        elif isinstance(event, SaleAlert):
            self._alert_known(event.sale_id, event.kind)

    def _alert_known(self, sale_id: int, kind: str) -> None:
        self._alerted[(sale_id, kind)] = None
        self._alerted.move_to_end((sale_id, kind))
        while len(self._alerted) > REMEMBERED:
            self._alerted.popitem(last=False)

    def _remember(self, job_id: int, status: str) -> None:
        self._status[job_id] = status
        self._status.move_to_end(job_id)
        while len(self._status) > REMEMBERED:
            self._status.popitem(last=False)

    async def step(self) -> float:
        """Read the changes since the last pass; publish those made elsewhere."""
        first = self._newest is None
        seen, sold = await self.db.run(self._read)
        if first:  # what changed just before: known from now on, not news
            for job in seen:
                self._remember(job.job_id, job.status)
            for sale in sold:
                for kind in sale.alerts():
                    self._alert_known(sale.sale_id, kind)
            return self.poll_seconds
        events = [*self._news(seen), *self._sale_news(sold)]
        if events:
            log.debug("%d job change(s) made by other processes", len(events))
            self.db.events.publish_many(events)
        return self.poll_seconds

    def _read(self) -> tuple[list[_Seen], list[_SaleSeen]]:
        with self.db.bind(self.user_id, readonly=True).connect() as conn:
            if self._newest is None:
                self._newest = self._sales_newest = self.db.now(conn)
            sold = self._read_sales(conn)
            self._window_start = self._newest - self.overlap
            rows = conn.execute(
                select(
                    jobs.c.id,
                    jobs.c.marketplace,
                    jobs.c.status,
                    jobs.c.created_at,
                    jobs.c.updated_at,
                )
                .where(jobs.c.updated_at > self._window_start)
                .order_by(jobs.c.updated_at, jobs.c.id)
            ).all()
        seen = [_Seen(*row) for row in rows]
        if seen:
            self._newest = max(self._newest, seen[-1].updated_at)
        return seen, sold

    def _read_sales(self, conn: Connection) -> list[_SaleSeen]:
        """The sales recorded or changed within the overlap of the newest seen."""
        assert self._sales_newest is not None
        changed = func.coalesce(sales.c.updated_at, sales.c.detected_at)
        rows = conn.execute(
            select(
                sales.c.id,
                sales.c.product_id,
                sales.c.marketplace,
                sales.c.status,
                sales.c.oversell,
                sales.c.message,
                changed,
            )
            .where(changed > self._sales_newest - self.overlap)
            .order_by(changed, sales.c.id)
        ).all()
        sold = [_SaleSeen(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]
        if sold:
            self._sales_newest = max(self._sales_newest, sold[-1].changed_at)
        return sold

    def _sale_news(self, sold: list[_SaleSeen]) -> list[SaleAlert]:
        """The alerts another process raised (each once; a delist that fails again after
        a retry is news again)."""
        alerts = []
        for sale in sold:
            kinds = sale.alerts()
            for kind in ("oversell", "delist_failed", "voided"):
                key = (sale.sale_id, kind)
                if kind not in kinds:
                    self._alerted.pop(key, None)  # over: a later one is news
                elif key not in self._alerted:
                    self._alert_known(*key)
                    alerts.append(
                        SaleAlert(
                            sale.sale_id,
                            sale.product_id,
                            sale.marketplace,
                            kind,
                            sale.message or "",
                            self.user_id,
                        )
                    )
        return alerts

    def _news(self, seen: list[_Seen]) -> list[Any]:
        """The events of the changes not known yet, in the order they happened."""
        events: list[Any] = []
        ended: set[str] = set()
        for job in seen:
            known = self._status.get(job.job_id)
            if known == job.status:
                continue
            new = known is None and self._is_new(job)
            if new:
                events.append(JobCreated(job.job_id, job.marketplace, self.user_id))
            if not new or job.status != "pending":
                events.append(JobChanged(job.job_id, job.marketplace, job.status, self.user_id))
            if job.status in ENDED:
                ended.add(job.marketplace)
            self._remember(job.job_id, job.status)
        events.extend(StatsChanged(marketplace, self.user_id) for marketplace in sorted(ended))
        return events

    def _is_new(self, job: _Seen) -> bool:
        """Created within the window this pass read (not an old job changed now)."""
        return self._window_start is not None and job.created_at > self._window_start
