"""The dashboard: processing on or off, the queue at a glance, connections, sales needing
attention (oversells, failed delists: :mod:`app.ui.sales_box`), failures.

The Vinted line follows the browser plugin bridge: read from the bridge at each refresh,
then live from :attr:`app.ui.relay.EventRelay.bridgeChanged`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.events import BridgeStateChanged, ConnectionChanged
from app.marketplace.job_forms import DISPLAY
from app.marketplace.names import MARKETPLACE_VALUES
from app.ui.bridge_box import UNAVAILABLE, bridge_summary, current_state
from app.ui.context import UiContext
from app.ui.sales_box import RecentSalesBox, SalesAttentionBox

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_service import MarketplaceJobService
    from app.models.user.marketplace_job import MarketplaceJob

#: What the dashboard says before the runner can be switched, and before a count is read.
STARTING = "Starting: opening your catalog…"
UNREAD = "…"
STATUSES = ("pending", "running", "paused", "completed", "failed", "cancelled", "expired")
REFRESH_DELAY_MS = 300


Snapshot = tuple[dict[str, dict[str, int]], list["MarketplaceJob"]]


def _snapshot(service: MarketplaceJobService) -> Snapshot:
    return service.counts_by_marketplace(), service.list_jobs(status="failed", limit=10)


class DashboardPage(QWidget):
    """What a seller checks first."""

    processingToggled = Signal(bool)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.action_codes: dict[int, str] = {}
        layout = QVBoxLayout(self)

        top = QHBoxLayout()
        self.processing_button = QPushButton("Pause processing")
        self.processing_button.setObjectName("processingButton")
        self.processing_button.setCheckable(True)
        self.processing_button.setChecked(True)
        self.processing_button.toggled.connect(self._toggled)
        self.processing_label = QLabel("Jobs are being processed")
        self.processing_label.setObjectName("processingLabel")
        top.addWidget(self.processing_button)
        top.addWidget(self.processing_label, 1)
        layout.addLayout(top)

        queue = QGroupBox("Queue")
        grid = QGridLayout(queue)
        self.count_labels: dict[tuple[str, str], QLabel] = {}
        for column, status in enumerate(STATUSES, start=1):
            header = QLabel(status.capitalize())
            header.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(header, 0, column)
        for row, marketplace in enumerate(MARKETPLACE_VALUES, start=1):
            grid.addWidget(QLabel(DISPLAY[marketplace]), row, 0)
            for column, status in enumerate(STATUSES, start=1):
                label = QLabel(UNREAD)
                label.setObjectName(f"count_{marketplace}_{status}")
                label.setAlignment(Qt.AlignmentFlag.AlignRight)
                grid.addWidget(label, row, column)
                self.count_labels[(marketplace, status)] = label
        layout.addWidget(queue)

        connections = QGroupBox("Connections")
        connection_list = QVBoxLayout(connections)
        self.connection_labels: dict[str, QLabel] = {}
        for marketplace in ("ebay", "etsy"):
            label = QLabel(f"{DISPLAY[marketplace]}: …")
            label.setObjectName(f"connection_{marketplace}")
            connection_list.addWidget(label)
            self.connection_labels[marketplace] = label
        self.vinted_label = QLabel("Vinted: …")
        self.vinted_label.setObjectName("connection_vinted")
        self.vinted_label.setWordWrap(True)
        connection_list.addWidget(self.vinted_label)
        layout.addWidget(connections)

        self.sales = SalesAttentionBox(ctx)
        layout.addWidget(self.sales, 1)
        self.recent_sales = RecentSalesBox(ctx)
        layout.addWidget(self.recent_sales, 1)

        failures = QGroupBox("Recent failures")
        failures_layout = QVBoxLayout(failures)
        self.failures = QListWidget()
        self.failures.setObjectName("recentFailures")
        failures_layout.addWidget(self.failures)
        layout.addWidget(failures, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(lambda: ctx.spawn(self.refresh(), "Refreshing the dashboard"))
        ctx.relay.jobChanged.connect(self._schedule)
        ctx.relay.jobCreated.connect(self._schedule)
        ctx.relay.connectionChanged.connect(self._connection_changed)
        ctx.relay.bridgeChanged.connect(self._bridge_changed)

    @property
    def service(self) -> MarketplaceJobService:
        """The seller's jobs (reached once the database is open)."""
        return self.ctx.job_service

    def _schedule(self, *_args: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def set_processing(self, on: bool | None) -> None:
        """Show the processing state without emitting the toggle; None: Marketdesk is
        still starting (the switch waits until processing can be switched)."""
        self.processing_button.setEnabled(on is not None)
        if on is None:
            self.processing_label.setText(STARTING)
            return
        self.processing_button.blockSignals(True)
        self.processing_button.setChecked(on)
        self.processing_button.blockSignals(False)
        self._show_processing(on)

    def _show_processing(self, on: bool) -> None:
        self.processing_button.setText("Pause processing" if on else "Resume processing")
        self.processing_label.setText(
            "Jobs are being processed" if on else "Paused: jobs wait in the queue"
        )

    def _toggled(self, on: bool) -> None:
        self._show_processing(on)
        self.processingToggled.emit(on)

    def _bridge_changed(self, event: BridgeStateChanged) -> None:
        self.vinted_label.setText(bridge_summary(event))

    def _connection_changed(self, event: ConnectionChanged) -> None:
        self._show_connection(event.marketplace, event.state, event.account, event.message)

    def _show_connection(
        self, marketplace: str, state: str, account: str | None, message: str | None
    ) -> None:
        label = self.connection_labels.get(marketplace)
        if label is None:
            return
        name = DISPLAY[marketplace]
        if state == "connected":
            text = f"{name}: connected as {account}"
        elif state == "reconnect_needed":
            text = f"{name}: reconnect needed — {message or 'the connection was refused'}"
        else:
            text = f"{name}: not connected"
        label.setText(text)

    async def refresh(self) -> None:
        """Re-read counts, sales needing attention, failures and connection states."""
        if not self.action_codes:  # action types change only with migrations
            types = await self.ctx.run(self.service.get_action_types)
            self.action_codes = {action.id: action.code for action in types}
        actions = self.action_codes
        counts, failures = await self.ctx.run(_snapshot, self.service)
        await self.sales.refresh()
        await self.recent_sales.refresh()
        for (marketplace, status), label in self.count_labels.items():
            label.setText(str(counts[marketplace].get(status, 0)))
        self.failures.clear()
        for job in failures:
            action = actions.get(job.action_type_id, "?")
            self.failures.addItem(
                f"#{job.id} {DISPLAY[job.marketplace]} {action}: {job.error_message or 'failed'}"
            )
        workbench = self.ctx.workbench
        if workbench is None:
            self.vinted_label.setText(UNAVAILABLE)
        else:
            self.vinted_label.setText(bridge_summary(current_state(workbench.bridge)))
            for marketplace in ("ebay", "etsy"):
                current = await workbench.accounts.status(marketplace)
                if not current.configured:
                    self.connection_labels[marketplace].setText(
                        f"{DISPLAY[marketplace]}: not set up (Settings)"
                    )
                else:
                    self._show_connection(
                        marketplace, current.state, current.account, current.message
                    )
