"""The main window: one tab per page, keyboard shortcuts, tray, remembered geometry.

Closing the window (or Quit in the menu or the tray) emits :attr:`closeRequested`; the
start-up code (:mod:`app.ui.desktop`) then stops the runner gracefully before the
program ends. The tray tells about failed jobs and a browser plugin that went away, each
coalesced over a second so that a burst makes one notification, and loudly (critical)
about sales that need the seller: an oversell or a delist that finally failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.events import BridgeStateChanged, SaleAlert
from app.ui.context import DatabaseNotOpenError, UiContext, show_error
from app.ui.failure_alert import FailureAlert
from app.ui.log_view import QtLogHandler
from app.ui.tray import Tray

if TYPE_CHECKING:
    from app.ui.dashboard_page import DashboardPage
    from app.ui.jobs_page import JobsPage
    from app.ui.listings_page import ListingsPage
    from app.ui.log_view import LogPage
    from app.ui.new_job_page import NewJobPage
    from app.ui.products_page import ProductsPage
    from app.ui.settings_page import SettingsPage
    from app.ui.stats_page import StatsPage

log = logging.getLogger("marketdesk.ui")
GEOMETRY_KEY = "window/geometry"
TAB_KEY = "window/tab"
FAILURE_NOTICE_DELAY_MS = 1000
#: A plugin that reconnects within this time (its service worker restarted) is not news.
BRIDGE_NOTICE_DELAY_MS = 1000
#: Alerts about one sale come together (an oversell flags both sales): one notification.
SALE_NOTICE_DELAY_MS = 300
#: Sale alerts where a double sale is at stake: the tray is loud about them.
DOUBLE_SALE_KINDS = frozenset({"oversell", "delist_failed"})
SALE_TITLES = {
    "oversell": "Sold twice!",
    "delist_failed": "Could not end a sold listing",
    "voided": "A sold order was cancelled or refunded",
}
#: Input a page does not get while the database opens (it could not act on it yet).
HELD_INPUT = frozenset(
    {
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.Wheel,
        QEvent.Type.Shortcut,
    }
)
OPENING_MESSAGE = "Opening your catalog…"
#: Pages built while the database is still opening (their data loads wait for it, and
#: they import nothing of the database layer); the others are built once it is open, so
#: that the window's thread imports none of it while the opening does.
BUILT_WHILE_OPENING = frozenset({"dashboard", "log"})
#: The pages in tab order (Ctrl+1 ... Ctrl+8): title and key.
PAGES = (
    ("Dashboard", "dashboard"),
    ("Products", "products"),
    ("Jobs", "jobs"),
    ("New job", "new_job"),
    ("Stats", "stats"),
    ("Settings", "settings"),
    ("Log", "log"),
    ("Listings", "listings"),
)


PageT = TypeVar("PageT", bound=QWidget)


class _Page(Generic[PageT]):
    """A page of the window as an attribute: ``window.stats`` is ``window.page("stats")``
    (built on first use)."""

    def __init__(self, key: str) -> None:
        self.key = key

    @overload
    def __get__(self, window: None, owner: type[MainWindow]) -> _Page[PageT]: ...
    @overload
    def __get__(self, window: MainWindow, owner: type[MainWindow]) -> PageT: ...
    def __get__(self, window: MainWindow | None, owner: type[MainWindow]) -> PageT | _Page[PageT]:
        if window is None:
            return self
        return cast(PageT, window.page(self.key))


class _InputHold(QObject):
    """Keeps clicks and keys away from the pages while the database opens."""

    def __init__(self, pages: QWidget) -> None:
        super().__init__(pages)
        self.pages = pages

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in HELD_INPUT or not isinstance(watched, QWidget):
            return False
        return watched is self.pages or self.pages.isAncestorOf(watched)


class MainWindow(QMainWindow):
    """Dashboard, Products, Jobs, New job, Stats, Settings, Log, Listings.

    A page is built the first time it is shown (or asked for through its property),
    then loads its data: start-up builds only the page the seller left open, and the
    charting library is loaded only with the Stats page.

    The window is shown before the database is open (:class:`app.ui.desktop.Desktop`
    opens it after the first paint): meanwhile :meth:`show_opening` holds the pages'
    input, and the pages' data loads wait for the database. Only the pages of
    :data:`BUILT_WHILE_OPENING` are built meanwhile; one of the others left open by the
    seller is built as soon as the database is open.
    """

    closeRequested = Signal()
    dashboard: _Page[DashboardPage] = _Page("dashboard")
    products: _Page[ProductsPage] = _Page("products")
    jobs: _Page[JobsPage] = _Page("jobs")
    new_job: _Page[NewJobPage] = _Page("new_job")
    stats: _Page[StatsPage] = _Page("stats")
    settings_page: _Page[SettingsPage] = _Page("settings")
    log_page: _Page[LogPage] = _Page("log")
    listings: _Page[ListingsPage] = _Page("listings")

    def __init__(
        self,
        ctx: UiContext,
        log_handler: QtLogHandler,
        photos_dir: Path,
        parent: QWidget | None = None,
    ) -> None:
        """``photos_dir``: where the catalog's photos are kept (the Products page)."""
        super().__init__(parent)
        self.ctx = ctx
        self.log_handler = log_handler
        self.photos_dir = photos_dir
        self.setWindowTitle("Marketdesk")
        self.setObjectName("mainWindow")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pages")
        self.setCentralWidget(self.tabs)
        self._built: dict[str, QWidget] = {}
        self._slots: dict[str, QVBoxLayout] = {}
        #: Pages asked for before what they work on existed: built by :meth:`attach`.
        self._waiting: list[str] = []
        self._hold: _InputHold | None = None
        for number, (title, key) in enumerate(PAGES, start=1):
            slot = QWidget()
            slot.setObjectName(f"{key}Slot")
            layout = QVBoxLayout(slot)
            layout.setContentsMargins(0, 0, 0, 0)
            self._slots[key] = layout
            self.tabs.addTab(slot, title)
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda *_a, i=number - 1: self.tabs.setCurrentIndex(i))
            self.addAction(action)

        menu = self.menuBar().addMenu("&File")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(lambda: ctx.spawn(self.refresh_all(), "Refreshing"))
        menu.addAction(refresh)
        leave = QAction("&Quit", self)
        leave.setShortcut(QKeySequence.StandardKey.Quit)
        leave.triggered.connect(self.request_quit)
        menu.addAction(leave)

        self.tray = Tray(self)
        self.tray.showRequested.connect(self._show_from_tray)
        self.tray.quitRequested.connect(self.request_quit)
        self._failed: list[int] = []
        self._failure_timer = QTimer(self)
        self._failure_timer.setSingleShot(True)
        self._failure_timer.setInterval(FAILURE_NOTICE_DELAY_MS)
        self._failure_timer.timeout.connect(self._notify_failures)
        ctx.relay.jobChanged.connect(self._job_changed)
        self._bridge_connected = False
        self._bridge_losses = 0
        self._bridge_timer = QTimer(self)
        self._bridge_timer.setSingleShot(True)
        self._bridge_timer.setInterval(BRIDGE_NOTICE_DELAY_MS)
        self._bridge_timer.timeout.connect(self._notify_bridge)
        ctx.relay.bridgeChanged.connect(self._bridge_changed)
        self._sale_alerts: list[SaleAlert] = []
        self._sale_timer = QTimer(self)
        self._sale_timer.setSingleShot(True)
        self._sale_timer.setInterval(SALE_NOTICE_DELAY_MS)
        self._sale_timer.timeout.connect(self._notify_sales)
        ctx.relay.saleAlert.connect(self._sale_alert)
        self.failure_alert = FailureAlert(ctx, self)
        self.failure_alert.alertRaised.connect(
            lambda text: self.tray.notify("Marketdesk alert", text, critical=True)
        )
        if ctx.is_open:
            self.statusBar().showMessage("Ready")
        self._painted = asyncio.Event()
        self._quitting = False
        self._restore()
        self.tabs.currentChanged.connect(self._tab_shown)
        self._tab_shown(self.tabs.currentIndex())

    # -- pages ------------------------------------------------------------------------
    def _tab_shown(self, index: int) -> None:
        if not 0 <= index < len(PAGES):
            return
        key = PAGES[index][1]
        try:
            self.page(key)
        except DatabaseNotOpenError:
            if key not in self._waiting:
                self._waiting.append(key)

    def page(self, key: str) -> QWidget:
        """The page ``key`` of :data:`PAGES`, built (and its loading started) on first use.

        Raises :class:`DatabaseNotOpenError` for a page that cannot be built before the
        database is open (see :data:`BUILT_WHILE_OPENING`)."""
        page = self._built.get(key)
        if page is None:
            if not self.ctx.is_open and key not in BUILT_WHILE_OPENING:
                raise DatabaseNotOpenError(f"The {key} page is built once the database is open")
            page = self._build(key)
            self._built[key] = page
            self._slots[key].addWidget(page)
            page.show()  # now, not on the next pass of the event loop
            self.reload_if_built(key)
        return page

    def built_pages(self) -> list[tuple[str, QWidget]]:
        """The pages built so far, in tab order, with their titles."""
        return [(title, self._built[key]) for title, key in PAGES if key in self._built]

    def _build(self, key: str) -> QWidget:
        """A new page (its module is imported here, when first needed)."""
        ctx = self.ctx
        if key == "dashboard":
            from app.ui.dashboard_page import DashboardPage

            dashboard = DashboardPage(ctx)
            dashboard.processingToggled.connect(self._switch_processing)
            dashboard.set_processing(None if ctx.workbench is None else ctx.workbench.processing)
            return dashboard
        if key == "products":
            from app.ui.products_page import ProductsPage

            products = ProductsPage(ctx, self.photos_dir)
            products.productsChanged.connect(self._products_changed)
            return products
        if key == "jobs":
            from app.ui.jobs_page import JobsPage

            return JobsPage(ctx)
        if key == "new_job":
            from app.ui.new_job_page import NewJobPage

            return NewJobPage(ctx)
        if key == "stats":
            from app.ui.stats_page import StatsPage

            return StatsPage(ctx)
        if key == "settings":
            from app.ui.settings_page import SettingsPage

            workbench = ctx.workbench
            if workbench is None:
                raise DatabaseNotOpenError("The Settings page needs the accounts and the bridge")
            return SettingsPage(
                ctx, workbench.accounts, data_dir=str(workbench.data_dir), bridge=workbench.bridge
            )
        if key == "log":
            from app.ui.log_view import LogPage

            return LogPage(self.log_handler)
        if key == "listings":
            from app.ui.listings_page import ListingsPage

            listings = ListingsPage(ctx)
            listings.listingsChanged.connect(self._listings_changed)
            return listings
        raise KeyError(f"No page {key!r}")

    def _switch_processing(self, on: bool) -> None:
        workbench = self.ctx.workbench
        if workbench is not None:
            self.ctx.spawn(workbench.set_processing(on), "Switching processing")

    def _products_changed(self) -> None:
        """Products added or removed: an open Listings page reloads its candidates."""
        if "listings" in self._built:
            self.listings.schedule_refresh()

    def _listings_changed(self) -> None:
        """Links changed: a built Products page shows the new listing states."""
        self.reload_if_built("products")

    def reload_if_built(self, key: str) -> None:
        """Reload page ``key`` if it exists (one that does not yet loads when built), once
        the database is open."""
        page = self._built.get(key)
        refresh: Any = getattr(page, "refresh", None)
        if refresh is not None:
            self.ctx.spawn(self._reload(refresh), f"Loading the {key.replace('_', ' ')} page")

    async def _reload(self, refresh: Any) -> None:
        await self.ctx.opened()
        await refresh()

    # -- opening ----------------------------------------------------------------------
    def show_opening(self, on: bool) -> None:
        """While the database opens: a busy cursor, the pages' input held, a status line."""
        app = QApplication.instance()
        if on and self._hold is None:
            self._hold = _InputHold(self.tabs)
            if app is not None:
                app.installEventFilter(self._hold)
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            self.statusBar().showMessage(OPENING_MESSAGE)
        elif not on and self._hold is not None:
            if app is not None:
                app.removeEventFilter(self._hold)
            self._hold.deleteLater()
            self._hold = None
            QApplication.restoreOverrideCursor()
            self.statusBar().showMessage("Ready", 5000)

    @property
    def opening(self) -> bool:
        """True while :meth:`show_opening` holds the pages' input."""
        return self._hold is not None

    def attach(self) -> None:
        """The database is open: pages that waited for it are built; input goes on."""
        self.show_opening(False)
        waiting, self._waiting = self._waiting, []
        for key in waiting:
            self.page(key)

    def cannot_start(self, why: str) -> None:
        """Marketdesk cannot go on (its database did not open...): say why; closing the
        message quits."""
        self.show_opening(False)
        self.statusBar().showMessage("Marketdesk could not start")
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Marketdesk could not start",
            f"{why}\n\nDetails are in the log.",
            QMessageBox.StandardButton.Close,
            self,
        )
        box.setObjectName("cannotStartDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self.request_quit)
        box.show()

    def show_processing(self, on: bool) -> None:
        """The runner started or paused: a built dashboard says so (a new one reads it)."""
        if "dashboard" in self._built:
            self.dashboard.set_processing(on)

    # -- geometry ---------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.ctx.settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 720)
        tab = self.ctx.settings.value(TAB_KEY, 0)
        self.tabs.setCurrentIndex(int(tab) if str(tab).isdigit() else 0)  # type: ignore[call-overload]

    def save_state(self) -> None:
        """Remember geometry and the current page."""
        self.ctx.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.ctx.settings.setValue(TAB_KEY, self.tabs.currentIndex())
        self.ctx.settings.sync()

    # -- notifications ----------------------------------------------------------------
    def _job_changed(self, job_id: int, marketplace: str, status: str) -> None:
        if status == "failed":
            self._failed.append(job_id)
            if not self._failure_timer.isActive():
                self._failure_timer.start()

    def _notify_failures(self) -> None:
        failed, self._failed = self._failed, []
        if len(failed) == 1:
            self.tray.notify("Job failed", f"Job #{failed[0]} failed; see the Jobs page")
        elif failed:
            self.tray.notify("Jobs failed", f"{len(failed)} jobs failed; see the Jobs page")

    def _sale_alert(self, alert: SaleAlert) -> None:
        self._sale_alerts.append(alert)
        if not self._sale_timer.isActive():
            self._sale_timer.start()

    def _notify_sales(self) -> None:
        """Loud on purpose when a double sale is at stake (critical tray notification);
        a voided sale (an item for sale again) is told plainly."""
        alerts, self._sale_alerts = self._sale_alerts, []
        if not alerts:
            return
        kinds = {alert.kind for alert in alerts}
        critical = bool(kinds & DOUBLE_SALE_KINDS)
        title = SALE_TITLES.get(next(iter(kinds)), "") if len(kinds) == 1 else ""
        many = f"{len(alerts)} sales need attention: see the dashboard"
        text = alerts[0].message if len(alerts) == 1 else many
        self.tray.notify(title or "Sales need attention", text, critical=critical)

    def _bridge_changed(self, event: BridgeStateChanged) -> None:
        if self._quitting:  # stopping the bridge closes the plugin's session
            return
        if event.state == "connected":
            self._bridge_connected = True
            return
        if event.state == "listening" and event.message and self._bridge_connected:
            self._bridge_losses += 1
            if not self._bridge_timer.isActive():
                self._bridge_timer.start()
        self._bridge_connected = False

    def _notify_bridge(self) -> None:
        losses, self._bridge_losses = self._bridge_losses, 0
        if not losses or self._bridge_connected or self._quitting:
            return  # it came back meanwhile
        times = f" {losses} times" if losses > 1 else ""
        self.tray.notify(
            "Vinted plugin disconnected",
            f"The browser plugin disconnected{times}; Vinted jobs wait until it connects "
            "again (is the browser open?)",
        )

    def report_error(self, what: str, exc: BaseException) -> None:
        """The crash handler: one dialog per unexpected error (it is already logged)."""
        self.statusBar().showMessage(f"{what} failed: {exc}", 10_000)
        show_error(self, f"{what} failed", f"{exc}\n\nDetails are in the Log page.")

    # -- life cycle -------------------------------------------------------------------
    async def refresh_all(self) -> None:
        """Reload every page built so far (Refresh); the others load when first shown."""
        await self.ctx.opened()
        for _title, page in self.built_pages():
            refresh: Any = getattr(page, "refresh", None)
            if refresh is not None:
                await refresh()

    def _show_from_tray(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def request_quit(self) -> None:
        """Quit: the start-up code stops the runner, then the program ends."""
        if self._quitting:
            return
        self._quitting = True
        self.save_state()
        self.tray.hide()
        self.closeRequested.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The first paint ends :meth:`first_paint`."""
        self._painted.set()
        super().paintEvent(event)

    async def first_paint(self, timeout: float = 0.5) -> None:
        """Wait until the window has been painted once (at most ``timeout`` seconds: a
        minimized window is not painted), so that start-up work comes after it."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._painted.wait()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window quits (jobs finish or are released first)."""
        self.request_quit()
        event.accept()
