"""PostgreSQL LISTEN/NOTIFY: idle workers hear about new jobs at once.

Job creation issues ``pg_notify('marketdesk_jobs', '<user id>')`` in its own transaction,
so the notification arrives when the job is committed. A :class:`JobListener` holds one
dedicated connection in a background thread; when the connection drops it reconnects with
backoff, and the runner's polling keeps finding work meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

log = logging.getLogger("marketdesk.db")

CHANNEL = "marketdesk_jobs"


def notify_new_job(conn: Connection, user_id: int) -> None:
    """Queue a notification for ``user_id``'s workers; it is sent when ``conn`` commits."""
    conn.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": str(user_id)}
    )


class JobListener:
    """Calls ``callback(user_id)`` for every job-creation notification, from its own thread."""

    def __init__(
        self, url: URL, callback: Callable[[int], None], *, max_backoff: float = 30.0
    ) -> None:
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._callback = callback
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        """Start listening in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="marketdesk-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import psycopg

        backoff = 1.0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    backoff = 1.0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(note.payload)
            except Exception as exc:  # the server went away: poll until it is back
                self.connected.clear()
                if self._stop.is_set():
                    break
                log.warning("job notifications lost (%s); reconnecting in %.0f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(self._max_backoff, backoff * 2)
        self.connected.clear()

    def _deliver(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:
            log.warning("ignoring malformed job notification %r", payload)
            return
        try:
            self._callback(user_id)
        except Exception:
            log.exception("job notification callback failed")
