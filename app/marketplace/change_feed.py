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
transaction began) is not missed; a change seen twice is published once. Sales are
stamped by their writer's clock, so their window reaches :data:`SALES_OVERLAP` back (a
teammate's clock may be that far behind the server's; the sales table is small).

Each pass compares what it read with what this process knows, and this process's own
events (from any thread) may arrive while a pass reads: a job or sale this process told
about during the read is left to the next pass, so a stale read never overrides it.
Limits: a transaction that runs longer than ``overlap`` on PostgreSQL (stamped when it
began, committed after the window moved on) is not followed; a Refresh shows it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, select

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
#: How far back the sales are read every pass (writers' clocks may be behind).
SALES_OVERLAP = timedelta(minutes=10)
ALERT_KINDS = ("oversell", "delist_failed", "voided")
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
        #: Set once the first pass learned what changed just before following began.
        self._started = False
        #: Where the pass under way began to read jobs: a job created after it is new.
        self._window_start: datetime | None = None
        self._lock = threading.Lock()
        #: Counts this process's own events; each known entry keeps the count of the
        #: event that told it (0: a pass read it).
        self._tick = 0
        #: Each job's last known status.
        self._status: OrderedDict[int, tuple[str, int]] = OrderedDict()
        #: The alerts raised of each sale: (sale id, kind).
        self._alerted: OrderedDict[tuple[int, str], int] = OrderedDict()

    def start(self) -> None:
        """Follow from now on (what changed before is what the pages load anyway; the
        first pass only learns the jobs and sales changed within the overlap)."""
        if not self.running:
            self._begin()

    def _on_event(self, event: Event) -> None:
        """This process's own news (any thread): not to be published again."""
        if getattr(event, "user_id", self.user_id) != self.user_id:
            return
        with self._lock:
            self._tick += 1
            if isinstance(event, JobChanged):
                _put(self._status, event.job_id, (event.status, self._tick))
            elif isinstance(event, JobCreated) and event.job_id not in self._status:
                _put(self._status, event.job_id, ("pending", self._tick))
            elif isinstance(event, SaleAlert):
                _put(self._alerted, (event.sale_id, event.kind), self._tick)

    async def step(self) -> float:
        """Read the changes of the window; publish those made elsewhere."""
        with self._lock:
            mark = self._tick
        seen, sold = await self.db.run(self._read)
        with self._lock:
            if not self._started:  # what changed just before: known now, not news
                for job in seen:
                    _put(self._status, job.job_id, (job.status, 0))
                for sale in sold:
                    for kind in sale.alerts():
                        _put(self._alerted, (sale.sale_id, kind), 0)
                events: list[Any] = []
                self._started = True
            else:
                events = [*self._news(seen, mark), *self._sale_news(sold, mark)]
            _trim(self._status, len(seen))
            _trim(self._alerted, len(sold) * len(ALERT_KINDS))
        if events:
            log.debug("%d change(s) made by other processes", len(events))
            self.db.events.publish_many(events)
        return self.poll_seconds

    def _read(self) -> tuple[list[_Seen], list[_SaleSeen]]:
        """The jobs changed within ``overlap`` and the sales within :data:`SALES_OVERLAP`
        of the database's time now (a quiet queue reads nothing twice for long)."""
        with self.db.bind(self.user_id, readonly=True).connect() as conn:
            now = self.db.now(conn)
            self._window_start = now - self.overlap
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
            changed = func.coalesce(sales.c.updated_at, sales.c.detected_at)
            sale_rows = conn.execute(
                select(
                    sales.c.id,
                    sales.c.product_id,
                    sales.c.marketplace,
                    sales.c.status,
                    sales.c.oversell,
                    sales.c.message,
                    changed,
                )
                .where(changed > now - SALES_OVERLAP)
                .order_by(changed, sales.c.id)
            ).all()
        seen = [_Seen(*row) for row in rows]
        sold = [_SaleSeen(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in sale_rows]
        return seen, sold

    def _news(self, seen: list[_Seen], mark: int) -> list[Any]:
        """The events of the job changes not known yet, in the order they happened (a job
        this process told about during the read is the next pass's)."""
        events: list[Any] = []
        ended: set[str] = set()
        for job in seen:
            known = self._status.get(job.job_id)
            if known is not None and (known[0] == job.status or known[1] > mark):
                continue
            new = known is None and self._is_new(job)
            if new:
                events.append(JobCreated(job.job_id, job.marketplace, self.user_id))
            if not new or job.status != "pending":
                events.append(JobChanged(job.job_id, job.marketplace, job.status, self.user_id))
            if job.status in ENDED:
                ended.add(job.marketplace)
            _put(self._status, job.job_id, (job.status, 0))
        events.extend(StatsChanged(marketplace, self.user_id) for marketplace in sorted(ended))
        return events

    def _is_new(self, job: _Seen) -> bool:
        """Created within the window this pass read (not an old job changed now)."""
        return self._window_start is not None and job.created_at > self._window_start

    def _sale_news(self, sold: list[_SaleSeen], mark: int) -> list[SaleAlert]:
        """The alerts another process raised (each once; a delist that fails again after
        a retry is news again)."""
        alerts = []
        for sale in sold:
            kinds = sale.alerts()
            for kind in ALERT_KINDS:
                key = (sale.sale_id, kind)
                told = self._alerted.get(key)
                if told is not None and told > mark:
                    continue  # this process said so during the read: its word stands
                if kind not in kinds:
                    self._alerted.pop(key, None)  # over: a later one is news
                elif told is None:
                    _put(self._alerted, key, 0)
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


K = TypeVar("K")
V = TypeVar("V")


def _put(known: OrderedDict[K, V], key: K, value: V) -> None:
    """Remember ``value`` as the newest entry."""
    known[key] = value
    known.move_to_end(key)


def _trim(known: OrderedDict[K, V], window: int) -> None:
    """Forget the oldest entries beyond :data:`REMEMBERED`, never those of the window
    just read (they are the newest)."""
    while len(known) > max(REMEMBERED, window):
        known.popitem(last=False)
