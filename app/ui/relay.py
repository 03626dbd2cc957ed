"""Core events as Qt signals, delivered on the window's thread.

The core's :class:`app.events.EventBus` calls subscribers in the publisher's thread (the
database thread, the event loop). :class:`EventRelay` re-emits each event as a Qt signal;
Qt queues a signal emitted from another thread to receivers living in the GUI thread, so
widgets only ever see events on their own thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.events import (
    BridgeStateChanged,
    ConnectionChanged,
    Event,
    EventBus,
    JobChanged,
    JobCreated,
    SaleAlert,
    StatsChanged,
)


class EventRelay(QObject):
    """Signals for the window: jobs, stats, marketplace connections, the plugin bridge,
    sale alerts."""

    jobCreated = Signal(int, str)  # job id, marketplace
    jobChanged = Signal(int, str, str)  # job id, marketplace, status
    statsChanged = Signal(str)  # marketplace
    connectionChanged = Signal(object)  # ConnectionChanged
    bridgeChanged = Signal(object)  # BridgeStateChanged
    saleAlert = Signal(object)  # SaleAlert

    def __init__(
        self, bus: EventBus | None, user_id: int = 1, parent: QObject | None = None
    ) -> None:
        """``bus`` None: nothing is relayed until :meth:`follow` (the database opens later)."""
        super().__init__(parent)
        self.user_id = user_id
        self._unsubscribe: Callable[[], None] | None = None
        if bus is not None:
            self.follow(bus)

    def follow(self, bus: EventBus) -> None:
        """Relay the events of ``bus`` (the open database's) from now on."""
        self.close()
        self._unsubscribe = bus.subscribe(self._deliver)

    def _deliver(self, event: Event) -> None:
        if getattr(event, "user_id", self.user_id) != self.user_id:
            return
        if isinstance(event, JobChanged):
            self.jobChanged.emit(event.job_id, event.marketplace, event.status)
        elif isinstance(event, JobCreated):
            self.jobCreated.emit(event.job_id, event.marketplace)
        elif isinstance(event, StatsChanged):
            self.statsChanged.emit(event.marketplace)
        elif isinstance(event, ConnectionChanged):
            self.connectionChanged.emit(event)
        elif isinstance(event, BridgeStateChanged):
            self.bridgeChanged.emit(event)
        elif isinstance(event, SaleAlert):
            self.saleAlert.emit(event)

    def close(self) -> None:
        """Stop relaying (before the window goes away)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
