"""Everything a running Marketdesk holds for one seller, without any window.

:class:`Workbench` opens the seller's accounts (secrets in the keyring, or the private
file), builds the processor and runs the :class:`app.marketplace.runner.JobRunner` as an
asyncio task beside the plugin bridge (:class:`app.bridge.host.BridgeHost`, started
with :meth:`Workbench.start_bridge`); the desktop window drives it, and ``stop()`` winds it down gracefully
(running jobs finish or are released; nothing stays "running" in the database). The
window's pause button is :meth:`set_processing`; it also starts and stops the order-sync
schedule and the sale watcher (:mod:`app.inventory`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from app.accounts import AccountManager
from app.bridge.host import BridgeHost
from app.db import Database
from app.inventory.alerts import SaleWatcher
from app.inventory.schedule import MarketplaceReadiness, OrderSyncScheduler
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES
from app.paths import photos_folder
from app.secret_store import SecretStore, open_secret_store

if TYPE_CHECKING:  # loaded when processing starts, after the window is up
    from app.marketplace.base_handler import BaseJobHandler
    from app.marketplace.runner import JobRunner

log = logging.getLogger("marketdesk.workbench")


def load_processing(with_handlers: bool) -> None:
    """Import what processing needs (and the marketplaces' handlers when they are used)."""
    from app.marketplace.marketplace_job_processor import all_handlers
    from app.marketplace.runner import JobRunner  # noqa: F401  (imported for later)

    if with_handlers:
        all_handlers()


class Workbench:
    """The seller's queue, accounts and job runner."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        user_id: int = 1,
        *,
        secrets: SecretStore | None = None,
        concurrency: Mapping[str, int] | None = None,
        poll_seconds: float = 1.0,
        handlers: Mapping[str, type[BaseJobHandler]] | None = None,
        stop_timeout: float = 10.0,
        apply_rate_limits: bool = True,
        bridge_port: int | None = None,
        marketplace: str | None = None,
        lease_seconds: float = 30.0,
        vinted_needs_bridge: bool = False,
    ) -> None:
        """``marketplace`` serves only that marketplace (its jobs and its order sync);
        ``vinted_needs_bridge`` (the headless worker) leaves Vinted jobs and Vinted's order
        sync to another worker or window when the plugin bridge is not listening at
        :meth:`start`."""
        self.db = db
        self.data_dir = data_dir
        self.user_id = user_id
        self.secrets = secrets or open_secret_store(data_dir)
        self.accounts = AccountManager(db, self.secrets, user_id)
        self.bridge = BridgeHost(db, data_dir, self.secrets, user_id, port=bridge_port)
        self.service = MarketplaceJobService(db, user_id)
        self.marketplace = marketplace
        #: The marketplaces whose jobs this workbench runs (all unless ``marketplace``).
        self.served = tuple(m for m in MARKETPLACE_VALUES if marketplace in (None, m))
        #: Order syncs at start-up and every interval; sales followed to the end (both
        #: run while jobs are processed).
        self.scheduler = OrderSyncScheduler(
            db,
            self.service,
            MarketplaceReadiness(self.accounts, self.bridge),
            marketplaces=self.served,
        )
        self.sales = SaleWatcher(db, user_id)
        self.concurrency = dict(concurrency or {})
        self.poll_seconds = poll_seconds
        self.handlers = handlers
        self.stop_timeout = stop_timeout
        self.apply_rate_limits = apply_rate_limits
        self.lease_seconds = lease_seconds
        self.vinted_needs_bridge = vinted_needs_bridge
        self.photos_dir = photos_folder(data_dir)
        self.runner: JobRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._switching = asyncio.Lock()
        self._closed = False

    async def start_bridge(self) -> bool:
        """Listen for the browser plugin; False when the port cannot be used."""
        return await self.bridge.start()

    @property
    def processing(self) -> bool:
        """True while the runner claims jobs."""
        return self._task is not None and not self._task.done()

    @property
    def worker_id(self) -> str | None:
        """The running processor's worker id (its leases' owner); None while paused."""
        return self.runner.processor.worker_id if self.runner is not None else None

    def _limits(self) -> dict[str, int]:
        """The concurrency of the next start: Vinted's is 0 when it needs the bridge and
        the bridge is not listening."""
        limits = dict(self.concurrency)
        if self.vinted_needs_bridge and self.bridge.status().state == "stopped":
            limits["vinted"] = 0
        return limits

    def _new_runner(self, limits: Mapping[str, int]) -> JobRunner:
        from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
        from app.marketplace.runner import JobRunner

        processor = MarketplaceJobProcessor(
            self.db,
            self.user_id,
            marketplace=self.marketplace,
            lease_seconds=self.lease_seconds,
            handlers=self.handlers,
            accounts=self.accounts,
            plugin=self.bridge.server,
            photos_dir=self.photos_dir,
        )
        return JobRunner(
            processor,
            concurrency=limits,
            poll_seconds=self.poll_seconds,
            stop_timeout=self.stop_timeout,
            apply_rate_limits=self.apply_rate_limits,
        )

    async def start(self) -> None:
        """Start processing jobs (no-op when already running, or after :meth:`stop`).

        Starting, pausing and stopping take turns: a pause (or quitting) while a start
        is under way waits for it and then undoes it.
        """
        async with self._switching:
            if self.processing or self._closed:
                return
            # the processor, the handlers and their HTTP clients are imported off the
            # window's thread the first time (an import there would stall the window)
            await asyncio.to_thread(load_processing, self.handlers is None)
            limits = self._limits()
            self.runner = self._new_runner(limits)
            self._task = asyncio.create_task(self.runner.run(), name="marketdesk-runner")
            # no order syncs queued for a marketplace whose jobs nobody here runs
            self.scheduler.marketplaces = tuple(m for m in self.served if limits.get(m) != 0)
            self.scheduler.start()
            self.sales.start()
            log.info("job processing started")

    async def pause(self) -> None:
        """Stop claiming; running jobs finish (or are released after the stop timeout)."""
        async with self._switching:
            await self.scheduler.stop()
            await self.sales.stop()
            runner, task = self.runner, self._task
            if runner is None or task is None:
                return
            runner.stop()
            try:
                await task
            finally:
                await runner.processor.close()
                self.runner, self._task = None, None
            log.info("job processing paused")

    async def set_processing(self, on: bool) -> None:
        """The window's run/pause toggle."""
        await (self.start() if on else self.pause())

    async def serve_until(self, until: asyncio.Event) -> None:
        """Process jobs until ``until`` is set (a signal, for the headless worker), then
        stop claiming and wait for the running jobs to finish (or be released after the
        stop timeout); :meth:`stop` winds down the rest. Returns early when the runner
        ends by itself (an error: :meth:`stop` raises it)."""
        runner, task = self.runner, self._task
        if runner is None or task is None or task.done():
            return
        waiter = asyncio.create_task(until.wait(), name="marketdesk-serve-until")
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
        runner.stop()
        await asyncio.wait({task})

    async def stop(self) -> None:
        """Pause processing, stop the bridge, close the accounts' connections (exit);
        nothing starts again afterwards."""
        self._closed = True
        try:
            await self.pause()
        finally:
            await self.bridge.close()
            await self.accounts.aclose()
