"""Start-up of the desktop program: Qt, the qasync loop, migrations, bridge, runner, window.

``run_desktop`` builds the QApplication and a qasync event loop, migrates the database
off the loop (one query when it is already at head), shows the window, then starts the
plugin bridge (a port that cannot be used is shown on the dashboard and the settings
page, not fatal) and the :class:`app.workbench.Workbench` (job runner) inside that loop
while the window is on screen, and when the window is
closed stops the runner and the bridge gracefully (running jobs finish or are released;
nothing stays "running" in the database, nothing stays listening). On the first start
the welcome (:class:`app.ui.welcome.WelcomeDialog`) opens over the window until the
seller is through with it. Exceptions that escape async work or Qt slots are logged and
shown in one dialog (the crash handler).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import qasync
from PySide6.QtCore import QSettings

from app.db import Database
from app.ui.boot import application, close_first_frame
from app.ui.context import UiContext
from app.ui.first_run import welcome_done
from app.ui.gc_guard import MainThreadCollector
from app.ui.log_view import QtLogHandler
from app.ui.main_window import MainWindow
from app.ui.relay import EventRelay

if TYPE_CHECKING:
    from app.ui.welcome import WelcomeDialog
from app.workbench import Workbench

log = logging.getLogger("marketdesk.ui")


class Desktop:
    """The running program: workbench, context, window; :meth:`run` until closed."""

    def __init__(
        self,
        db: Database,
        data_dir: Path,
        user_id: int = 1,
        *,
        workbench: Workbench | None = None,
        settings: QSettings | None = None,
        start_processing: bool = True,
        show_welcome: bool = True,
    ) -> None:
        """``show_welcome=False`` never opens the first-run welcome (benchmarks)."""
        self.db = db
        self.workbench = workbench or Workbench(db, data_dir, user_id)
        self.log_handler = QtLogHandler()
        self.relay = EventRelay(db.events, user_id)
        self.ctx = UiContext(db, self.relay, settings or QSettings(), self.workbench, user_id)
        self.window: MainWindow | None = None
        self.start_processing = start_processing
        self.show_welcome = show_welcome
        #: The first-run welcome when this start opened it (hidden once dismissed).
        self.welcome: WelcomeDialog | None = None
        self.closed = asyncio.Event()
        self.collector = MainThreadCollector()

    async def open(self) -> MainWindow:
        """Migrate, show the window, then start the plugin bridge and processing.

        The window comes first: the page the seller left open is built and starts
        loading its data, and the bridge and the runner start while it is on screen (the
        dashboard follows them). The other pages are built when first opened.
        """
        logging.getLogger("marketdesk").addHandler(self.log_handler)
        self.collector.start()
        await self.db.run(self.db.migrate)
        window = MainWindow(self.ctx, self.workbench, self.log_handler)
        self.window = window
        self.ctx.on_error = window.report_error
        window.closeRequested.connect(self.closed.set)
        window.show()
        close_first_frame()
        await window.first_paint()  # on screen before the bridge and the runner load
        if not await self._start_bridge():
            problem = self.workbench.bridge.problem or "unknown reason"
            window.statusBar().showMessage(f"Vinted plugin bridge not running: {problem}", 30_000)
        if self.closed.is_set():  # the seller quit while the bridge was starting
            return window
        if self.start_processing:
            await self.workbench.start()
        window.show_processing(self.workbench.processing)
        if self.show_welcome and not self.closed.is_set() and not welcome_done(self.ctx.settings):
            self._open_welcome(window)
        return window

    def _open_welcome(self, window: MainWindow) -> None:
        """The first-run welcome over the window; it goes when the window does."""
        from app.ui.welcome import WelcomeDialog  # first run only

        welcome = WelcomeDialog(self.ctx, self.workbench, parent=window)
        self.welcome = welcome
        window.closeRequested.connect(welcome.close_quietly)
        welcome.dismissed.connect(self._welcome_dismissed)
        welcome.show()
        self.ctx.spawn(welcome.load(), "Loading the welcome")

    def _welcome_dismissed(self, _how: str) -> None:
        """The Settings page shows what the seller entered in the welcome."""
        if self.window is not None:
            self.window.reload_if_built("settings")

    async def _start_bridge(self) -> bool:
        """Listen for the browser plugin; a port that cannot be used is shown, not fatal."""
        try:
            return await self.workbench.start_bridge()
        except Exception as exc:  # the keyring refused the pairing token...
            log.error("the plugin bridge did not start", exc_info=exc)
            self.workbench.bridge.problem = f"The plugin bridge did not start: {exc}"
            return False

    async def close(self) -> None:
        """Stop processing, the bridge and every background task; hide the window."""
        if self.welcome is not None:
            self.welcome.close_quietly()
        if self.window is not None:
            self.window.hide()
        await self.workbench.stop()
        await self.ctx.drain()
        self.relay.close()
        logging.getLogger("marketdesk").removeHandler(self.log_handler)
        if self.window is not None:
            self.window.deleteLater()  # and the welcome, its child
            self.window = None
        self.welcome = None
        self.collector.stop()

    async def run(self) -> int:
        """Open, wait until the window is closed, close (also when opening failed)."""
        try:
            await self.open()
            await self.closed.wait()
        finally:
            await self.close()
        return 0


def run_desktop(db: Database, data_dir: Path, user_id: int = 1) -> int:
    """Run the desktop program until its window is closed; returns the exit code."""
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
