"""What a cross-listing did: each batch's progress and each product's result.

One :class:`app.ui.new_job_page.BatchProgress` per marketplace batch, and a table with a
row per product and marketplace: its publish job, the job's status and its outcome (the
listing's address, or the error in the marketplace's words). Rows left out at the last
moment (listed or queued meanwhile) are shown with the reason. The table follows the
jobs as they change.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from app.inventory.crosslist import Created, PlanRow
from app.marketplace.job_forms import DISPLAY
from app.models.user.marketplace_job import MarketplaceJob
from app.ui.context import UiContext
from app.ui.new_job_page import BATCH_REFRESH_MS, BatchProgress

RESULT_COLUMNS = ("Product", "Marketplace", "Job", "Status", "Result")


def outcome(job: MarketplaceJob) -> str:
    """A job's outcome in a few words: its error, or where the listing is."""
    if job.error_message:
        return job.error_message
    data = job.result_data or {}
    return str(data.get("url") or data.get("listing_id") or "")


class CrosslistResults(QWidget):
    """Progress per batch and result per product (hidden until batches exist)."""

    #: The results table was filled from the database again.
    refreshed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.batches: dict[str, BatchProgress] = {}
        #: One entry per table row: (product id, title, marketplace, job id or None).
        self.entries: list[tuple[int, str, str, int | None]] = []
        self.progress_form = QFormLayout()
        self.table = QTableWidget(0, len(RESULT_COLUMNS))
        self.table.setObjectName("results")
        self.table.setHorizontalHeaderLabels(RESULT_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.progress_form)
        layout.addWidget(self.table)
        self.setVisible(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(BATCH_REFRESH_MS)
        self._timer.timeout.connect(
            lambda: ctx.spawn(self.refresh(), "Following cross-listing results")
        )
        ctx.relay.jobChanged.connect(self._job_changed)

    def job_ids(self) -> set[int]:
        """The publish jobs shown."""
        return {job_id for *_rest, job_id in self.entries if job_id is not None}

    def show_created(self, created: Created, rows: list[PlanRow]) -> None:
        """Show the batches of ``created`` (made from preview ``rows``) and follow them."""
        titles = {row.product_id: row.title for row in rows}
        self.entries = []
        for batch in created.batches:
            progress = BatchProgress(self.ctx)
            progress.setObjectName(f"progress_{batch.marketplace}")
            progress.follow(batch.batch_id, batch.total)
            self.batches[batch.marketplace] = progress
            self.progress_form.addRow(DISPLAY[batch.marketplace], progress)
            self.entries += [
                (product_id, titles.get(product_id, ""), batch.marketplace, job_id)
                for product_id, job_id in batch.job_ids.items()
            ]
        self.table.setRowCount(len(self.entries) + len(created.skipped))
        for index, (product_id, title, marketplace, job_id) in enumerate(self.entries):
            self._fill(index, (f"#{product_id} {title}", DISPLAY[marketplace], str(job_id)))
        for index, row in enumerate(created.skipped, start=len(self.entries)):
            cells = (f"#{row.product_id} {row.title}", DISPLAY[row.marketplace], "", "left out")
            self._fill(index, (*cells, row.skip or ""))
        self.setVisible(True)
        self.ctx.spawn(self.refresh(), "Following cross-listing results")

    def _fill(self, index: int, cells: tuple[str, ...], first: int = 0) -> None:
        for column, text in enumerate(cells, start=first):
            self.table.setItem(index, column, QTableWidgetItem(text))

    def _job_changed(self, job_id: int, *_args: Any) -> None:
        if job_id in self.job_ids() and not self._timer.isActive():
            self._timer.start()

    async def refresh(self) -> None:
        """Show each job's status and outcome as stored now."""
        ids = sorted(self.job_ids())
        if not ids:
            return

        def load() -> dict[int, tuple[str, str]]:
            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                jobs = session.scalars(select(MarketplaceJob).where(MarketplaceJob.id.in_(ids)))
                return {job.id: (job.status, outcome(job)) for job in jobs}

        states = await self.ctx.run(load)
        for index, (*_rest, job_id) in enumerate(self.entries):
            if job_id in states:
                self._fill(index, states[job_id], first=3)
        self.refreshed.emit()

    def results(self) -> list[tuple[str, ...]]:
        """The table as shown (tests)."""
        return [
            tuple(
                (item.text() if (item := self.table.item(row, column)) is not None else "")
                for column in range(self.table.columnCount())
            )
            for row in range(self.table.rowCount())
        ]
