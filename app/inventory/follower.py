"""The shape the inventory's background tasks share: a pass now, again when woken.

:class:`Follower` runs :meth:`Follower.step` in an asyncio task at start, then again when
an event it follows wakes it (from any thread) or when the time the last pass asked for
has gone by; a failing pass is logged and tried again. The sale watcher and the order-sync
schedule are followers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

from app.db import Database
from app.events import Event

log = logging.getLogger("marketdesk.inventory")


class Follower(ABC):
    """A background pass over the database, started and stopped with processing."""

    #: The task's name, and the words of its log lines.
    name: ClassVar[str] = "follower"

    def __init__(self, db: Database, poll_seconds: float) -> None:
        self.db = db
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        """True while the task runs."""
        return self._task is not None and not self._task.done()

    def _begin(self) -> None:
        """Follow the core's events and start the task (its first pass runs at once)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._unsubscribe = self.db.events.subscribe(self._on_event)
        self._task = asyncio.create_task(self._run(), name=f"marketdesk-{self.name}")

    async def stop(self) -> None:
        """Stop following (what is stored stays for the next start)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Run a pass now; callable from any thread (event subscribers)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                wait = await self.step()
            except Exception:
                log.exception("%s failed; will try again", self.name)
                wait = self.poll_seconds
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that comes as the wake-up does, and stop() would then wait for ever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.05)):
                    await self._wake.wait()

    @abstractmethod
    async def step(self) -> float:
        """One pass; the seconds until the next one is due (unless woken sooner)."""

    @abstractmethod
    def _on_event(self, event: Event) -> None:
        """A core event (in the publisher's thread): call :meth:`wake` when it matters."""
