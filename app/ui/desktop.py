"""Start-up of the desktop program: Qt, the qasync loop, the window, the database, bridge, runner.

``run_desktop`` builds the QApplication and a qasync event loop and shows the window at
once: the page the seller left open is built before the database layer is imported. After
the window's first paint the database is opened and migrated in a worker thread (one
query when it is already at head); meanwhile the window holds its pages' input and says
that it is opening the catalog. Then the plugin bridge starts (a port that cannot be used
is shown on the dashboard and the settings page, not fatal) and the
:class:`app.workbench.Workbench` (job runner), inside that loop. A database that cannot
be opened is explained in a dialog, and closing it ends the program (exit code 1).

Closing the window stops the runner and the bridge gracefully (running jobs finish or are
released; nothing stays "running" in the database, nothing stays listening). On the first
start the welcome (:class:`app.ui.welcome.WelcomeDialog`) opens over the window until the
seller is through with it. Exceptions that escape async work or Qt slots are logged and
shown in one dialog (the crash handler).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtCore import QSettings

from app.paths import photos_folder
from app.ui.boot import application
from app.ui.context import UiContext
from app.ui.first_run import welcome_done
from app.ui.gc_guard import MainThreadCollector
from app.ui.log_view import QtLogHandler
from app.ui.main_window import MainWindow
from app.ui.relay import EventRelay

if TYPE_CHECKING:
    from app.db import Database
    from app.marketplace.change_feed import JobChangeFeed
    from app.ui.welcome import WelcomeDialog
    from app.workbench import Workbench

log = logging.getLogger("marketdesk.ui")

#: Opens (and does not yet migrate) the database; called in a worker thread.
DatabaseOpener = Callable[[], "Database"]


def _open_and_migrate(opener: DatabaseOpener) -> Database:
    """The opened, migrated database (a worker thread: SQLAlchemy and the core load here)."""
    import app.marketplace.change_feed
    import app.workbench  # noqa: F401  (both loaded here, not on the window's thread)

    db = opener()
    try:
        db.migrate()
    except BaseException:
        db.close()
        raise
    return db


class Desktop:
    """The running program: workbench, context, window; :meth:`run` until closed."""

    def __init__(
        self,
        db: Database | DatabaseOpener,
        data_dir: Path,
        user_id: int = 1,
        *,
        workbench: Workbench | None = None,
        settings: QSettings | None = None,
        start_processing: bool = True,
        show_welcome: bool = True,
    ) -> None:
        """``db`` is an open, migrated database, or a function that opens one: then the
        window shows first, the database is opened and migrated after its first paint,
        and :meth:`close` closes it. ``workbench`` (made for the database when not given;
        only with an open database) runs the jobs. ``show_welcome=False`` never opens the
        first-run welcome (benchmarks)."""
        if callable(db) and workbench is not None:
            raise ValueError("A workbench needs an open database, not a function opening one")
        self._opener: DatabaseOpener | None = db if callable(db) else None
        self.db: Database | None = None if callable(db) else db
        self.data_dir = data_dir
        self.user_id = user_id
        if workbench is None and self.db is not None:
            from app.workbench import Workbench

            workbench = Workbench(self.db, data_dir, user_id)
        self.workbench = workbench
        self.log_handler = QtLogHandler()
        self.relay = EventRelay(None if self.db is None else self.db.events, user_id)
        self.ctx = UiContext(self.db, self.relay, settings or QSettings(), workbench, user_id)
        self.window: MainWindow | None = None
        self.start_processing = start_processing
        self.show_welcome = show_welcome
        #: The first-run welcome when this start opened it (hidden once dismissed).
        self.welcome: WelcomeDialog | None = None
        self.closed = asyncio.Event()
        self.collector = MainThreadCollector()
        #: What :meth:`run` returns: 1 when the database could not be opened.
        self.exit_code = 0
        #: Jobs other processes change, followed while the window is open.
        self.feed: JobChangeFeed | None = None

    async def open(self) -> MainWindow:
        """Show the window, open the database, then start the plugin bridge and processing.

        The window comes first: the page the seller left open is built and waits for its
        data, the database is opened and migrated while the window is on screen, and the
        bridge and the runner start after it (the dashboard follows them). The other
        pages are built when first opened.
        """
        logging.getLogger("marketdesk").addHandler(self.log_handler)
        self.collector.start()
        window = MainWindow(self.ctx, self.log_handler, photos_folder(self.data_dir))
        self.window = window
        self.ctx.on_error = window.report_error
        window.closeRequested.connect(self.closed.set)
        if self._opener is not None:
            window.show_opening(True)  # from the first frame on: nothing to act on yet
        window.show()
        await window.first_paint()  # on screen before the database layer loads
        workbench = self.workbench if self._opener is None else await self._open_database(window)
        if workbench is None or self.closed.is_set():  # could not open, or the seller quit
            return window
        self._follow_others(workbench.db)
        if not await self._start_bridge(workbench):
            problem = workbench.bridge.problem or "unknown reason"
            window.statusBar().showMessage(f"Vinted plugin bridge not running: {problem}", 30_000)
        if self.closed.is_set():  # the seller quit while the bridge was starting
            return window
        if self.start_processing:
            await workbench.start()
        window.show_processing(workbench.processing)
        if self.show_welcome and not self.closed.is_set() and not welcome_done(self.ctx.settings):
            self._open_welcome(window, workbench)
        return window

    async def _open_database(self, window: MainWindow) -> Workbench | None:
        """Open and migrate the database off the loop, and make its workbench; None when
        that failed (the window says why, and closing that message quits) or when the
        seller quit meanwhile."""
        assert self._opener is not None
        try:
            db = await asyncio.to_thread(_open_and_migrate, self._opener)
        except Exception as exc:
            log.error("the database could not be opened", exc_info=exc)
            self._cannot_start(
                window,
                f"Marketdesk could not open its database: {exc}\n\nCheck the data folder or "
                "the database address (see --help), then start Marketdesk again.",
            )
            return None
        self.db = db  # closed by close(), whatever happens next
        if self.closed.is_set():
            self.ctx.fail_opening("Marketdesk is closing")
            return None
        from app.workbench import Workbench

        try:
            workbench = Workbench(db, self.data_dir, self.user_id)
        except Exception as exc:  # a bridge setting that cannot be used...
            log.error("Marketdesk could not start", exc_info=exc)
            self._cannot_start(window, f"Marketdesk could not start: {exc}")
            return None
        self.workbench = workbench
        self.relay.follow(db.events)
        self.ctx.attach(db, workbench)
        window.attach()
        return workbench

    def _follow_others(self, db: Database) -> None:
        """Show what other processes on the same queue do (a team's workers, a worker
        beside the window): their job changes and sale alerts become this window's
        events (the pages follow them, the tray tells the alerts)."""
        from app.marketplace.change_feed import JobChangeFeed

        self.feed = JobChangeFeed(db, self.user_id)
        self.feed.start()

    def _cannot_start(self, window: MainWindow, why: str) -> None:
        """End the opening with ``why`` shown; the program's exit code becomes 1."""
        self.exit_code = 1
        self.ctx.fail_opening(why)
        window.cannot_start(why)

    def _open_welcome(self, window: MainWindow, workbench: Workbench) -> None:
        """The first-run welcome over the window; it goes when the window does."""
        from app.ui.welcome import WelcomeDialog  # first run only

        welcome = WelcomeDialog(self.ctx, workbench, parent=window)
        self.welcome = welcome
        window.closeRequested.connect(welcome.close_quietly)
        welcome.dismissed.connect(self._welcome_dismissed)
        welcome.show()
        self.ctx.spawn(welcome.load(), "Loading the welcome")

    def _welcome_dismissed(self, _how: str) -> None:
        """The Settings page shows what the seller entered in the welcome."""
        if self.window is not None:
            self.window.reload_if_built("settings")

    @staticmethod
    async def _start_bridge(workbench: Workbench) -> bool:
        """Listen for the browser plugin; a port that cannot be used is shown, not fatal."""
        try:
            return await workbench.start_bridge()
        except Exception as exc:  # the keyring refused the pairing token...
            log.error("the plugin bridge did not start", exc_info=exc)
            workbench.bridge.problem = f"The plugin bridge did not start: {exc}"
            return False

    async def close(self) -> None:
        """Stop processing, the bridge and every background task; hide the window; close
        the database if this desktop opened it."""
        if self.welcome is not None:
            self.welcome.close_quietly()
        if not self.ctx.is_open:  # closing during the opening: waiting loads end
            self.ctx.fail_opening("Marketdesk is closing")
        if self.window is not None:
            self.window.show_opening(False)
            self.window.hide()
        if self.feed is not None:
            await self.feed.stop()
            self.feed = None
        if self.workbench is not None:
            await self.workbench.stop()
        await self.ctx.drain()
        self.relay.close()
        if self._opener is not None and self.db is not None:
            await asyncio.to_thread(self.db.close)
        logging.getLogger("marketdesk").removeHandler(self.log_handler)
        if self.window is not None:
            self.window.deleteLater()  # and the welcome, its child
            self.window = None
        self.welcome = None
        self.collector.stop()

    async def run(self) -> int:
        """Open, wait until the window is closed, close (also when opening failed); the
        exit code (1 when the database could not be opened)."""
        try:
            await self.open()
            await self.closed.wait()
        finally:
            await self.close()
        return self.exit_code


def run_desktop(db: Database | DatabaseOpener, data_dir: Path, user_id: int = 1) -> int:
    """Run the desktop program until its window is closed; returns the exit code.

    ``db`` is best a function opening the database: the window then shows before the
    database layer is loaded (see :class:`Desktop`)."""
    app = application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    desktop: Desktop | None = None

    def crashed(context_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        log.error("unexpected error: %s", context.get("message"), exc_info=exc)
        if desktop is not None and desktop.window is not None and isinstance(exc, BaseException):
            desktop.window.report_error("A background task", exc)

    def slot_crashed(
        kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        log.error("unexpected error in the window", exc_info=(kind, exc, tb))
        if desktop is not None and desktop.window is not None:
            desktop.window.report_error("The window", exc)

    loop.set_exception_handler(crashed)
    previous_hook = sys.excepthook
    sys.excepthook = slot_crashed
    try:
        with loop:
            desktop = Desktop(db, data_dir, user_id)
            code: int = loop.run_until_complete(desktop.run())
            return code
    finally:
        sys.excepthook = previous_hook
