"""One job's run from handler start to committed outcome, driven by callbacks.

A :class:`JobRun` starts the handler as its own task (so that a handler ignoring
cancellation can be abandoned), reacts to the handler's end, a stop request from the
lease keeper (cancel, lease lost, timeout) or the end of the cancel grace period, turns
what happened into an outcome, hands it to the group-committing writer and resolves
``future`` with the recorded transition once the outcome is written (``report`` turns it
into the seeds' result dict). No coroutine waits
per job: at thousands of jobs a second, a task per job is what the event loop can afford.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.marketplace import store
from app.marketplace.errors import UnknownActionError
from app.marketplace.leases import CANCELLED, LEASE_LOST, TIMED_OUT, HeldJob
from app.marketplace.retry import Failure, Outcome, classify
from app.models.user.marketplace_job import JobStatus

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_processor import ClaimedJob, MarketplaceJobProcessor

log = logging.getLogger("marketdesk.runner")

LOST_MESSAGE = "Another worker took this job over (lease expired); this result was discarded"


class JobRun:
    """The run of one claimed job; ``future`` gives its recorded transition (None: lease lost)."""

    def __init__(
        self,
        processor: MarketplaceJobProcessor,
        claimed: ClaimedJob,
        on_handler_done: Callable[[], None] | None = None,
    ) -> None:
        self.processor = processor
        self.claimed = claimed
        self.on_handler_done = on_handler_done
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[store.Transition | None] = self.loop.create_future()
        self.held: HeldJob = processor.hold(claimed)
        self.task: asyncio.Task[Any] | None = None
        self.started = time.monotonic()
        self.duration_ms = 0
        self.result: dict[str, Any] | None = None
        self.outcome: store.Outcome | None = None
        self._stopping = False
        self._finished = False
        self._grace: asyncio.TimerHandle | None = None

    # -- start ------------------------------------------------------------------------
    def start(self) -> JobRun:
        """Build the handler and start it (or finish at once when that is impossible)."""
        action = self.claimed.action
        if self.held.stopped:  # cancelled while it waited for its rate-limit slot
            self._finish(None, Failure(Outcome.FAIL, self.held.reason or CANCELLED))
            return self
        handler_class = self.processor.handlers.get(action.handler_key)
        if handler_class is None:
            self._finish(None, classify(UnknownActionError(action.handler_key)))
            return self
        context = self.processor.handler_context(action)
        try:
            handler = handler_class(
                db=self.processor.db,
                shop_id=self.processor.shop_id,
                job_id=self.claimed.lease.job_id,
                context=context,
            )
            coroutine = handler.execute(self.claimed.to_model())
        except Exception as exc:
            log.exception("handler %s could not be built", action.handler_key)
            self._finish(None, classify(exc))
            return self
        self.task = self.loop.create_task(coroutine)
        self.task.add_done_callback(self._handler_done)
        self.held.on_stop = self._stop_requested
        self.held.deadline = self.loop.time() + action.timeout_seconds
        return self

    # -- events -----------------------------------------------------------------------
    def _handler_done(self, task: asyncio.Task[Any]) -> None:
        error = None if task.cancelled() else task.exception()  # always retrieved
        if self._finished:
            if error is not None:
                log.info(
                    "job %s: abandoned handler ended with %r", self.claimed.lease.job_id, error
                )
            return
        if self._stopping:
            self._finish(None, self._stop_failure())
        elif task.cancelled():
            self._finish(None, Failure(Outcome.FAIL, "The handler was cancelled"))
        elif error is not None:
            self._finish(None, classify(error))
        else:
            self._finish_with(task.result())

    def _finish_with(self, result: object) -> None:
        key = self.claimed.action.handler_key
        if not isinstance(result, dict):
            self._finish(None, Failure(Outcome.FAIL, f"Handler {key} returned no result dict"))
        elif not result.get("success", False):
            message = str(result.get("error") or "The marketplace action did not succeed")
            self._finish(result, Failure(Outcome.FAIL, message))
        else:
            self._finish(result, None)

    def _stop_requested(self) -> None:
        task = self.task
        if task is None or task.done() or self._stopping or self._finished:
            return
        self._stopping = True
        task.cancel()
        self._grace = self.loop.call_later(self.processor.cancel_grace_seconds, self._abandon)

    def _abandon(self) -> None:
        if self._finished:
            return
        log.error(
            "job %s: handler ignored cancellation for %.1f s; abandoning it",
            self.claimed.lease.job_id,
            self.processor.cancel_grace_seconds,
        )
        self._finish(None, self._stop_failure())

    def _stop_failure(self) -> Failure:
        reason = self.held.reason
        if reason == TIMED_OUT or reason is None:
            timeout = self.claimed.action.timeout_seconds
            return classify(TimeoutError(f"Timed out after {timeout} s"))
        return Failure(Outcome.FAIL, reason)

    # -- end --------------------------------------------------------------------------
    def _finish(self, result: dict[str, Any] | None, failure: Failure | None) -> None:
        if self._finished:
            return
        self._finished = True
        if self._grace is not None:
            self._grace.cancel()
        self.held.on_stop = None
        self.held.deadline = None
        self.duration_ms = int((time.monotonic() - self.started) * 1000)
        self.result = result
        self.outcome = self.processor.make_outcome(
            self.claimed, self.held, result, failure, self.duration_ms
        )
        if self.on_handler_done is not None:
            self.on_handler_done()
        self.processor.writer.submit(self.outcome).add_done_callback(self._written)

    def _written(self, written: asyncio.Future[store.Transition | None]) -> None:
        self.processor.keeper.drop(self.claimed.lease.job_id)
        if self.future.done():
            return
        if written.cancelled():
            self.future.cancel()
            return
        error = written.exception()
        if error is not None:
            self.future.set_exception(error)
            return
        transition = written.result()
        self._log(transition)
        self.future.set_result(transition)

    def _status_and_error(self, transition: store.Transition | None) -> tuple[str, str | None]:
        assert self.outcome is not None
        if transition is None:
            return LEASE_LOST.replace(" ", "_"), LOST_MESSAGE
        return transition.status, self.outcome.error_message

    def _log(self, transition: store.Transition | None) -> None:
        completed = transition is not None and transition.status == JobStatus.COMPLETED.value
        level = logging.INFO if completed else logging.WARNING
        if log.isEnabledFor(level):
            status, error = self._status_and_error(transition)
            action = self.claimed.action
            log.log(
                level,
                "job %s %s on %s: %s%s",
                self.claimed.lease.job_id,
                action.code,
                action.marketplace,
                status,
                f" ({error})" if error else "",
            )

    def report(self, transition: store.Transition | None) -> dict[str, Any]:
        """The seeds' result dict for the recorded ``transition`` (None: the lease was lost)."""
        assert self.outcome is not None
        action = self.claimed.action
        status, error = self._status_and_error(transition)
        will_retry = status == JobStatus.PENDING.value
        return {
            "job_id": self.claimed.lease.job_id,
            "marketplace": action.marketplace,
            "action": action.code,
            "success": status == JobStatus.COMPLETED.value,
            "status": status,
            "error": error,
            "will_retry": will_retry,
            "retry_count": self.claimed.row.retry_count
            + (1 if will_retry and self.outcome.consumed_retry else 0),
            "duration_ms": self.duration_ms,
            "result": self.result,
        }

    def abort(self) -> None:
        """Stop without recording anything (the worker shuts down; the lease is released)."""
        if not self._finished:
            self._finished = True
            if self._grace is not None:
                self._grace.cancel()
            self.held.on_stop = None
            self.held.deadline = None
            if self.task is not None:
                self.task.cancel()
        self.processor.keeper.drop(self.claimed.lease.job_id)
        if not self.future.done():
            self.future.cancel()
