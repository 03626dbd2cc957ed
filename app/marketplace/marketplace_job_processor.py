"""The unified processor: claims a job, runs its handler under a lease, records the outcome.

``MarketplaceJobProcessor(db, user_id=1, shop_id=None, marketplace=None)`` serves every
marketplace (or one, when ``marketplace`` is given). ``await process_next_job()`` takes
the best pending job, runs it and returns the seeds' result dict, or None when nothing is
pending. The long-running loop around it is :class:`app.marketplace.runner.JobRunner`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.db import Database
from app.events import JobChanged
from app.marketplace import housekeeping, store
from app.marketplace.action_types import ActionInfo, check_marketplace, load_action_types
from app.marketplace.base_handler import (
    AccountProvider,
    BaseJobHandler,
    HandlerContext,
    PluginTransport,
)
from app.marketplace.job_run import JobRun
from app.marketplace.leases import CANCELLED, HeldJob, LeaseKeeper, OutcomeWriter
from app.marketplace.retry import Failure, Outcome, RetryPolicy
from app.models.user.marketplace_job import JobStatus, MarketplaceJob

if TYPE_CHECKING:
    import httpx

    ALL_HANDLERS: dict[str, type[BaseJobHandler]]  # made by __getattr__ below

log = logging.getLogger("marketdesk.runner")


@functools.cache
def all_handlers() -> dict[str, type[BaseJobHandler]]:
    """Every marketplace's handlers by ``<action>_<marketplace>`` key.

    Imported on first use, with the marketplaces' HTTP clients: a window that has not
    started processing yet does not pay for them.
    """
    from app.ebay.jobs import EBAY_HANDLERS
    from app.etsy.jobs import ETSY_HANDLERS
    from app.vinted.jobs import HANDLERS

    return {**HANDLERS, **EBAY_HANDLERS, **ETSY_HANDLERS}


def __getattr__(name: str) -> Any:
    """``ALL_HANDLERS`` (the seeds' name for the registry), built on first access."""
    if name == "ALL_HANDLERS":
        return all_handlers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_worker_id() -> str:
    """A worker name unique per process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker leased, with its action type."""

    row: Any
    action: ActionInfo
    lease: store.Lease

    def to_model(self) -> MarketplaceJob:
        """A detached ``MarketplaceJob`` for the handler (no session, read-only use)."""
        r = self.row
        job: MarketplaceJob = _JOB_MANAGER.new_instance()
        job.__dict__.update(
            id=r.id,
            marketplace=r.marketplace,
            action_type_id=r.action_type_id,
            product_id=r.product_id,
            batch_id=r.batch_id,
            priority=r.priority,
            input_data=r.input_data,
            retry_count=r.retry_count,
            max_retries=r.max_retries,
            attempts=r.attempts,
            idempotency_key=r.idempotency_key,
            status=JobStatus.RUNNING.value,
            started_at=r.started_at,
            created_at=r.created_at,
        )
        return job


_JOB_MANAGER = MarketplaceJob.__mapper__.class_manager


class MarketplaceJobProcessor:
    """Runs jobs of one seller, for every marketplace or for one."""

    def __init__(
        self,
        db: Database,
        user_id: int = 1,
        shop_id: int | None = None,
        marketplace: str | None = None,
        *,
        handlers: Mapping[str, type[BaseJobHandler]] | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 30.0,
        cancel_grace_seconds: float = 5.0,
        policy: RetryPolicy | None = None,
        plugin: PluginTransport | None = None,
        http: httpx.AsyncClient | None = None,
        accounts: AccountProvider | None = None,
        photos_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.shop_id = shop_id
        self.marketplace = check_marketplace(marketplace) if marketplace else None
        self.handlers = all_handlers() if handlers is None else handlers
        self.worker_id = worker_id or default_worker_id()
        self.lease_seconds = lease_seconds
        self.cancel_grace_seconds = cancel_grace_seconds
        self.policy = policy or RetryPolicy()
        self.plugin = plugin
        self.http = http
        self.accounts = accounts
        self.photos_dir = photos_dir
        self.keeper = LeaseKeeper(db, user_id, lease_seconds)
        self.writer = OutcomeWriter(db, user_id)
        self._actions: dict[int, ActionInfo] = {}
        self._contexts: dict[int, HandlerContext] = {}

    # -- the seeds' API -----------------------------------------------------------------
    async def process_next_job(self) -> dict[str, Any] | None:
        """Run the best pending job; None when nothing is pending."""
        claimed = await self.claim({self.marketplace: 1})
        if not claimed:
            return None
        return await self.run_claimed(claimed[0])

    # -- building blocks of the runner -----------------------------------------------
    async def actions(self) -> dict[int, ActionInfo]:
        """Action types by id (loaded once; they change only with migrations)."""
        if not self._actions:
            self._actions = await self.db.run(self._load_actions)
        return self._actions

    def _load_actions(self) -> dict[int, ActionInfo]:
        with self.db.session(self.user_id, readonly=True) as session:
            return load_action_types(session)

    async def claim(
        self, slots: Mapping[str | None, int], exclude_action_type_ids: Iterable[int] = ()
    ) -> list[ClaimedJob]:
        """Lease up to ``slots[marketplace]`` jobs per marketplace (None = any) at once."""
        actions = await self.actions()
        excluded = list(exclude_action_type_ids)
        wanted: dict[str | None, int] = {mp: n for mp, n in slots.items() if n > 0}
        if self.marketplace is not None:
            own = sum(n for mp, n in wanted.items() if mp in (None, self.marketplace))
            wanted = {self.marketplace: own} if own else {}
        if not wanted:
            return []
        rows = await self.db.run(self._claim, wanted, excluded)
        claimed = []
        for row in rows:
            action = actions.get(row.action_type_id)
            if action is None:  # an action type added since start-up
                self._actions = {}
                action = (await self.actions())[row.action_type_id]
            lease = store.Lease(row.id, self.worker_id, row.attempts)
            claimed.append(ClaimedJob(row, action, lease))
        return claimed

    def _claim(self, wanted: Mapping[str | None, int], excluded: list[int]) -> list[Any]:
        rows: list[Any] = []
        with self.db.bind(self.user_id).begin() as conn:
            now = self.db.now(conn)
            for marketplace, limit in wanted.items():
                rows.extend(
                    store.claim(
                        conn,
                        owner=self.worker_id,
                        now=now,
                        lease_seconds=self.lease_seconds,
                        limit=limit,
                        marketplace=marketplace,
                        exclude_action_type_ids=excluded,
                    )
                )
        return rows

    def handler_context(self, action: ActionInfo) -> HandlerContext:
        """What handlers of ``action`` get besides their job (one shared object per action)."""
        context = self._contexts.get(action.id)
        if context is None:
            context = self._contexts[action.id] = HandlerContext(
                user_id=self.user_id,
                plugin=self.plugin,
                http=self.http,
                timeout_seconds=float(action.timeout_seconds),
                rate_limit_ms=action.rate_limit_ms,
                accounts=self.accounts,
                photos_dir=self.photos_dir,
            )
        return context

    def hold(self, claimed: ClaimedJob) -> HeldJob:
        """Start renewing the lease of a claimed job (before it waits or runs)."""
        return self.keeper.held.get(claimed.lease.job_id) or self.keeper.hold(claimed.lease)

    def start(
        self, claimed: ClaimedJob, on_handler_done: Callable[[], None] | None = None
    ) -> JobRun:
        """Start a claimed job; its ``future`` gives the transition once it is recorded.

        ``on_handler_done`` is called once the handler finished, before its outcome is
        committed, so that a runner can start the next job while the write is under way.
        """
        return JobRun(self, claimed, on_handler_done).start()

    async def run_claimed(
        self, claimed: ClaimedJob, on_handler_done: Callable[[], None] | None = None
    ) -> dict[str, Any]:
        """Run a claimed job's handler and record the outcome; returns the result dict."""
        run = self.start(claimed, on_handler_done)
        try:
            return run.report(await run.future)
        except asyncio.CancelledError:
            run.abort()
            raise

    def make_outcome(
        self,
        claimed: ClaimedJob,
        held: HeldJob,
        result: dict[str, Any] | None,
        failure: Failure | None,
        duration_ms: int,
    ) -> store.Outcome:
        outcome = functools.partial(
            store.Outcome,
            lease=claimed.lease,
            action_type_id=claimed.action.id,
            marketplace=claimed.row.marketplace,
            batch_id=claimed.row.batch_id,
            duration_ms=duration_ms,
        )
        """The outcome to record for a handler's result or failure."""
        if held.reason == CANCELLED:
            return outcome(status=JobStatus.CANCELLED, error_message="Cancelled while running")
        if failure is None:
            return outcome(status=JobStatus.COMPLETED, result_data=result)
        if failure.outcome is Outcome.PAUSE:
            return outcome(
                status=JobStatus.PAUSED, error_message=failure.message, result_data=result
            )
        row = claimed.row
        retries_left = row.retry_count < row.max_retries or not failure.consumes_retry
        if failure.outcome is Outcome.RETRY and retries_left:
            delay = self.policy.delay(row.retry_count + 1, failure.retry_after)
            return outcome(
                status=JobStatus.PENDING,
                error_message=failure.message,
                retry_in=delay,
                consumed_retry=failure.consumes_retry,
                result_data=result,
            )
        return outcome(status=JobStatus.FAILED, error_message=failure.message, result_data=result)

    async def release(self, claimed: Iterable[ClaimedJob]) -> list[int]:
        """Give claimed jobs back to the queue untouched (graceful stop)."""
        leases = [c.lease for c in claimed]
        for lease in leases:
            self.keeper.drop(lease.job_id)
        if not leases:
            return []
        return await self.db.run(self._release, leases)

    def _release(self, leases: list[store.Lease]) -> list[int]:
        with self.db.bind(self.user_id).begin() as conn:
            return store.release(conn, leases, self.db.now(conn))

    async def housekeeping(self) -> list[store.Transition]:
        """Recover jobs of crashed workers and expire overdue ones (any worker may do it)."""
        transitions: list[store.Transition] = await self.db.run(self._housekeeping)
        for t in transitions:
            self.db.events.publish(JobChanged(t.job_id, t.marketplace, t.status, self.user_id))
        return transitions

    def _housekeeping(self) -> list[store.Transition]:
        with self.db.bind(self.user_id).begin() as conn:
            now = self.db.now(conn)
            reaped = housekeeping.reap(conn, now, timedelta(seconds=self.policy.base_seconds))
            expired = housekeeping.expire_overdue(conn, now)
        for t in reaped:
            log.warning("job %s: its worker stopped (lease expired); now %s", t.job_id, t.status)
        return reaped + expired

    async def close(self) -> None:
        """Stop the lease keeper."""
        await self.keeper.close()
