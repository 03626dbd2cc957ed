"""The main window: one tab per page, keyboard shortcuts, tray, remembered geometry.

Closing the window (or Quit in the menu or the tray) emits :attr:`closeRequested`; the
start-up code (:mod:`app.ui.desktop`) then stops the runner gracefully before the
program ends. The tray tells about failed jobs and a browser plugin that went away, each
coalesced over a second so that a burst makes one notification, and loudly (critical)
about sales that need the seller: an oversell or a delist that finally failed.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from app.events import BridgeStateChanged, SaleAlert
from app.ui.context import UiContext, show_error
from app.ui.dashboard_page import DashboardPage
from app.ui.jobs_page import JobsPage
from app.ui.listings_page import ListingsPage
from app.ui.log_view import LogPage, QtLogHandler
from app.ui.new_job_page import NewJobPage
from app.ui.products_page import ProductsPage
from app.ui.settings_page import SettingsPage
from app.ui.stats_page import StatsPage
from app.ui.tray import Tray
from app.workbench import Workbench

log = logging.getLogger("marketdesk.ui")
GEOMETRY_KEY = "window/geometry"
TAB_KEY = "window/tab"
FAILURE_NOTICE_DELAY_MS = 1000
#: A plugin that reconnects within this time (its service worker restarted) is not news.
BRIDGE_NOTICE_DELAY_MS = 1000
#: Alerts about one sale come together (an oversell flags both sales): one notification.
SALE_NOTICE_DELAY_MS = 300
SALE_TITLES = {"oversell": "Sold twice!", "delist_failed": "Could not end a sold listing"}


class MainWindow(QMainWindow):
    """Dashboard, Products, Jobs, New job, Stats, Settings, Log, Listings."""

    closeRequested = Signal()

    def __init__(
        self,
        ctx: UiContext,
        workbench: Workbench,
        log_handler: QtLogHandler,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.workbench = workbench
        self.setWindowTitle("Marketdesk")
        self.setObjectName("mainWindow")
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pages")
        self.setCentralWidget(self.tabs)

        self.dashboard = DashboardPage(ctx)
        self.products = ProductsPage(ctx, workbench.photos_dir)
        self.jobs = JobsPage(ctx)
        self.new_job = NewJobPage(ctx)
        self.stats = StatsPage(ctx)
        self.settings_page = SettingsPage(
            ctx, workbench.accounts, data_dir=str(workbench.data_dir), bridge=workbench.bridge
        )
        self.log_page = LogPage(log_handler)
        self.listings = ListingsPage(ctx)
        self.listings.listingsChanged.connect(
            lambda: ctx.spawn(self.products.refresh(), "Loading products")
        )
        self.products.productsChanged.connect(self.listings.schedule_refresh)
        self.pages: list[tuple[str, QWidget]] = [
            ("Dashboard", self.dashboard),
            ("Products", self.products),
            ("Jobs", self.jobs),
            ("New job", self.new_job),
            ("Stats", self.stats),
            ("Settings", self.settings_page),
            ("Log", self.log_page),
            ("Listings", self.listings),
        ]
        for number, (title, page) in enumerate(self.pages, start=1):
            self.tabs.addTab(page, title)
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
        self._bridge_connected = workbench.bridge.status().state == "connected"
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
        self.stats.alertRaised.connect(
            lambda text: self.tray.notify("Marketdesk alert", text, critical=True)
        )
        self.dashboard.processingToggled.connect(
            lambda on: ctx.spawn(workbench.set_processing(on), "Switching processing")
        )
        self.statusBar().showMessage("Ready")
        self._quitting = False
        self._restore()

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
        """Loud on purpose: a double sale is at stake (critical tray notification)."""
        alerts, self._sale_alerts = self._sale_alerts, []
        if not alerts:
            return
        kinds = {alert.kind for alert in alerts}
        title = SALE_TITLES.get(kinds.pop(), "") if len(kinds) == 1 else ""
        many = f"{len(alerts)} sales need attention: see the dashboard"
        text = alerts[0].message if len(alerts) == 1 else many
        self.tray.notify(title or "Sales need attention", text, critical=True)

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
        """Load every page (start-up, Refresh)."""
        for _title, page in self.pages:
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window quits (jobs finish or are released first)."""
        self.request_quit()
        event.accept()
