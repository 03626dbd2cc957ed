"""Exception tree of the marketplace REST clients.

Each class is also one of the job system's errors (:mod:`app.marketplace.errors`), so a
handler lets them through and the processor does the right thing: retry later
(:class:`ApiRetryableError`), park without spending a retry until a quota resets
(:class:`ApiQuotaError`), pause the job until the seller reconnects
(:class:`ApiAuthError`), or fail with the marketplace's own words
(:class:`ApiPermanentError`).
"""

from __future__ import annotations

from typing import Any

from app.marketplace.errors import (
    AuthRequiredError,
    MarketplaceError,
    PermanentJobError,
    RetryableJobError,
)


class ApiError(MarketplaceError):
    """A marketplace API call failed; ``status`` and ``code`` say how, when known."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.status = status
        self.code = code


class ApiRetryableError(ApiError, RetryableJobError):
    """Network trouble, a timeout, a 5xx or a 429: worth trying again later."""


class ApiQuotaError(ApiRetryableError):
    """The daily call quota is used up: the job waits for the reset, keeping its retries."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, retry_after=retry_after, consumes_retry=False, **kwargs)


class ApiAuthError(ApiError, AuthRequiredError):
    """The account is not connected or its tokens were revoked: the seller must reconnect."""


class ApiPermanentError(ApiError, PermanentJobError):
    """The marketplace refused the request (validation, permissions); retrying won't help."""


class ApiNotFoundError(ApiPermanentError):
    """The marketplace does not know the resource (HTTP 404)."""


class OAuthError(ApiError):
    """A connect flow could not finish (refused consent, wrong paste, state mismatch)."""


class InvalidGrantError(OAuthError):
    """The token endpoint refused the code or refresh token (revoked, expired, reused)."""
