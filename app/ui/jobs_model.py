"""The jobs table's model: 100,000 jobs without loading 100,000 rows.

:class:`JobsTableModel` holds the ids that match the current filter (newest first) and a
bounded cache of rows, filled lazily: when the view asks for a row that is not cached the
model shows a placeholder, reads the chunk of rows around it off the window's thread
(``ctx.run``) and emits ``dataChanged`` once they arrive.

The core's events keep it current without ever resetting it: ``jobCreated`` and
``jobChanged`` mark ids dirty; after a short pause (events come in bursts) the dirty rows
are read in one go and each is inserted at its place (new jobs go to the top), updated
in place, or removed when it no longer passes the filter. Only a new filter, a user
action, resets the model.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor
from shiboken6 import Shiboken

from app.marketplace.job_forms import DISPLAY
from app.marketplace.job_queries import JobFilter, JobRow, first_page, job_rows
from app.ui.context import UiContext

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex

COLUMNS = (
    "Id",
    "Marketplace",
    "Action",
    "Product",
    "Status",
    "Priority",
    "Attempts",
    "Error",
    "Updated",
)
ID_COLUMN, STATUS_COLUMN, ERROR_COLUMN = 0, 4, 7
NUMERIC_COLUMNS = frozenset({0, 3, 5, 6})
#: The job id of a row (known before its data is loaded).
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: The row's :class:`JobRow`, or None while it is loading.
JOB_ROW_ROLE = Qt.ItemDataRole.UserRole + 2
PLACEHOLDER = "…"
CHUNK_SIZE = 200
COALESCE_MS = 100
CACHE_LIMIT = 20_000
ERROR_PREVIEW = 160
STATUS_COLOURS = {
    "pending": QColor("#5f6b7a"),
    "running": QColor("#1565c0"),
    "paused": QColor("#b26a00"),
    "completed": QColor("#2e7d32"),
    "failed": QColor("#c62828"),
    "cancelled": QColor("#757575"),
    "expired": QColor("#8d6e63"),
}
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_ROOT = QModelIndex()


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as ``(first, last)`` runs of consecutive rows."""
    runs: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def display(job: JobRow, column: int) -> Any:
    """What the table shows in ``column`` for ``job``."""
    if column == 0:
        return job.id
    if column == 1:
        return DISPLAY.get(job.marketplace, job.marketplace)
    if column == 2:
        return job.action
    if column == 3:
        return "" if job.product_id is None else job.product_id
    if column == 4:
        return job.status
    if column == 5:
        return job.priority
    if column == 6:
        return job.attempts
    if column == ERROR_COLUMN:
        error = job.error_message or ""
        first = error.split("\n", 1)[0]
        return first if len(first) <= ERROR_PREVIEW else first[: ERROR_PREVIEW - 1] + "…"
    return _when(job.updated_at or job.created_at)


