"""What every page of the window shares: the database, the events, async work, errors.

Pages never touch the database on the window's thread: they ``await ctx.run(fn, ...)``
(the database executor) inside coroutines started with :meth:`UiContext.spawn`, which
runs them on the qasync event loop and turns an unexpected exception into one log entry
and one error dialog (the crash handler) instead of a silent failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.db import Database
from app.marketplace.errors import MarketplaceError
from app.ui.relay import EventRelay

if TYPE_CHECKING:
    from app.workbench import Workbench

log = logging.getLogger("marketdesk.ui")
T = TypeVar("T")
#: The colour of a message beside a wrong field, everywhere in the window.
ERROR_STYLE = "color: #b3261e;"


def show_error(parent: QWidget | None, title: str, text: str) -> None:
    """A non-blocking error dialog (tests and the loop keep running)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()


@dataclass
class UiContext:
    """Shared by every page."""

    db: Database
    relay: EventRelay
    settings: QSettings
    workbench: Workbench | None = None
    user_id: int = 1
    #: Where unexpected errors go (the main window shows a dialog; tests record them).
    on_error: Callable[[str, BaseException], None] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Blocking database work, off the window's thread."""
        return await self.db.run(fn, *args)

    async def read(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(conn, *args)`` on a read-only connection of the seller, off the window's thread."""

        def work() -> T:
            with self.db.bind(self.user_id, readonly=True).connect() as conn:
                return fn(conn, *args)

        return await self.db.run(work)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any] | None:
        """Run ``coro`` on the event loop; failures reach :attr:`on_error`.

        Without a running loop (a signal fired while the window is being torn down) the
        work is dropped, not left as a coroutine that never runs.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            log.debug("%s dropped: the event loop is not running", what)
            return None
        task = loop.create_task(coro)
        self.tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self.tasks.discard(finished)
            if finished.cancelled():
                return
            exc = finished.exception()
            if exc is None:
                return
            if isinstance(exc, MarketplaceError | ValueError):
                log.warning("%s failed: %s", what, exc)
            else:
                log.error("%s failed", what, exc_info=exc)
            if self.on_error is not None:
                self.on_error(what, exc)

        task.add_done_callback(done)
        return task

    async def drain(self) -> None:
        """Wait for every task started with :meth:`spawn` (closing, tests)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
