"""The failure-rate alert: a tray notification when a marketplace fails too often today.

:class:`FailureAlert` lives as long as the window, whether or not the Stats page has
been opened: once when it starts (failures of an earlier run, or of a worker process,
count too), then on ``statsChanged`` events coalesced by a single-shot timer. Today's
failure rates are read off the window's thread (:func:`failure_alerts`, one grouped
query) and each marketplace whose rate reached the ``alerts/failure_rate`` setting is
announced once per UTC day with :attr:`alertRaised`.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from app.ui.context import UiContext

log = logging.getLogger("marketdesk.ui")

#: The setting (a share: 0.25 = 25 %) and its default; the Settings page edits it.
ALERT_KEY = "alerts/failure_rate"
DEFAULT_ALERT = 0.25
CHECK_DELAY_MS = 500
#: Fewer finished jobs than this today never raise an alert (1 failure of 2 is noise).
ALERT_MIN_JOBS = 10


def failure_threshold(settings: QSettings) -> float:
    """The alert threshold (a share, 0.25 = 25 %); the default when unset or unusable."""
    raw: Any = settings.value(ALERT_KEY, DEFAULT_ALERT)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        log.warning("Ignoring the alert threshold %r: not a number", raw)
        return DEFAULT_ALERT
    if not 0 < value <= 1:
        log.warning("Ignoring the alert threshold %r: not between 0 and 1", raw)
        return DEFAULT_ALERT
    return value


class FailureAlert(QObject):
    """Follows the stats and raises each marketplace's alert at most once a day."""

    #: A human sentence about a marketplace whose failure rate crossed the threshold.
    alertRaised = Signal(str)

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._alerted: dict[str, date] = {}
        self._timer = QTimer(self)
        self._timer.setObjectName("failureAlertTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(
            lambda: ctx.spawn(self.check(), "Checking the failure-rate alert")
        )
        ctx.relay.statsChanged.connect(self._schedule)
        self._timer.start()  # today's alerts so far, once the window is up

    def _schedule(self, *_args: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    async def check(self) -> list[str]:
        """Read today's failure rates; announce the new alerts (returned, for tests)."""
        await self.ctx.opened()  # the database layer is loaded by then, off this thread
        from app.db import utcnow
        from app.marketplace.stats_queries import failure_alerts

        today = utcnow().date()
        threshold = failure_threshold(self.ctx.settings)
        alerts = await self.ctx.read(failure_alerts, threshold, today, ALERT_MIN_JOBS)
        raised = []
        for alert in alerts:
            if self._alerted.get(alert.marketplace) == today:
                continue
            self._alerted[alert.marketplace] = today
            log.warning("Alert: %s", alert.message)
            raised.append(alert.message)
            self.alertRaised.emit(alert.message)
        return raised
