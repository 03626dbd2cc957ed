"""Exception tree of the job system.

Handlers raise :class:`RetryableJobError` (network trouble, timeouts, 5xx, 429),
:class:`PermanentJobError` (validation, other 4xx) or :class:`AuthRequiredError` (the
seller must reconnect; the job is paused instead of burning its retries). Anything else a
handler raises is classified by :mod:`app.marketplace.retry`.
"""

from __future__ import annotations


class MarketplaceError(Exception):
    """Base of every error of the job system."""


class InvalidJobRequestError(MarketplaceError, ValueError):
    """A job cannot be created as asked (unknown marketplace, action or product)."""


class JobNotFoundError(MarketplaceError, LookupError):
    """No job has the given id."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"Job {job_id} does not exist")
        self.job_id = job_id


class JobStateError(MarketplaceError):
    """The job is not in a status that allows the requested change."""


class JobExecutionError(MarketplaceError):
    """A handler could not finish its job."""


class RetryableJobError(JobExecutionError):
    """A temporary failure: the job is retried after a backoff or the server's Retry-After.

    ``consumes_retry=False`` parks the job without spending one of its retries (a daily
    quota that resets at a known time, for example).
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, consumes_retry: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.consumes_retry = consumes_retry


class PluginUnavailableError(RetryableJobError):
    """The browser plugin is not connected; the job waits without spending a retry."""


class PermanentJobError(JobExecutionError):
    """A failure that retrying cannot fix (bad data, rejected request)."""


class UnknownActionError(PermanentJobError, ValueError):
    """No handler is registered for the job's ``{action}_{marketplace}`` key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Unknown action: {key}")
        self.key = key


class AuthRequiredError(JobExecutionError):
    """The marketplace account must be (re)connected; the job is paused until then."""
