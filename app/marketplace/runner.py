"""The long-running loop around the processor: concurrency, rate limits, wake-up, stop.

Per marketplace at most ``concurrency[marketplace]`` jobs run at once in this worker
(Vinted defaults to one: a single browser tab acting at a human pace). Two starts of
the same action type are spaced by its ``rate_limit_ms``. The loop sleeps until a job is
created in this process, a running job ends, a rate limit lapses or the poll interval
passes (jobs created by other processes are found by polling). Housekeeping (reaping
expired leases, expiring overdue jobs) runs every few seconds in every worker.

``stop()`` stops claiming; running jobs get ``stop_timeout`` seconds to finish, then
they are cancelled and their leases released so another worker can take them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from app.db.notify import JobListener
from app.events import Event, JobChanged, JobCreated
from app.marketplace.job_run import JobRun
from app.marketplace.marketplace_job_processor import ClaimedJob, MarketplaceJobProcessor
from app.marketplace.store import Transition
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES

log = logging.getLogger("marketdesk.runner")

DEFAULT_CONCURRENCY: Mapping[str, int] = {"vinted": 1, "ebay": 4, "etsy": 4}


@dataclass(eq=False)
class _Slot:
    """A job this runner holds: waiting for its rate-limit slot (timer) or running (run)."""

    job: ClaimedJob
    timer: asyncio.TimerHandle | None = None
    run: JobRun | None = None
    freed: bool = False


class JobRunner:
    """Keeps a processor busy until stopped."""

    def __init__(
        self,
        processor: MarketplaceJobProcessor,
        *,
        concurrency: Mapping[str, int] | None = None,
        poll_seconds: float = 1.0,
        housekeeping_seconds: float = 5.0,
        stop_timeout: float = 10.0,
        apply_rate_limits: bool = True,
    ) -> None:
        limits = {**DEFAULT_CONCURRENCY, **(concurrency or {})}
        unknown = set(limits) - set(MARKETPLACE_VALUES)
        if unknown:
            raise ValueError(
                f"Unknown marketplace in concurrency settings: {', '.join(sorted(unknown))}"
            )
        if any(n < 0 for n in limits.values()):
            raise ValueError("Concurrency limits cannot be negative")
        self.processor = processor
        self.concurrency = limits
        self.poll_seconds = poll_seconds
        self.housekeeping_seconds = housekeeping_seconds
        self.stop_timeout = stop_timeout
        self.apply_rate_limits = apply_rate_limits
        self.processed = 0
        self._running: dict[int, _Slot] = {}
        self._per_marketplace: Counter[str] = Counter()
        self._next_start: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- control ----------------------------------------------------------------------
    def wake(self) -> None:
        """Look for work now (thread-safe)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def stop(self) -> None:
        """Stop claiming and wind down (thread-safe)."""
        self._stopping = True
        self.wake()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping

    @property
    def running_count(self) -> int:
        """Jobs this runner holds right now."""
        return len(self._running)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, JobCreated) or (
            isinstance(event, JobChanged) and event.status == "pending"
        ):
            self.wake()

    # -- the loop ---------------------------------------------------------------------
    async def run(self) -> None:
        """Process jobs until :meth:`stop`; then finish or release what is held."""
        self._loop = asyncio.get_running_loop()
        unsubscribe = self.processor.db.events.subscribe(self._on_event)
        listener = self._listen()
        log.info(
            "worker %s started (concurrency %s)", self.processor.worker_id, dict(self.concurrency)
        )
        next_housekeeping = 0.0
        try:
            while not self.stopping:
                now = self._loop.time()
                if now >= next_housekeeping:
                    await self._housekeeping()
                    next_housekeeping = now + self.housekeeping_seconds
                self._wake.clear()
                claimed = await self._claim_round()
                for job in claimed:
                    self._start(job)
                if claimed and self._free_slots():
                    continue  # more may be waiting
                timeout = min(self.poll_seconds, max(0.0, next_housekeeping - self._loop.time()))
                timeout = min(timeout, self._next_rate_slot())
                with contextlib.suppress(TimeoutError):  # (not wait_for: see Follower._run)
                    async with asyncio.timeout(max(0.01, timeout)):
                        await self._wake.wait()
        finally:
            unsubscribe()
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            await self._wind_down()
            log.info("worker %s stopped after %d job(s)", self.processor.worker_id, self.processed)

    def _listen(self) -> JobListener | None:
        """On PostgreSQL, wake on jobs created by any process (polling stays the fallback)."""
        db = self.processor.db
        if not db.is_postgres:
            return None
        user_id = self.processor.user_id
        listener = JobListener(db.url, lambda uid: self.wake() if uid == user_id else None)
        listener.start()
        return listener

    async def _housekeeping(self) -> None:
        try:
            await self.processor.housekeeping()
        except Exception:
            log.exception("housekeeping failed; will try again")

    def _free_slots(self) -> dict[str, int]:
        wanted = self.processor.marketplace
        return {
            mp: limit - self._per_marketplace[mp]
            for mp, limit in self.concurrency.items()
            if limit - self._per_marketplace[mp] > 0 and wanted in (None, mp)
        }

    def _cooling_action_types(self) -> list[int]:
        if not self.apply_rate_limits or self._loop is None:
            return []
        now = self._loop.time()
        return [atid for atid, at in self._next_start.items() if at > now]

    def _next_rate_slot(self) -> float:
        if self._loop is None:
            return self.poll_seconds
        now = self._loop.time()
        waits = [at - now for at in self._next_start.values() if at > now]
        return min(waits, default=self.poll_seconds)

    async def _claim_round(self) -> list[ClaimedJob]:
        slots: dict[str | None, int] = {mp: n for mp, n in self._free_slots().items()}
        if not slots:
            return []
        try:
            return await self.processor.claim(slots, self._cooling_action_types())
        except Exception:
            log.exception("claiming jobs failed; will try again")
            await asyncio.sleep(self.poll_seconds)
            return []

    def _start(self, job: ClaimedJob) -> None:
        assert self._loop is not None
        delay = 0.0
        rate = job.action.rate_limit_ms / 1000 if self.apply_rate_limits else 0.0
        if rate > 0:
            now = self._loop.time()
            start_at = max(now, self._next_start.get(job.action.id, now))
            self._next_start[job.action.id] = start_at + rate
            delay = start_at - now
        self.processor.hold(job)  # its lease is renewed while it waits for its slot
        slot = _Slot(job)
        self._running[job.lease.job_id] = slot
        self._per_marketplace[job.action.marketplace] += 1
        if delay > 0:
            slot.timer = self._loop.call_later(delay, self._launch, slot)
        else:
            self._launch(slot)

    def _launch(self, slot: _Slot) -> None:
        slot.timer = None
        slot.run = self.processor.start(slot.job, on_handler_done=lambda: self._free(slot))
        slot.run.future.add_done_callback(lambda future: self._finished(slot, future))

    def _free(self, slot: _Slot) -> None:
        # The handler is done and its outcome is being written: the slot can take the next
        # job now (the database keeps the lease until the write commits).
        if not slot.freed:
            slot.freed = True
            self._per_marketplace[slot.job.action.marketplace] -= 1
            self._wake.set()

    def _finished(self, slot: _Slot, future: asyncio.Future[Transition | None]) -> None:
        self._running.pop(slot.job.lease.job_id, None)
        self._free(slot)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.error("job %s: could not be recorded: %s", slot.job.lease.job_id, error)
        else:
            self.processed += 1

    async def _wind_down(self) -> None:
        if self._running:
            log.info(
                "waiting up to %.0f s for %d running job(s)", self.stop_timeout, len(self._running)
            )
            for slot in self._running.values():
                if slot.timer is not None:  # not started yet: nothing to wait for
                    slot.timer.cancel()
                    slot.timer = None
            started = [s.run.future for s in self._running.values() if s.run is not None]
            if started:
                await asyncio.wait(started, timeout=self.stop_timeout)
        leftovers = [
            slot
            for slot in self._running.values()
            if slot.run is None or not slot.run.future.done()
        ]
        for slot in leftovers:
            if slot.run is not None:
                slot.run.abort()
        if leftovers:
            await asyncio.sleep(0)  # let aborted handlers see their cancellation
            released = await self.processor.release(slot.job for slot in leftovers)
            log.info("released %d job(s) back to the queue", len(released))
        self._running.clear()
        await self.processor.close()
