"""The stats page: success rate, jobs per action and durations per marketplace, and alerts.

Three pyqtgraph charts and a table over :mod:`app.marketplace.stats_queries`:

* success rate (%) per marketplace per UTC day, one line per marketplace;
* jobs per action: a row of horizontal bars per action code, one bar per marketplace;
* average job duration per marketplace per day (linked to the success chart's days);
* the per-action numbers (jobs, succeeded, failed, success rate, average duration).

The page follows the queue live: ``statsChanged`` events are coalesced by a single-shot
timer (:data:`REFRESH_DELAY_MS`), the counters are re-read on the database executor,
and the existing plot items get new data with ``setData``/``setOpts`` (they are created
once). Marketplaces whose failure rate today reached the ``alerts/failure_rate``
setting are listed above the charts; the tray notification about them comes from
:class:`app.ui.failure_alert.FailureAlert`, which runs whether or not this page is open.
"""

from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.db import utcnow
from app.marketplace.job_forms import DISPLAY
from app.marketplace.stats_queries import StatsQuery, StatsSnapshot, load_snapshot
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES
from app.ui.context import UiContext
from app.ui.failure_alert import ALERT_MIN_JOBS, failure_threshold

log = logging.getLogger("marketdesk.ui")

REFRESH_DELAY_MS = 250
PRESETS = (7, 30, 365)
DEFAULT_DAYS = 30
#: A fixed colour per marketplace, the same on every chart.
COLOURS = {"vinted": "#09b1ba", "ebay": "#0064d2", "etsy": "#f1641e"}
DAY = 86_400.0
#: A line with at most this many days with jobs gets a dot per day and a gap for each day
#: without jobs (a lone day between gaps would be invisible without its dot). A denser
#: line joins the days with jobs and has no dots: dots on a year of days hide the line
#: and cost most of a redraw.
DOTS_UP_TO = 62
COLUMNS = ("Marketplace", "Action", "Jobs", "Succeeded", "Failed", "Success rate", "Avg duration")


