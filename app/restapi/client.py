"""The async REST client both marketplaces build on.

:class:`RestClient` sends a request relative to the API's base URL with the account's
bearer token and the marketplace's own headers, paces requests under the per-second
limit, and turns every failure into :mod:`app.restapi.errors`:

- network errors and timeouts, 5xx: :class:`ApiRetryableError`;
- 429: a short Retry-After is waited out here (all requests of the account hold back)
  and the request sent again, up to :attr:`RATE_LIMIT_RETRIES` times, since a refused
  request changed nothing; a daily quota (as the subclass recognises it) becomes
  :class:`ApiQuotaError` carrying the time until the reset; a long Retry-After goes back
  to the queue as a retryable error;
- 401: the token is renewed once through the :class:`TokenManager` and the request sent
  again; a second 401 or a refused refresh pauses the job (:class:`ApiAuthError`);
- 404: :class:`ApiNotFoundError`; other 4xx: :class:`ApiPermanentError` with the
  marketplace's own message (subclasses parse their error shapes).

The HTTP transport is injectable (``transport=``) so tests may swap it, though the test
suite talks real HTTP to fake servers on loopback.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from app.marketplace.retry import parse_retry_after
from app.restapi.errors import (
    ApiAuthError,
    ApiNotFoundError,
    ApiPermanentError,
    ApiQuotaError,
    ApiRetryableError,
)
from app.restapi.pacing import RequestPacer
from app.restapi.tokens import TokenManager

log = logging.getLogger("marketdesk.rest")

#: Waits up to this long for a 429's Retry-After inside the request; longer ones go back
#: to the queue.
MAX_INLINE_WAIT = 10.0
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class ErrorInfo:
    """What a marketplace said about a failed request."""

    message: str
    code: str | None = None
    fields: tuple[str, ...] = field(default=())


class RestClient(ABC):
    """One marketplace account's API, relative to ``base_url``."""

    marketplace: ClassVar[str] = ""
    #: Display name in messages ("eBay", "Etsy").
    display_name: ClassVar[str] = ""
    RATE_LIMIT_RETRIES: ClassVar[int] = 3

    def __init__(
        self,
        base_url: str,
        *,
        tokens: TokenManager | None,
        requests_per_second: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.pacer = RequestPacer(requests_per_second)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            transport=transport,
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            headers={"Accept": "application/json", "User-Agent": "Marketdesk"},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # -- what subclasses provide ------------------------------------------------------
    def extra_headers(self) -> dict[str, str]:
        """Headers every call carries besides the bearer token (Etsy's x-api-key)."""
        return {}

    @abstractmethod
    def error_info(self, response: httpx.Response) -> ErrorInfo:
        """The marketplace's explanation of a failed response."""

    def quota_reset_in(self, response: httpx.Response, info: ErrorInfo) -> float | None:
        """Seconds until the daily quota resets when ``response`` says it is used up."""
        return None

    def observe(self, response: httpx.Response) -> None:
        """Learn from a response's headers (Etsy's x-limit headers); nothing by default."""
        return

    # -- requests ---------------------------------------------------------------------
    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and return its decoded JSON (None for an empty body)."""
        response = await self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiRetryableError(
                f"{self.display_name} sent an answer that is not JSON "
                f"(HTTP {response.status_code})",
                status=response.status_code,
            ) from exc

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        authenticated: bool = True,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send ``method path`` and return the successful response, or raise an ApiError."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        token = await self._token() if authenticated else None
        renewed = False
        limited = 0
        while True:
            response = await self._send(method, url, token, headers, kwargs)
            if response.is_success:
                return response
            status = response.status_code
            if status == 401 and token is not None and not renewed and self.tokens is not None:
                renewed = True
                token = await self.tokens.rejected(token)
                continue
            if status == 429:
                info = self.error_info(response)
                reset = self.quota_reset_in(response, info)
                if reset is not None:
                    raise ApiQuotaError(
                        f"{self.display_name} daily call limit reached: {info.message}; the job "
                        "waits for the reset",
                        retry_after=reset,
                        status=status,
                        code=info.code,
                    )
                wait = parse_retry_after(response.headers.get("Retry-After"))
                wait = 1.0 if wait is None else wait
                if wait <= MAX_INLINE_WAIT and limited < self.RATE_LIMIT_RETRIES:
                    limited += 1
                    log.info("%s: 429, holding requests for %.1f s", self.display_name, wait)
                    self.pacer.hold(wait)
                    continue
                raise ApiRetryableError(
                    f"{self.display_name} asks to slow down: {info.message}",
                    retry_after=wait,
                    status=status,
                    code=info.code,
                )
            raise self._failure(response)

    async def _token(self) -> str | None:
        return await self.tokens.access_token() if self.tokens is not None else None

    async def _send(
        self,
        method: str,
        url: str,
        token: str | None,
        headers: dict[str, str] | None,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        sent_headers = self.extra_headers()
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token}"
        if headers:
            sent_headers.update(headers)
        await self.pacer.wait()
        try:
            response = await self.http.request(method, url, headers=sent_headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiRetryableError(f"{self.display_name} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ApiRetryableError(
                f"Network error talking to {self.display_name}: {exc or type(exc).__name__}"
            ) from exc
        self.observe(response)
        return response

    def _failure(self, response: httpx.Response) -> Exception:
        status = response.status_code
        info = self.error_info(response)
        message = f"{self.display_name}: {info.message}"
        if status >= 500:
            return ApiRetryableError(
                f"{message} (HTTP {status})",
                status=status,
                code=info.code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status == 401:
            return ApiAuthError(
                f"{message}: reconnect {self.display_name} in Settings",
                status=status,
                code=info.code,
            )
        if status == 404:
            return ApiNotFoundError(message, status=status, code=info.code)
        return ApiPermanentError(message, status=status, code=info.code)


def json_or_none(response: httpx.Response) -> Any:
    """The response's JSON body, or None when it has none or it does not parse."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