class JobsTableModel(QAbstractTableModel):
    """Jobs newest first, filtered, lazily loaded and kept current from core events."""

    #: Rows ``first..last`` received their data (after ``dataChanged``).
    rowsLoaded = Signal(int, int)
    #: A filter was applied (the model was reset); the number of matching jobs.
    filterApplied = Signal(int)
    #: A burst of core events was applied (rows inserted, updated or removed).
    eventsApplied = Signal()

    def __init__(
        self,
        ctx: UiContext,
        parent: QObject | None = None,
        *,
        chunk_size: int = CHUNK_SIZE,
        coalesce_ms: int = COALESCE_MS,
        cache_limit: int = CACHE_LIMIT,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.chunk_size = max(1, chunk_size)
        self.cache_limit = max(self.chunk_size * 4, cache_limit)
        self._filter = JobFilter()
        self._ids: list[int] = []
        self._cache: dict[int, JobRow] = {}
        self._loading: dict[int, int] = {}  # job id -> serial of the read under way
        self._wanted: set[int] = set()  # chunks the view asked for
        self._serials = itertools.count(1)
        self._dirty: set[int] = set()
        self._generation = 0
        self._refreshing = 0
        self._updating = False
        self._pump = QTimer(self)
        self._pump.setSingleShot(True)
        self._pump.setInterval(0)
        self._pump.timeout.connect(self._load_wanted)
        self._events = QTimer(self)
        self._events.setSingleShot(True)
        self._events.setInterval(coalesce_ms)
        self._events.timeout.connect(self._apply_events)
        ctx.relay.jobCreated.connect(self._job_event)
        ctx.relay.jobChanged.connect(self._job_event)

    # -- Qt's model interface -----------------------------------------------------------
    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        if row >= len(self._ids):
            return None
        job_id = self._ids[row]
        if role == JOB_ID_ROLE:
            return job_id
        column = index.column()
        job = self._cache.get(job_id)
        if role == Qt.ItemDataRole.DisplayRole:
            if job is not None:
                return display(job, column)
            self._want(row)
            return job_id if column == ID_COLUMN else PLACEHOLDER
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column in NUMERIC_COLUMNS else None
        if job is None:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.error_message or None
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS_COLUMN:
            return STATUS_COLOURS.get(job.status)
        if role == JOB_ROW_ROLE:
            return job
        return None

    # -- what the page and tests use ------------------------------------------------------
    @property
    def job_filter(self) -> JobFilter:
        """The filter of the rows shown."""
        return self._filter

    @property
    def ids(self) -> Sequence[int]:
        """The ids shown, top to bottom (do not modify)."""
        return self._ids

    @property
    def busy(self) -> bool:
        """True while a refresh or a burst of events is not applied yet."""
        return bool(self._refreshing or self._updating or self._dirty)

    def job_id(self, row: int) -> int:
        """The id of the job in ``row``."""
        return self._ids[row]

    def row_of(self, job_id: int) -> int | None:
        """The row of ``job_id``, or None when it is not shown."""
        position = bisect.bisect_left(self._ids, -job_id, key=operator.neg)
        if position < len(self._ids) and self._ids[position] == job_id:
            return position
        return None

    def job(self, row: int) -> JobRow | None:
        """The loaded data of ``row`` (None while it is loading)."""
        return self._cache.get(self._ids[row]) if 0 <= row < len(self._ids) else None

    def is_loaded(self, first: int, last: int) -> bool:
        """True when rows ``first..last`` (clamped) all have their data."""
        last = min(last, len(self._ids) - 1)
        return all(self._ids[row] in self._cache for row in range(max(first, 0), last + 1))

    async def refresh(self, job_filter: JobFilter | None = None) -> None:
        """Read the ids matching ``job_filter`` (default: the current one) and reset."""
        if job_filter is not None:
            self._filter = job_filter
        self._generation += 1
        generation = self._generation
        wanted = self._filter
        self._refreshing += 1
        try:
            # the first chunk comes along, so the first paint already shows data
            ids, rows = await self.ctx.read(first_page, wanted, self.chunk_size)
        finally:
            self._refreshing -= 1
        if generation != self._generation or not Shiboken.isValid(self):
            return  # a newer refresh replaces this one
        self.beginResetModel()
        self._ids = ids
        self._cache.clear()
        self._loading.clear()
        self._wanted.clear()
        self._store(rows.values())
        self.endResetModel()
        self.filterApplied.emit(len(ids))
        self._schedule_events()

    async def load_rows(self, first: int, last: int) -> None:
        """Make sure rows ``first..last`` (clamped) are loaded, and wait for them."""
        for _attempt in range(3):  # a job may change while its row is read: read it again
            last = min(last, len(self._ids) - 1)
            missing = [
                self._ids[row]
                for row in range(max(first, 0), last + 1)
                if self._ids[row] not in self._cache
            ]
            if not missing:
                return
            await self._load(missing, next(self._serials))

    # -- lazy loading -------------------------------------------------------------------
    def _want(self, row: int) -> None:
        self._wanted.add(row // self.chunk_size)
        if not self._pump.isActive():
            self._pump.start()

    def _load_wanted(self) -> None:
        chunks, self._wanted = sorted(self._wanted), set()
        missing: list[int] = []
        for chunk in chunks:
            start = chunk * self.chunk_size
            for job_id in self._ids[start : start + self.chunk_size]:
                if job_id not in self._cache and job_id not in self._loading:
                    missing.append(job_id)
        if missing:
            self.ctx.spawn(self._load(missing, next(self._serials)), "Loading jobs")

    async def _load(self, ids: list[int], serial: int) -> None:
        for job_id in ids:
            self._loading[job_id] = serial
        try:
            rows = await self.ctx.read(job_rows, ids)
        finally:
            mine = [job_id for job_id in ids if self._loading.get(job_id) == serial]
            for job_id in mine:
                del self._loading[job_id]
        if not Shiboken.isValid(self):
            return
        # a row whose job changed (or a reset) since the read started is left out:
        # the event's own read brings the fresh data
        fresh = {job_id: rows[job_id] for job_id in mine if job_id in rows}
        gone = [job_id for job_id in mine if job_id not in rows]
        self._store(fresh.values())
        self._changed(fresh)
        if gone:
            self._remove(gone)

    def _store(self, rows: Iterable[JobRow]) -> None:
        cache = self._cache
        for job in rows:
            cache.pop(job.id, None)  # re-inserted at the young end
            cache[job.id] = job
        excess = len(cache) - self.cache_limit
        if excess > 0:
            # the oldest reads go first; rows on screen were read recently
            for job_id in list(itertools.islice(cache, excess + self.chunk_size)):
                del cache[job_id]

    def _changed(self, ids: Iterable[int]) -> None:
        rows = [row for row in map(self.row_of, ids) if row is not None]
        if not rows:
            return
        last_column = len(COLUMNS) - 1
        runs = _runs(rows)
        if len(runs) > 32:  # many scattered rows: one signal over the whole span
            runs = [(runs[0][0], runs[-1][1])]
        for first, last in runs:
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))
            self.rowsLoaded.emit(first, last)

    # -- core events ----------------------------------------------------------------------
    def _job_event(self, job_id: int, *_details: str) -> None:
        self._dirty.add(job_id)
        self._loading.pop(job_id, None)  # a read under way may predate the change
        self._schedule_events()

    def _schedule_events(self) -> None:
        if self._dirty and not self._events.isActive():
            self._events.start()

    def _apply_events(self) -> None:
        if self._updating or self._refreshing:
            return  # rescheduled when the one under way ends
        self.ctx.spawn(self._update(), "Updating the jobs table")

    async def _update(self) -> None:
        ids, self._dirty = self._dirty, set()
        generation = self._generation
        self._updating = True
        try:
            rows = await self.ctx.read(job_rows, ids)
        finally:
            self._updating = False
        if not Shiboken.isValid(self):
            return
        if generation == self._generation:  # else the reset read them already
            self._merge(ids, rows)
        self._schedule_events()
        self.eventsApplied.emit()

    def _merge(self, ids: set[int], rows: dict[int, JobRow]) -> None:
        shown = {job_id for job_id in ids if self.row_of(job_id) is not None}
        keep = {job_id: row for job_id, row in rows.items() if self._filter.matches(row)}
        leaving = [job_id for job_id in shown if job_id not in keep]
        arriving = [job_id for job_id in keep if job_id not in shown]
        self._store(keep.values())
        for job_id in leaving:
            self._cache.pop(job_id, None)
        self._remove(leaving)
        self._insert(arriving)
        self._changed(job_id for job_id in keep if job_id in shown)

    def _remove(self, ids: Iterable[int]) -> None:
        rows = [row for row in map(self.row_of, ids) if row is not None]
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(_ROOT, first, last)
            del self._ids[first : last + 1]
            self.endRemoveRows()

    def _insert(self, ids: Iterable[int]) -> None:
        blocks: dict[int, list[int]] = {}
        for job_id in sorted(ids, reverse=True):
            position = bisect.bisect_left(self._ids, -job_id, key=operator.neg)
            blocks.setdefault(position, []).append(job_id)
        for position in sorted(blocks, reverse=True):
            block = blocks[position]
            self.beginInsertRows(_ROOT, position, position + len(block) - 1)
            self._ids[position:position] = block
            self.endInsertRows()
