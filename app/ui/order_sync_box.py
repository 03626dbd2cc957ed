"""The Settings page's "Order sync" group: how often each marketplace's orders are read.

Intervals are minutes here and seconds in the core (:mod:`app.inventory.schedule`), at
least one minute; they are saved in the database, so the running schedule and a worker
on the same database follow them, and they survive a restart.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.inventory.schedule import ScheduleInfo, load_schedules, save_interval
from app.marketplace.job_forms import DISPLAY
from app.models.user.schedule import MIN_INTERVAL_SECONDS
from app.ui.context import UiContext

MARKETPLACES = ("vinted", "ebay", "etsy")
MAX_MINUTES = 24 * 60


class OrderSyncBox(QGroupBox):
    """An interval (minutes) and an on/off switch per marketplace, and Save."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__("Order sync", parent)
        self.ctx = ctx
        self.setObjectName("orderSync")
        form = QFormLayout(self)
        about = QLabel(
            "Marketdesk reads new orders when it starts and then every few minutes while it "
            "runs; a sale takes the product off the other marketplaces (or lowers its "
            "quantity there)."
        )
        about.setWordWrap(True)
        form.addRow(about)
        self.minutes: dict[str, QSpinBox] = {}
        self.enabled: dict[str, QCheckBox] = {}
        for marketplace in MARKETPLACES:
            spin = QSpinBox()
            spin.setObjectName(f"interval_{marketplace}")
            spin.setRange(MIN_INTERVAL_SECONDS // 60, MAX_MINUTES)
            spin.setSuffix(" min")
            spin.setPrefix("every ")
            check = QCheckBox("on")
            check.setObjectName(f"enabled_{marketplace}")
            check.setChecked(True)
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(spin)
            row_layout.addWidget(check)
            row_layout.addStretch(1)
            form.addRow(DISPLAY[marketplace], row)
            self.minutes[marketplace] = spin
            self.enabled[marketplace] = check
        self.save_button = QPushButton("Save order sync")
        self.save_button.setObjectName("saveOrderSync")
        self.save_button.clicked.connect(lambda: ctx.spawn(self.save(), "Saving the order sync"))
        self.status = QLabel("")
        self.status.setObjectName("orderSyncStatus")
        self.status.setWordWrap(True)
        buttons = QWidget()
        buttons_layout = QHBoxLayout(buttons)
        buttons_layout.setContentsMargins(0, 0, 0, 0)
        buttons_layout.addWidget(self.save_button)
        buttons_layout.addWidget(self.status, 1)
        form.addRow(buttons)

    def _show(self, schedules: list[ScheduleInfo]) -> None:
        upcoming = []
        for info in schedules:
            self.minutes[info.marketplace].setValue(-(-info.interval_seconds // 60))
            self.enabled[info.marketplace].setChecked(info.enabled)
            if info.enabled:
                when = info.next_run_at.astimezone().strftime("%H:%M")
                upcoming.append(f"{DISPLAY[info.marketplace]} {when}")
        self.status.setText("Next: " + ", ".join(upcoming) if upcoming else "Order sync is off")

    async def load(self) -> None:
        """Show the saved intervals."""
        self._show(await self.ctx.run(load_schedules, self.ctx.db, self.ctx.user_id))

    async def save(self) -> None:
        """Save every interval; the running schedule follows at once."""
        for marketplace in MARKETPLACES:
            await self.ctx.run(
                save_interval,
                self.ctx.db,
                self.ctx.user_id,
                marketplace,
                self.minutes[marketplace].value() * 60,
                self.enabled[marketplace].isChecked(),
            )
        workbench = self.ctx.workbench
        if workbench is not None:
            workbench.scheduler.wake()
        await self.load()
