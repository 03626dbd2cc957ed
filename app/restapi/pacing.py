"""Client-side request pacing: stay under a marketplace's per-second limit.

Requests take evenly spaced start slots (``1 / requests_per_second`` apart, plus a small
margin so that network jitter never puts one request too many into the server's window).
A 429 or a marketplace header saying the second is used up holds every later slot back.
"""

from __future__ import annotations

import asyncio
import time

#: Spacing margin over the exact rate, absorbing jitter between client and server clocks.
MARGIN = 1.03


class RequestPacer:
    """Evenly spaced start slots for the requests of one account."""

    def __init__(self, requests_per_second: float | None = None) -> None:
        self._interval = 0.0
        self._next = 0.0
        self.set_rate(requests_per_second)

    @property
    def requests_per_second(self) -> float | None:
        """The rate kept (None: unlimited)."""
        return MARGIN / self._interval if self._interval else None

    def set_rate(self, requests_per_second: float | None) -> None:
        """Keep ``requests_per_second`` from now on (None or 0: no spacing)."""
        if requests_per_second is not None and requests_per_second < 0:
            raise ValueError("requests_per_second cannot be negative")
        self._interval = MARGIN / requests_per_second if requests_per_second else 0.0

    async def wait(self) -> None:
        """Wait for this request's start slot."""
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def hold(self, seconds: float) -> None:
        """Start no request for ``seconds`` from now (after a 429, an exhausted second)."""
        self._next = max(self._next, time.monotonic() + seconds)
