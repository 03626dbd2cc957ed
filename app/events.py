"""A small synchronous publish/subscribe bus for core events.

The core publishes plain dataclasses (job created, job changed, stats changed,
marketplace connection changed, sale alerts); the
window subscribes later and marshals them onto its own thread. Callbacks run in the
publisher's thread, must be quick, and an exception in one subscriber is logged and never
reaches the publisher or the other subscribers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger("marketdesk.events")


@dataclass(frozen=True)
class JobCreated:
    """A job was added to the queue."""

    job_id: int
    marketplace: str
    user_id: int = 1


@dataclass(frozen=True)
class JobChanged:
    """A job changed status (or was asked to cancel)."""

    job_id: int
    marketplace: str
    status: str
    user_id: int = 1


@dataclass(frozen=True)
class StatsChanged:
    """Outcome counters of a marketplace changed."""

    marketplace: str
    user_id: int = 1


@dataclass(frozen=True)
class ConnectionChanged:
    """A marketplace account was connected, renewed, lost or disconnected.

    ``state`` is ``connected``, ``disconnected`` or ``reconnect_needed``; ``account`` is
    who is connected; ``until`` is when the connection ends unless renewed (the refresh
    token's expiry when known, else the access token's).
    """

    marketplace: str
    state: str
    account: str | None = None
    until: datetime | None = None
    message: str | None = None
    user_id: int = 1


@dataclass(frozen=True)
class BridgeStateChanged:
    """The plugin bridge started, stopped, or a plugin paired, changed or went away.

    ``state`` is ``listening`` (no plugin), ``connected``, or ``stopped``; ``vinted_login``
    is the Vinted account the plugin sees (None when logged out or unknown);
    ``message`` says why a state was left (port taken, plugin replaced, ...).
    """

    state: str
    port: int
    plugin_version: str | None = None
    browser: str | None = None
    vinted_logged_in: bool | None = None
    vinted_login: str | None = None
    message: str | None = None
    user_id: int = 1


@dataclass(frozen=True)
class SaleAlert:
    """A sale needs the seller: sold on two marketplaces (``kind`` ``oversell``), or its
    other listings could not be taken down (``delist_failed``): a double sale is at stake.
    ``voided``: the order was cancelled or refunded after the sale was recorded; the
    message says what went back in stock and which ended listings can be published again."""

    sale_id: int
    product_id: int | None
    marketplace: str
    kind: str
    message: str
    user_id: int = 1


Event = JobCreated | JobChanged | StatsChanged | ConnectionChanged | BridgeStateChanged | SaleAlert
Subscriber = Callable[[Event], None]


class EventBus:
    """Thread-safe list of subscribers; ``publish`` calls each of them in turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it again."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber."""
        self.publish_many((event,))

    def publish_many(self, events: Iterable[Event]) -> None:
        """Deliver several events, in order, to every subscriber."""
        with self._lock:
            subscribers = tuple(self._subscribers)
        if not subscribers:
            return
        for event in events:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    log.exception("event subscriber %r failed on %r", callback, event)
