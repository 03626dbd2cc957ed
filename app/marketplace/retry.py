"""Classifying handler failures and computing when a failed job runs again."""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.marketplace.errors import (
    AuthRequiredError,
    PermanentJobError,
    RetryableJobError,
)


class Outcome(enum.Enum):
    """What the runner does with a failed job."""

    RETRY = "retry"
    FAIL = "fail"
    PAUSE = "pause"


@dataclass(frozen=True)
class Failure:
    """A classified failure: the outcome, a message for the seller, and timing hints."""

    outcome: Outcome
    message: str
    retry_after: float | None = None
    consumes_retry: bool = True


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(exc: BaseException) -> Failure:
    """Map an exception raised while running a job to what should happen next."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, RetryableJobError):
        return Failure(Outcome.RETRY, message, exc.retry_after, exc.consumes_retry)
    if isinstance(exc, AuthRequiredError):
        return Failure(Outcome.PAUSE, message)
    if isinstance(exc, PermanentJobError):
        return Failure(Outcome.FAIL, message)
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return Failure(
            Outcome.RETRY, message if str(exc) else "The marketplace did not answer in time"
        )
    import httpx  # loaded by then when the failure is an HTTP one

    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
            return Failure(Outcome.RETRY, message, retry_after)
        if status == 401:
            return Failure(Outcome.PAUSE, message)
        return Failure(Outcome.FAIL, message)
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return Failure(Outcome.RETRY, message)
    # A bug or bad data: retrying the same code on the same data would fail the same way.
    return Failure(Outcome.FAIL, f"{type(exc).__name__}: {message}")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; the server's Retry-After wins."""

    base_seconds: float = 5.0
    factor: float = 2.0
    cap_seconds: float = 900.0
    max_retry_after: float = 86_400.0

    def delay(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds before retry number ``retry_number`` (1 for the first retry)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.cap_seconds, self.base_seconds * self.factor ** max(0, retry_number - 1))
        # Full jitter, but never less than half the base so retries do not pile up at once.
        return max(self.base_seconds / 2, random.uniform(0, ceiling))