def day_seconds(day: date) -> float:
    """Epoch seconds of the UTC midnight that starts ``day`` (the charts' x values)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def to_date(value: QDate) -> date:
    """A ``QDate`` as a ``date``."""
    return date(value.year(), value.month(), value.day())


def to_qdate(value: date) -> QDate:
    """A ``date`` as a ``QDate``."""
    return QDate(value.year, value.month, value.day)


def percent_text(share: float | None) -> str:
    """``0.925`` as ``92.5 %``; a dash without jobs."""
    return "—" if share is None else f"{share * 100:.1f} %"


def duration_text(ms: float | None) -> str:
    """A duration in ms as ``850 ms`` or ``1.2 s``; a dash without jobs."""
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _values(items: list[float | None], scale: float) -> Any:
    """Optional numbers as a float array, None as NaN (a gap in the line)."""
    return np.array([np.nan if v is None else v * scale for v in items], dtype=float)


class StatsPage(QWidget):
    """Charts and numbers of finished jobs, per marketplace, action and day."""

    #: Emitted after each refresh has been drawn (tests, benchmarks).
    refreshed = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("statsPage")
        self._generation = 0
        self._follow_today = True
        layout = QVBoxLayout(self)

        controls = QHBoxLayout()
        today = utcnow().date()
        self.from_edit = self._date_edit("statsFrom", today - timedelta(days=DEFAULT_DAYS - 1))
        self.to_edit = self._date_edit("statsTo", today)
        controls.addWidget(QLabel("From"))
        controls.addWidget(self.from_edit)
        controls.addWidget(QLabel("to"))
        controls.addWidget(self.to_edit)
        self.preset_buttons: dict[int, QPushButton] = {}
        self._presets = QButtonGroup(self)  # a button's id is its number of days
        for days in PRESETS:
            button = QPushButton(f"{days} days")
            button.setObjectName(f"statsPreset{days}")
            self._presets.addButton(button, days)
            controls.addWidget(button)
            self.preset_buttons[days] = button
        self._presets.idClicked.connect(self.show_last_days)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Marketplace"))
        self.marketplace_box = QComboBox()
        self.marketplace_box.setObjectName("statsMarketplace")
        self.marketplace_box.addItem("All", None)
        for marketplace in MARKETPLACE_VALUES:
            self.marketplace_box.addItem(DISPLAY[marketplace], marketplace)
        controls.addWidget(self.marketplace_box)
        controls.addStretch(1)
        layout.addLayout(controls)

        self.alert_label = QLabel()
        self.alert_label.setObjectName("statsAlerts")
        self.alert_label.setStyleSheet("color: #b00020; font-weight: bold")
        self.alert_label.setWordWrap(True)
        self.alert_label.hide()
        layout.addWidget(self.alert_label)

        background = self.palette().color(QPalette.ColorRole.Base)
        self.success_chart = self._chart("successChart", background, dates=True)
        self.success_chart.setLabel("left", "Success rate (%)")
        self.success_chart.setYRange(0, 100, padding=0.05)
        self.duration_chart = self._chart("durationChart", background, dates=True)
        self.duration_chart.setLabel("left", "Average duration", units="s")
        self.duration_chart.setXLink(self.success_chart)
        self.action_chart = self._chart("actionChart", background, dates=False)
        self.action_chart.setLabel("bottom", "Jobs")
        self.action_chart.invertY(True)  # the first action at the top
        self._metrics = QFontMetrics(
            self.action_chart.getAxis("left").style["tickFont"] or self.font()
        )

        self.success_curves: dict[str, Any] = {}
        self.duration_curves: dict[str, Any] = {}
        self.action_bars: dict[str, Any] = {}
        for marketplace in MARKETPLACE_VALUES:
            colour = COLOURS[marketplace]
            name = DISPLAY[marketplace]
            style: dict[str, Any] = {
                "name": name,
                "pen": pg.mkPen(colour, width=2),
                "symbol": "o",
                "symbolSize": 5,
                "symbolPen": None,
                "symbolBrush": colour,
                "connect": "finite",
            }
            self.success_curves[marketplace] = self.success_chart.plot([], [], **style)
            self.duration_curves[marketplace] = self.duration_chart.plot([], [], **style)
            bars = pg.BarGraphItem(
                x0=0.0, y=[], width=[], height=0.25, brush=colour, pen=None, name=name
            )
            self.action_chart.addItem(bars)
            self.action_bars[marketplace] = bars

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("statsActions")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        # sized once per refresh (_fill_table): per-cell ResizeToContents costs ~0.3 ms a cell
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        grid = QGridLayout()
        grid.addWidget(self.success_chart, 0, 0)
        grid.addWidget(self.duration_chart, 0, 1)
        grid.addWidget(self.action_chart, 1, 0)
        grid.addWidget(self.table, 1, 1)
        layout.addLayout(grid, 1)

        self._timer = QTimer(self)
        self._timer.setObjectName("statsRefreshTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self._refresh_later)
        ctx.relay.statsChanged.connect(self._schedule)
        self.from_edit.dateChanged.connect(self._from_changed)
        self.to_edit.dateChanged.connect(self._to_changed)
        self.marketplace_box.currentIndexChanged.connect(self._schedule)

    # -- building -----------------------------------------------------------------------
    def _date_edit(self, name: str, value: date) -> QDateEdit:
        edit = QDateEdit(to_qdate(value))
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _chart(self, name: str, background: Any, *, dates: bool) -> Any:
        axes = {"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)} if dates else {}
        chart = pg.PlotWidget(background=background, axisItems=axes)
        chart.setObjectName(name)
        # No grid: pyqtgraph draws it with the axis, which then repaints across the whole
        # plot on every data change (about 3.5 ms per axis and frame, measured).
        legend_brush = pg.mkColor(background)
        legend_brush.setAlpha(210)
        chart.addLegend(offset=(-10, 10), brush=legend_brush)
        chart.setMinimumHeight(180)
        return chart

    # -- filters ------------------------------------------------------------------------
    def query(self) -> StatsQuery:
        """What the controls select."""
        start, end = to_date(self.from_edit.date()), to_date(self.to_edit.date())
        marketplace = self.marketplace_box.currentData()
        return StatsQuery(min(start, end), max(start, end), marketplace or None)

    def set_range(self, start: date, end: date) -> None:
        """Show the days from ``start`` to ``end`` (refreshes shortly after)."""
        if start > end:
            raise ValueError(f"The range starts ({start}) after it ends ({end})")
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            edit.blockSignals(True)
            edit.setDate(to_qdate(value))
            edit.blockSignals(False)
        self._follow_today = end == utcnow().date()
        self._schedule()

    def show_last_days(self, days: int) -> None:
        """The ``days`` days that end today (the preset buttons)."""
        query = StatsQuery.last_days(days, utcnow().date())
        self.set_range(query.start, query.end)

    def set_marketplace(self, marketplace: str | None) -> None:
        """Show one marketplace, or all of them with None (refreshes shortly after)."""
        index = self.marketplace_box.findData(marketplace) if marketplace else 0
        if index < 0:
            raise ValueError(f"Unknown marketplace: {marketplace}")
        self.marketplace_box.setCurrentIndex(index)

    def _from_changed(self, value: QDate) -> None:
        if value > self.to_edit.date():
            self.to_edit.blockSignals(True)
            self.to_edit.setDate(value)
            self.to_edit.blockSignals(False)
        self._edited()

    def _to_changed(self, value: QDate) -> None:
        if value < self.from_edit.date():
            self.from_edit.blockSignals(True)
            self.from_edit.setDate(value)
            self.from_edit.blockSignals(False)
        self._edited()

    def _edited(self) -> None:
        self._follow_today = to_date(self.to_edit.date()) == utcnow().date()
        self._schedule()

    def _roll_to_today(self, today: date) -> None:
        """A range that ended today keeps ending today after midnight (UTC)."""
        end = to_date(self.to_edit.date())
        if not self._follow_today or end >= today:
            return
        shift = today - end
        self.set_range(to_date(self.from_edit.date()) + shift, today)

    # -- refreshing ---------------------------------------------------------------------
    def _schedule(self, *_args: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _refresh_later(self) -> None:
        self.ctx.spawn(self.refresh(), "Refreshing the stats")

    async def refresh(self) -> None:
        """Re-read the counters off the window's thread, redraw, list today's alerts."""
        today = utcnow().date()
        self._roll_to_today(today)
        self._generation += 1
        generation = self._generation
        load = functools.partial(
            load_snapshot,
            self.ctx.db,
            self.ctx.user_id,
            self.query(),
            threshold=failure_threshold(self.ctx.settings),
            since=today,
            min_jobs=ALERT_MIN_JOBS,
        )
        snapshot = await self.ctx.run(load)
        if generation != self._generation or not shiboken6.isValid(self):
            return  # a newer refresh started meanwhile (it draws), or the page is gone
        self.draw(snapshot)
        self._show_alerts(snapshot)
        self.refreshed.emit()

    def draw(self, snapshot: StatsSnapshot) -> None:
        """Show ``snapshot`` on the existing curves, bars and table (GUI thread only)."""
        query = snapshot.query
        start = day_seconds(query.start)
        x = start + DAY * np.arange(len(query.days()), dtype=float)
        for marketplace in MARKETPLACE_VALUES:
            series = snapshot.series.get(marketplace)
            success = self.success_curves[marketplace]
            duration = self.duration_curves[marketplace]
            if series is None:
                self._set_curve(success, x, None)
                self._set_curve(duration, x, None)
                continue
            self._set_curve(success, x, _values(series.success_rates, 100.0))
            self._set_curve(duration, x, _values(series.avg_durations_ms, 0.001))
        self.success_chart.setXRange(start - DAY / 2, day_seconds(query.end) + DAY / 2, padding=0)
        self._draw_bars(snapshot)
        self._fill_table(snapshot)

    @staticmethod
    def _set_curve(curve: Any, x: Any, y: Any) -> None:
        """New data for an existing curve; None hides it (a marketplace filtered out)."""
        finite = np.isfinite(y) if y is not None else None
        count = int(finite.sum()) if finite is not None else 0
        if not count:
            curve.setData([], [])
            curve.setVisible(y is not None)
            return
        dots = count <= DOTS_UP_TO
        if (curve.opts["symbol"] is not None) != dots:
            curve.setSymbol("o" if dots else None)
        if dots:
            curve.setData(x, y)  # NaN: a gap, connect="finite"
        else:
            curve.setData(x[finite], y[finite])
        curve.setVisible(True)

    def _draw_bars(self, snapshot: StatsSnapshot) -> None:
        """Horizontal bars: one row per action code, one bar per marketplace shown."""
        shown = snapshot.query.marketplaces
        codes = sorted({row.action for row in snapshot.actions})
        position = {code: i for i, code in enumerate(codes)}
        thickness = 0.8 / len(shown)
        for marketplace, bars in self.action_bars.items():
            if marketplace not in shown:
                bars.setOpts(y=[], width=[])
                bars.setVisible(False)
                continue
            offset = (shown.index(marketplace) - (len(shown) - 1) / 2) * thickness
            rows = [row for row in snapshot.actions if row.marketplace == marketplace]
            bars.setOpts(
                y=np.array([position[row.action] + offset for row in rows], dtype=float),
                width=np.array([row.total_jobs for row in rows], dtype=float),
                height=thickness * 0.9,
            )
            bars.setVisible(True)
        axis = self.action_chart.getAxis("left")
        axis.setTicks([list(enumerate(codes)), []])
        longest = max((self._metrics.horizontalAdvance(code) for code in codes), default=0)
        axis.setWidth(max(40, longest + 16))
        most = max((row.total_jobs for row in snapshot.actions), default=1)
        # room on the right for the legend
        self.action_chart.setRange(
            xRange=(0, most * 1.3), yRange=(-0.5, max(len(codes), 1) - 0.5), padding=0.02
        )

    def _fill_table(self, snapshot: StatsSnapshot) -> None:
        """Rows of per-action numbers; items are reused and columns sized once per fill."""
        table = self.table
        changed = table.rowCount() != len(snapshot.actions)
        table.setRowCount(len(snapshot.actions))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, totals in enumerate(snapshot.actions):
            cells = (
                DISPLAY.get(totals.marketplace, totals.marketplace),
                totals.name,
                str(totals.total_jobs),
                str(totals.successes),
                str(totals.failures),
                percent_text(totals.success_rate),
                duration_text(totals.avg_duration_ms),
            )
            for column, text in enumerate(cells):
                item = table.item(row, column)
                if item is None:
                    item = QTableWidgetItem(text)
                    if column >= 2:
                        item.setTextAlignment(right)
                    table.setItem(row, column, item)
                    changed = True
                elif item.text() != text:
                    item.setText(text)
                    changed = True
                if column == 1 and item.toolTip() != totals.action:
                    item.setToolTip(totals.action)
        if changed:
            table.resizeColumnsToContents()

    def _show_alerts(self, snapshot: StatsSnapshot) -> None:
        self.alert_label.setText("\n".join(alert.message for alert in snapshot.alerts))
        self.alert_label.setVisible(bool(snapshot.alerts))
