"""Base classes of job handlers: the plugin and HTTP hooks, and resumable steps.

A handler is built per job as ``handler_class(db=..., shop_id=..., job_id=...)`` and
``await handler.execute(job)`` returns a dict with at least ``"success"``. Failures are
raised as the exceptions of :mod:`app.marketplace.errors`; the processor turns them into
retries, pauses or failures. Handlers never hold a database transaction across a call:
every database access is its own short transaction through ``Database.run``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import httpx

from app.db import Database
from app.marketplace import steps
from app.marketplace.errors import (
    AuthRequiredError,
    InvalidJobRequestError,
    PermanentJobError,
    RetryableJobError,
)
from app.marketplace.retry import parse_retry_after
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.product import Product

log = logging.getLogger("marketdesk.handlers")


class PluginTransport(Protocol):
    """What a handler needs of the browser plugin bridge."""

    async def call(
        self, action_name: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Run ``action_name`` in the plugin and return its answer."""
        ...


class PluginUnavailableError(RetryableJobError):
    """The browser plugin is not connected; the job waits without spending a retry."""


@dataclass
class HandlerContext:
    """What the processor hands a handler besides the job: seller, plugin, HTTP client."""

    user_id: int = 1
    plugin: PluginTransport | None = None
    http: httpx.AsyncClient | None = None
    timeout_seconds: float = 60.0


class BaseJobHandler(ABC):
    """One marketplace action. Subclasses implement :meth:`execute`."""

    marketplace: ClassVar[str] = ""
    action_code: ClassVar[str] = ""

    def __init__(
        self,
        db: Database,
        shop_id: int | None = None,
        job_id: int | None = None,
        *,
        context: HandlerContext | None = None,
    ) -> None:
        self.db = db
        self.shop_id = shop_id
        self.job_id = job_id
        self.context = context or HandlerContext()
        self._done_steps: dict[str, dict[str, Any]] | None = None

    @abstractmethod
    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        """Do the job; return a dict with ``"success"`` and what the window should show."""

    # -- database helpers -------------------------------------------------------------
    async def load_product(self, product_id: int | None) -> Product:
        """The job's catalog product, or a permanent failure when it is gone."""
        if product_id is None:
            raise PermanentJobError(f"{self.action_code} needs a product and the job has none")

        def load() -> Product | None:
            with self.db.session(self.context.user_id, readonly=True) as session:
                return session.get(Product, product_id)

        product = await self.db.run(load)
        if product is None:
            raise PermanentJobError(f"Product {product_id} no longer exists in the catalog")
        return product

    # -- resumable steps --------------------------------------------------------------
    async def step(
        self, name: str, action: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """Run step ``name`` once per job: a retry gets the recorded result back.

        The result of a finished step is committed before the next step starts, so a
        retry after a crash or an error resumes at the step that failed (and never, say,
        creates a second listing).
        """
        if self.job_id is None:
            raise InvalidJobRequestError("steps need a job id")
        job_id = self.job_id
        user = self.context.user_id
        if self._done_steps is None:
            loaded: dict[str, dict[str, Any]] = await self.db.run(
                self._in_tx, user, steps.completed_steps, job_id
            )
            self._done_steps = loaded
        done = self._done_steps
        if name in done:
            log.info("job %s: step %s already done, reusing its result", job_id, name)
            return done[name]
        await self.db.run(self._in_tx, user, steps.start_step, job_id, name)
        try:
            result = await action()
        except BaseException as exc:
            await self.db.run(
                self._in_tx,
                user,
                steps.finish_step,
                job_id,
                name,
                None,
                str(exc) or type(exc).__name__,
            )
            raise
        await self.db.run(self._in_tx, user, steps.finish_step, job_id, name, result, None)
        done[name] = result
        return result

    def _in_tx(self, user_id: int, fn: Callable[..., Any], *args: Any) -> Any:
        with self.db.bind(user_id).begin() as conn:
            return fn(conn, *args)

    # -- transports -------------------------------------------------------------------
    async def call_plugin(
        self, action_name: str, payload: dict[str, Any], timeout: float | None = None
    ) -> dict[str, Any]:
        """Ask the browser plugin to perform ``action_name`` (Vinted jobs)."""
        plugin = self.context.plugin
        if plugin is None:
            raise PluginUnavailableError(
                "The Marketdesk browser plugin is not connected: open Vinted in your browser "
                "with the plugin enabled",
                retry_after=30.0,
                consumes_retry=False,
            )
        return await plugin.call(action_name, payload, timeout or self.context.timeout_seconds)

    async def call_http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send an HTTP request; non-2xx answers become classified job errors."""
        client = self.context.http
        try:
            if client is None:
                async with httpx.AsyncClient(timeout=self.context.timeout_seconds) as own:
                    response = await own.request(method, url, **kwargs)
            else:
                response = await client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise RetryableJobError(
                f"{self.marketplace or 'The marketplace'} did not answer in time"
            ) from exc
        except httpx.TransportError as exc:
            raise RetryableJobError(
                f"Network error talking to {httpx.URL(url).host}: {exc}"
            ) from exc
        if response.is_success:
            return response
        message = self.error_message(response)
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryableJobError(
                message, retry_after=parse_retry_after(response.headers.get("Retry-After"))
            )
        if status == 401:
            raise AuthRequiredError(message)
        raise PermanentJobError(message)

    def error_message(self, response: httpx.Response) -> str:
        """Words for a failed HTTP answer; marketplaces override to read their error shape."""
        return f"HTTP {response.status_code} from {response.request.url.host}"


class DirectAPIJobHandler(BaseJobHandler):
    """Base of eBay and Etsy handlers: a REST API reached over HTTPS with OAuth 2.0.

    Subclasses give ``base_url`` and :meth:`auth_headers`; :meth:`api` sends a request
    relative to the base URL and returns the decoded JSON body (None when empty).
    """

    base_url: ClassVar[str] = ""

    @abstractmethod
    async def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a call (bearer token, API key); may refresh tokens."""

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``base_url + path`` with authentication and return its JSON."""
        headers = {**(await self.auth_headers()), **kwargs.pop("headers", {})}
        response = await self.call_http(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise PermanentJobError(
                f"{self.marketplace} sent an answer that is not JSON ({response.status_code})"
            ) from exc
