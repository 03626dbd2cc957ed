"""The Jobs page: every job of the queue, filtered, steered, and looked into.

A table (:class:`app.ui.jobs_model.JobsTableModel`, fast with 100,000 jobs) under three
filters; Cancel (Del), Retry (Ctrl+R), Pause (Ctrl+P) and Resume (Ctrl+Shift+P) act on
every selected job through :class:`MarketplaceJobService`, and each transition the queue
refuses is reported in the status line; a detail pane shows the current job's input,
result, error and steps.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.marketplace.errors import JobNotFoundError, JobStateError
from app.marketplace.job_forms import DISPLAY
from app.marketplace.job_queries import JobDetail, JobFilter, action_codes, job_detail
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.models.user.marketplace_job import JobStatus
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES
from app.ui.context import UiContext
from app.ui.jobs_model import COLUMNS, JOB_ID_ROLE, JobsTableModel

#: verb -> (button text, shortcut, past tense for the status line)
ACTIONS: dict[str, tuple[str, str, str]] = {
    "cancel": ("Cancel", "Del", "Cancelled"),
    "retry": ("Retry", "Ctrl+R", "Queued again"),
    "pause": ("Pause", "Ctrl+P", "Paused"),
    "resume": ("Resume", "Ctrl+Shift+P", "Resumed"),
}
COLUMN_WIDTHS = (80, 90, 110, 70, 90, 60, 70, 320, 150)
STEP_COLUMNS = ("Step", "Status", "Attempts", "Result", "Error")
DETAIL_DELAY_MS = 100
REFUSALS_SHOWN = 3


@dataclass(frozen=True)
class SteerReport:
    """What one Cancel/Retry/Pause/Resume did: the jobs changed, the refusals."""

    verb: str
    done: tuple[int, ...]
    refused: tuple[str, ...]

    def text(self) -> str:
        """The status line."""
        past = ACTIONS[self.verb][2]
        parts = []
        if self.done:
            noun = f"job {self.done[0]}" if len(self.done) == 1 else f"{len(self.done)} jobs"
            parts.append(f"{past} {noun}.")
        if self.refused:
            shown = "; ".join(self.refused[:REFUSALS_SHOWN])
            more = len(self.refused) - REFUSALS_SHOWN
            parts.append(f"Refused: {shown}" + (f" (and {more} more)." if more > 0 else "."))
        return " ".join(parts)


def steer(service: MarketplaceJobService, verb: str, ids: Sequence[int]) -> SteerReport:
    """Apply ``verb`` to each job (database thread); a refusal is recorded, not raised."""
    method = getattr(service, f"{verb}_job")
    done: list[int] = []
    refused: list[str] = []
    for job_id in ids:
        try:
            method(job_id)
        except (JobStateError, JobNotFoundError) as exc:
            refused.append(str(exc))
        else:
            done.append(job_id)
    return SteerReport(verb, tuple(done), tuple(refused))


def pretty(value: Any) -> str:
    """JSON for the detail pane ("" for nothing)."""
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


class JobsPage(QWidget):
    """Filters, the jobs table, Cancel/Retry/Pause/Resume, and the selected job's detail."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPage")
        self.ctx = ctx
        self.service = ctx.job_service
        self.model = JobsTableModel(ctx, self)
        self.model.setObjectName("jobsModel")
        layout = QVBoxLayout(self)

        filters = QHBoxLayout()
        self.marketplace_filter = self._combo("marketplaceFilter", "All marketplaces")
        for marketplace in MARKETPLACE_VALUES:
            self.marketplace_filter.addItem(DISPLAY.get(marketplace, marketplace), marketplace)
        self.status_filter = self._combo("statusFilter", "All statuses")
        for status in JobStatus:
            self.status_filter.addItem(status.value.capitalize(), status.value)
        self.action_filter = self._combo("actionFilter", "All actions")
        for label, combo in (
            ("Marketplace", self.marketplace_filter),
            ("Status", self.status_filter),
            ("Action", self.action_filter),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(combo)
        filters.addStretch(1)
        self.count_label = QLabel("")
        self.count_label.setObjectName("jobsCount")
        filters.addWidget(self.count_label)
        layout.addLayout(filters)

        buttons = QHBoxLayout()
        self.steer_actions: dict[str, QAction] = {}
        self.buttons: dict[str, QToolButton] = {}
        for verb, (text, keys, _past) in ACTIONS.items():
            action = QAction(text, self)
            action.setObjectName(f"{verb}Action")
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{text} the selected jobs ({keys})")
            action.setEnabled(False)
            action.triggered.connect(
                lambda *_a, v=verb: ctx.spawn(self.steer_selected(v), f"{ACTIONS[v][0]} jobs")
            )
            self.addAction(action)
            button = QToolButton()
            button.setObjectName(f"{verb}Button")
            button.setDefaultAction(action)
            buttons.addWidget(button)
            self.steer_actions[verb] = action
            self.buttons[verb] = button
        self.status_label = QLabel("")
        self.status_label.setObjectName("jobsStatus")
        self.status_label.setWordWrap(True)
        buttons.addWidget(self.status_label, 1)
        layout.addLayout(buttons)

        self.table = QTableView()
        self.table.setObjectName("jobsTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        rows = self.table.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform row heights
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        columns = self.table.horizontalHeader()
        columns.setHighlightSections(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        columns.setSectionResizeMode(COLUMNS.index("Error"), QHeaderView.ResizeMode.Stretch)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("jobsSplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self._detail_pane())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)

        self._detail_id: int | None = None
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(DETAIL_DELAY_MS)
        self._detail_timer.timeout.connect(
            lambda: ctx.spawn(self.show_detail(self._detail_id), "Loading the job's detail")
        )
        selection = self.table.selectionModel()
        selection.currentRowChanged.connect(self._current_changed)
        selection.selectionChanged.connect(self._selection_changed)
        for combo in (self.marketplace_filter, self.status_filter, self.action_filter):
            combo.currentIndexChanged.connect(self._filter_changed)
        self.model.modelReset.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.rowsRemoved.connect(self._update_count)
        ctx.relay.jobChanged.connect(self._job_changed)

    # -- building -----------------------------------------------------------------------
    def _combo(self, name: str, everything: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItem(everything, None)
        return combo

    def _detail_pane(self) -> QWidget:
        pane = QWidget()
        pane.setObjectName("jobDetail")
        grid = QGridLayout(pane)
        grid.setContentsMargins(0, 0, 0, 0)
        self.detail_title = QLabel("Select a job to see its detail")
        self.detail_title.setObjectName("detailTitle")
        grid.addWidget(self.detail_title, 0, 0, 1, 3)
        self.detail_input = self._text("detailInput")
        self.detail_result = self._text("detailResult")
        self.detail_error = self._text("detailError")
        for column, (label, box) in enumerate(
            (("Input", self.detail_input), ("Result", self.detail_result)),
        ):
            grid.addWidget(QLabel(label), 1, column)
            grid.addWidget(box, 2, column)
        grid.addWidget(QLabel("Error"), 1, 2)
        grid.addWidget(self.detail_error, 2, 2)
        grid.addWidget(QLabel("Steps"), 3, 0, 1, 3)
        self.detail_steps = QTableWidget(0, len(STEP_COLUMNS))
        self.detail_steps.setObjectName("detailSteps")
        self.detail_steps.setHorizontalHeaderLabels(list(STEP_COLUMNS))
        self.detail_steps.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detail_steps.verticalHeader().setVisible(False)
        self.detail_steps.horizontalHeader().setStretchLastSection(True)
        grid.addWidget(self.detail_steps, 4, 0, 1, 3)
        return pane

    def _text(self, name: str) -> QPlainTextEdit:
        box = QPlainTextEdit()
        box.setObjectName(name)
        box.setReadOnly(True)
        box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        return box

    # -- filters ----------------------------------------------------------------------------
    def current_filter(self) -> JobFilter:
        """The filter the combos describe."""
        return JobFilter(
            marketplace=self.marketplace_filter.currentData(),
            status=self.status_filter.currentData(),
            action=self.action_filter.currentData(),
        )

    def set_filter(self, job_filter: JobFilter) -> None:
        """Select ``job_filter`` in the combos (applied like a choice of the seller)."""
        for combo, value in (
            (self.marketplace_filter, job_filter.marketplace),
            (self.status_filter, job_filter.status),
            (self.action_filter, job_filter.action),
        ):
            combo.setCurrentIndex(max(combo.findData(value), 0))

    def _filter_changed(self, *_args: Any) -> None:
        self.ctx.spawn(self.apply_filter(), "Filtering jobs")

    async def apply_filter(self) -> None:
        """Show the jobs that match the combos (a user action: the table is reset)."""
        await self.model.refresh(self.current_filter())

    async def refresh(self) -> None:
        """Reload the jobs, the action list and the detail shown."""
        await self.model.refresh(self.current_filter())
        if self.action_filter.count() <= 1:  # action types change only with migrations
            codes = await self.ctx.read(action_codes)
            self.action_filter.blockSignals(True)
            for code in codes:
                self.action_filter.addItem(code, code)
            self.action_filter.blockSignals(False)
        if self._detail_id is not None:
            await self.show_detail(self._detail_id)

    def _update_count(self, *_args: Any) -> None:
        count = self.model.rowCount()
        self.count_label.setText(f"{count:,} job{'s' if count != 1 else ''}")

    # -- steering ---------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """Ids of the selected jobs, top to bottom."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.job_id(row) for row in rows]

    def select_jobs(self, ids: Sequence[int]) -> None:
        """Select the rows of ``ids`` (those shown); the first becomes current."""
        selection = self.table.selectionModel()
        selection.clearSelection()
        rows = [row for row in map(self.model.row_of, ids) if row is not None]
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)
        if rows:
            selection.setCurrentIndex(self.model.index(rows[0], 0), flags)

    async def steer_selected(self, verb: str) -> SteerReport:
        """Cancel, retry, pause or resume every selected job; reports in the status line."""
        if verb not in ACTIONS:
            raise ValueError(f"Unknown job action: {verb}")
        ids = self.selected_ids()
        if not ids:
            report = SteerReport(verb, (), ())
            self.status_label.setText("Select one or more jobs first.")
            return report
        report = await self.ctx.run(steer, self.service, verb, ids)
        self.status_label.setText(report.text())
        return report

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        has = self.table.selectionModel().hasSelection()
        for action in self.steer_actions.values():
            action.setEnabled(has)

    # -- detail ---------------------------------------------------------------------------
    def _current_changed(
        self, current: QModelIndex | QPersistentModelIndex, _previous: Any = None
    ) -> None:
        job_id = current.data(JOB_ID_ROLE) if current.isValid() else None
        if job_id != self._detail_id:
            self._detail_id = job_id
            self._detail_timer.start()

    def _job_changed(self, job_id: int, _marketplace: str, _status: str) -> None:
        if job_id == self._detail_id and not self._detail_timer.isActive():
            self._detail_timer.start()

    async def show_detail(self, job_id: int | None) -> None:
        """Show input, result, error and steps of ``job_id`` (None clears the pane)."""
        self._detail_id = job_id
        detail = None if job_id is None else await self.ctx.read(job_detail, job_id)
        if job_id != self._detail_id:
            return  # another job was selected meanwhile
        self._fill_detail(job_id, detail)

    def _fill_detail(self, job_id: int | None, detail: JobDetail | None) -> None:
        steps = detail.steps if detail is not None else ()
        if detail is None:
            title = "Select a job to see its detail" if job_id is None else f"Job {job_id}: gone"
        else:
            row = detail.row
            title = (
                f"Job {row.id}: {row.action} on {DISPLAY.get(row.marketplace, row.marketplace)}"
                f", {row.status}, attempt {row.attempts}, retries {row.retry_count}"
                + (f", {row.duration_ms} ms" if row.duration_ms is not None else "")
            )
        self.detail_title.setText(title)
        self.detail_input.setPlainText(pretty(detail.input_data) if detail else "")
        self.detail_result.setPlainText(pretty(detail.result_data) if detail else "")
        self.detail_error.setPlainText((detail.error or "") if detail else "")
        self.detail_steps.setRowCount(len(steps))
        for row_number, step in enumerate(steps):
            cells = (
                step.name,
                step.status,
                str(step.attempts),
                pretty(step.result).replace("\n", " "),
                step.error or "",
            )
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column == 4 and value:
                    item.setToolTip(value)
                self.detail_steps.setItem(row_number, column, item)
