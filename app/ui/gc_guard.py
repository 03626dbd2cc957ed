"""Python's cyclic garbage collection, run on the window's thread only.

The collector normally runs wherever an allocation happens to cross its threshold: in
the database thread, in a worker of the event loop's executor. If a cycle it frees holds
a Qt object, that object is then destroyed on the wrong thread, which Qt answers with a
crash. :class:`MainThreadCollector` switches automatic collection off while the window
runs and collects from a timer on the GUI thread instead (young generations often,
older ones when their thresholds say so), which is how Qt programs usually avoid it.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Collects garbage on the GUI thread; :meth:`stop` restores automatic collection."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        """Take over collection."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def collect(self) -> None:
        """Collect the generations whose thresholds were reached."""
        first, second, third = gc.get_threshold()
        young, middle, old = gc.get_count()
        if old > third:
            gc.collect(2)
        elif middle > second:
            gc.collect(1)
        elif young > first:
            gc.collect(0)

    def stop(self) -> None:
        """Collect once more and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
