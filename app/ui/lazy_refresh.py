"""Reloading a page when the core changes its data: soon while shown, else when shown.

Core events can come in bursts (a sync finishing, a batch of jobs); :class:`LazyRefresh`
turns a burst into one reload after a short delay, and a page that is hidden reloads
only when the seller opens it again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class LazyRefresh(QObject):
    """Coalesces the reload requests of one page."""

    def __init__(self, page: QWidget, reload: Callable[[], None], delay_ms: int) -> None:
        super().__init__(page)
        self._page = page
        self._reload = reload
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._fire)
        page.installEventFilter(self)

    def request(self) -> None:
        """The page's data changed: reload soon, or when it is shown again."""
        if self._page.isVisible():
            self._timer.start()
        else:
            self._stale = True

    def _fire(self) -> None:
        if self._page.isVisible():
            self._reload()
        else:
            self._stale = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Reload a stale page as it is shown."""
        if watched is self._page and event.type() == QEvent.Type.Show and self._stale:
            self._stale = False
            self._reload()
        return False
