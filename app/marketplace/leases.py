"""The jobs a worker holds: lease renewal (heartbeat), cancel requests, group-committed outcomes.

One :class:`LeaseKeeper` per processor renews every held lease in one statement and
polls ``cancel_requested`` twice a second, so a cancel made by any process (the window,
the CLI, another desktop) stops the handler within a second. :class:`OutcomeWriter`
collects the outcomes of jobs that finish at about the same time and writes them in one
transaction (group commit), each still guarded by its own lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.db import Database
from app.events import Event, JobChanged, StatsChanged
from app.marketplace import store
from app.models.user.marketplace_job import JobStatus

log = logging.getLogger("marketdesk.runner")


@dataclass(slots=True)
class HeldJob:
    """A job this worker holds; ``reason`` says why it must stop (cancel, lease lost, timeout).

    ``on_stop`` is called when a stop is requested, so the job's run reacts at once.
    """

    lease: store.Lease
    reason: str | None = None
    on_stop: Callable[[], None] | None = None
    deadline: float | None = None  # event-loop time by which the handler must be done

    @property
    def stopped(self) -> bool:
        """True once a stop was requested."""
        return self.reason is not None

    def request_stop(self, reason: str) -> None:
        """Ask the job to stop, remembering why (the first reason wins)."""
        if self.reason is None:
            self.reason = reason
        if self.on_stop is not None:
            self.on_stop()


CANCELLED = "cancel requested"
LEASE_LOST = "lease lost"
TIMED_OUT = "timed out"
_COUNTED = (JobStatus.COMPLETED.value, JobStatus.FAILED.value)


class LeaseKeeper:
    """Renews leases and delivers cancel requests while jobs are held."""

    def __init__(
        self,
        db: Database,
        user_id: int,
        lease_seconds: float,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = db
        self.user_id = user_id
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.held: dict[int, HeldJob] = {}
        self._task: asyncio.Task[None] | None = None

    def hold(self, lease: store.Lease) -> HeldJob:
        """Start keeping ``lease``."""
        held = HeldJob(lease)
        self.held[lease.job_id] = held
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="marketdesk-lease-keeper")
        return held

    def drop(self, job_id: int) -> None:
        """Stop keeping a job's lease (it finished)."""
        self.held.pop(job_id, None)

    async def close(self) -> None:
        """Stop the keeper task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        renew_every = max(self.poll_seconds, self.lease_seconds / 3)
        next_renewal = loop.time() + renew_every
        while self.held:
            await asyncio.sleep(self.poll_seconds)
            if not self.held:
                break
            now = loop.time()
            for held in list(self.held.values()):
                if held.deadline is not None and held.deadline <= now:
                    held.request_stop(TIMED_OUT)
            leases = [h.lease for h in self.held.values()]
            try:
                if loop.time() >= next_renewal:
                    lost, cancel = await self.db.run(self._renew, leases)
                    next_renewal = loop.time() + renew_every
                else:
                    lost = set()
                    cancel = await self.db.run(self._poll, [lease.job_id for lease in leases])
            except Exception:
                log.exception("heartbeat failed; retrying in %.1f s", self.poll_seconds)
                continue
            for job_id in lost:
                if job_id in self.held:
                    log.warning("job %s: lease lost, stopping its handler", job_id)
                    self.held[job_id].request_stop(LEASE_LOST)
            for job_id in cancel:
                if job_id in self.held:
                    log.info("job %s: cancel requested", job_id)
                    self.held[job_id].request_stop(CANCELLED)

    def _renew(self, leases: Sequence[store.Lease]) -> tuple[set[int], set[int]]:
        with self.db.bind(self.user_id).begin() as conn:
            return store.extend_leases(conn, leases, self.db.now(conn), self.lease_seconds)

    def _poll(self, job_ids: list[int]) -> set[int]:
        with self.db.bind(self.user_id, readonly=True).begin() as conn:
            return store.cancel_requested(conn, job_ids)


class OutcomeWriter:
    """Writes job outcomes, grouping those that arrive together into one transaction."""

    def __init__(self, db: Database, user_id: int) -> None:
        self.db = db
        self.user_id = user_id
        self._queue: list[tuple[store.Outcome, asyncio.Future[store.Transition | None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def submit(self, outcome: store.Outcome) -> asyncio.Future[store.Transition | None]:
        """Queue ``outcome``; the future gives its transition, or None when the lease was lost."""
        future: asyncio.Future[store.Transition | None] = asyncio.get_running_loop().create_future()
        self._queue.append((outcome, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="marketdesk-outcome-writer")
        return future

    async def write(self, outcome: store.Outcome) -> store.Transition | None:
        """Write ``outcome``; returns its transition, or None when the lease was lost."""
        return await self.submit(outcome)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                transitions = await self.db.run(self._apply, [outcome for outcome, _ in batch])
            except Exception as exc:
                log.exception("could not record %d job outcome(s)", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._publish(transitions)
            by_id = {t.job_id: t for t in transitions}
            for outcome, future in batch:
                if not future.done():
                    future.set_result(by_id.get(outcome.lease.job_id))

    def _publish(self, transitions: list[store.Transition]) -> None:
        """Tell subscribers what this flush changed: each job, then each stats row set."""
        events: list[Event] = [
            JobChanged(t.job_id, t.marketplace, t.status, self.user_id) for t in transitions
        ]
        counted = {t.marketplace for t in transitions if t.status in _COUNTED}
        events += [StatsChanged(marketplace, self.user_id) for marketplace in sorted(counted)]
        self.db.events.publish_many(events)

    def _apply(self, outcomes: list[store.Outcome]) -> list[store.Transition]:
        with self.db.bind(self.user_id).begin() as conn:
            return store.apply_outcomes(conn, outcomes, self.db.now(conn))


def describe(result: Any) -> str:
    """A short text of a handler's result for the log."""
    text = repr(result)
    return text if len(text) <= 200 else text[:197] + "..."
