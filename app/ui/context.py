"""What every page of the window shares: the database, the events, async work, errors.

Pages never touch the database on the window's thread: they ``await ctx.run(fn, ...)``
(the database executor) inside coroutines started with :meth:`UiContext.spawn`, which
runs them on the qasync event loop and turns an unexpected exception into one log entry
and one error dialog (the crash handler) instead of a silent failure. The window is built
before the database is open; ``run`` and ``read`` wait until it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.db.errors import DatabaseError
from app.marketplace.errors import MarketplaceError
from app.ui.relay import EventRelay

if TYPE_CHECKING:
    from app.db import Database
    from app.marketplace.marketplace_job_service import MarketplaceJobService
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


class DatabaseNotOpenError(DatabaseError):
    """The database is not open: Marketdesk is still opening it, or could not."""


@dataclass
class UiContext:
    """Shared by every page.

    The window is on screen before the database is open (:class:`app.ui.desktop.Desktop`
    opens it after the first paint): ``db`` is None until :meth:`attach`, and
    :meth:`run`, :meth:`read` and :meth:`opened` wait for it.
    """

    _db: Database | None
    relay: EventRelay
    settings: QSettings
    workbench: Workbench | None = None
    user_id: int = 1
    #: Where unexpected errors go (the main window shows a dialog; tests record them).
    on_error: Callable[[str, BaseException], None] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _open: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _open_failure: str | None = None
    _job_service: MarketplaceJobService | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._db is not None:
            self._open.set()

    @property
    def db(self) -> Database:
        """The open database (only reached once it is open: see :meth:`opened`)."""
        if self._db is None:
            raise DatabaseNotOpenError(self._open_failure or "Marketdesk is opening its database")
        return self._db

    @property
    def is_open(self) -> bool:
        """True once the database is open."""
        return self._db is not None

    @property
    def job_service(self) -> MarketplaceJobService:
        """The seller's job service, shared by the pages (once the database is open)."""
        if self._job_service is None:
            from app.marketplace.marketplace_job_service import MarketplaceJobService

            self._job_service = MarketplaceJobService(self.db, self.user_id)
        return self._job_service

    def attach(self, db: Database, workbench: Workbench | None) -> None:
        """The database is open (and migrated): waiting work goes on."""
        self._db = db
        self.workbench = workbench
        self._open.set()

    def fail_opening(self, why: str) -> None:
        """The database could not be opened: waiting work ends with :class:`DatabaseNotOpenError`."""
        self._open_failure = why
        self._open.set()

    async def opened(self) -> Database:
        """The database, once it is open."""
        await self._open.wait()
        return self.db

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """Blocking database work, off the window's thread."""
        db = await self.opened()
        return await db.run(fn, *args)

    async def read(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(conn, *args)`` on a read-only connection of the seller, off the window's thread."""
        db = await self.opened()

        def work() -> T:
            with db.bind(self.user_id, readonly=True).connect() as conn:
                return fn(conn, *args)

        return await db.run(work)

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
            if isinstance(exc, DatabaseNotOpenError) and self._open_failure is not None:
                log.debug("%s dropped: %s", what, exc)  # the start-up told why, once
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
