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
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError

from app.db import Database
from app.inventory.sales import SalesOutcome, finish_sales, record_sales
from app.inventory.voids import VoidOutcome, finish_voids, void_sales
from app.marketplace import steps
from app.marketplace.errors import (
    AuthRequiredError,
    InvalidJobRequestError,
    PermanentJobError,
    PluginUnavailableError,
    RetryableJobError,
)
from app.marketplace.fields import PRICE_KEY, FieldError, parse_price
from app.marketplace.listings import (
    LIVE_STATES,
    RemoteListing,
    SyncCounts,
    link_listing,
    listing_for,
    reconcile,
    save_listing,
    set_listing_state,
)
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.names import MARKETPLACE_NAMES
from app.marketplace.orders import OrderCounts, OrderLine, save_order_lines, set_orders_cursor
from app.marketplace.retry import parse_retry_after
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.product import Product

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("marketdesk.handlers")
T = TypeVar("T")


class PluginTransport(Protocol):
    """What a handler needs of the browser plugin bridge."""

    async def call(
        self, action_name: str, payload: dict[str, Any], timeout: float, pace_ms: int = 0
    ) -> dict[str, Any]:
        """Run ``action_name`` in the plugin (its requests ``pace_ms`` apart); its answer."""
        ...


class AccountProvider(Protocol):
    """What a handler needs of the seller's marketplace accounts (app.accounts)."""

    async def client(self, marketplace: str) -> Any:
        """The API client of the account on ``marketplace``."""
        ...

    async def settings(self, marketplace: str) -> Any:
        """The account's settings (with ``defaults``), or None."""
        ...


@dataclass
class HandlerContext:
    """What the processor hands a handler besides the job: seller, plugin, HTTP, accounts."""

    user_id: int = 1
    plugin: PluginTransport | None = None
    http: httpx.AsyncClient | None = None
    timeout_seconds: float = 60.0
    #: The action type's rate_limit_ms: how far apart the plugin spaces its requests.
    rate_limit_ms: int = 0
    accounts: AccountProvider | None = None
    #: Where relative photo paths of products are resolved.
    photos_dir: Path | None = None


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
        self._account_settings: Any = None

    @abstractmethod
    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        """Do the job; return a dict with ``"success"`` and what the window should show."""

    # -- database helpers -------------------------------------------------------------
    def require_product_id(self, product_id: int | None) -> int:
        """The job's product id, or a permanent failure when the job has none."""
        if product_id is None:
            raise PermanentJobError(f"{self.action_code} needs a product and the job has none")
        return product_id

    async def account_settings(self) -> Any:
        """This marketplace's account settings (read once per job), or None."""
        if self._account_settings is None:
            accounts = self.context.accounts
            if accounts is not None:
                self._account_settings = await accounts.settings(self.marketplace)
        return self._account_settings

    async def account_defaults(self) -> dict[str, Any]:
        """The seller's default field values for this marketplace."""
        settings = await self.account_settings()
        return dict(settings.defaults) if settings is not None else {}

    async def load_product(self, product_id: int | None) -> Product:
        """The job's catalog product, or a permanent failure when it is gone."""
        product_id = self.require_product_id(product_id)

        def load() -> Product | None:
            with self.db.session(self.context.user_id, readonly=True) as session:
                return session.get(Product, product_id)

        product = await self.db.run(load)
        if product is None:
            raise PermanentJobError(f"Product {product_id} no longer exists in the catalog")
        return product

    def listing_price(self, job: MarketplaceJob, product: Product) -> Decimal:
        """The price to list ``product`` at: the job's ``price`` input (a cross-listing
        price rule's result), else the catalog price; a bad override names ``price``."""
        raw = (job.input_data or {}).get(PRICE_KEY)
        if raw is None or raw == "":
            return Decimal(product.price)
        try:
            return parse_price(raw)
        except ValueError as exc:
            name = MARKETPLACE_NAMES.get(self.marketplace, self.marketplace)
            raise FieldError(name, {PRICE_KEY: f"Price {exc}"}) from None

    # -- listings and orders (shared by every marketplace) ----------------------------
    async def in_session(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one short write transaction off the event loop."""

        def work() -> T:
            with self.db.session(self.context.user_id) as session, session.begin():
                return fn(session, *args)

        return await self.db.run(work)

    async def product_listing(self, product_id: int) -> MarketplaceListing | None:
        """The product's listing on this handler's marketplace (a detached copy)."""
        return await self.in_session(listing_for, product_id, self.marketplace)

    async def save_listing(self, product_id: int, remote: RemoteListing) -> MarketplaceListing:
        """Record the product's listing on this marketplace (after publish or update)."""
        return await self.in_session(save_listing, product_id, self.marketplace, remote)

    async def link_listing(self, product_id: int, remote: RemoteListing) -> MarketplaceListing:
        """Link the product to an existing listing on this marketplace."""
        return await self.in_session(link_listing, product_id, self.marketplace, remote)

    async def refuse_if_live(self, product_id: int, noun: str = "listing") -> None:
        """A permanent failure when the product is already (still) listed here."""
        existing = await self.product_listing(product_id)
        if existing is not None and existing.listing_id and existing.state in LIVE_STATES:
            raise PermanentJobError(
                f"Product {product_id} is already on {MARKETPLACE_NAMES[self.marketplace]} as "
                f"{noun} {existing.listing_id}: update it instead"
            )

    async def mark_listing(self, product_id: int, state: str) -> None:
        """Set the state of the product's listing on this marketplace."""
        await self.in_session(set_listing_state, product_id, self.marketplace, state)

    async def reconcile_listings(
        self, remotes: list[RemoteListing], *, complete: bool = True
    ) -> SyncCounts:
        """Bring the listings a sync read into the product-to-listing links; ``complete``
        (every listing was read) lets listings no longer reported be marked ended."""
        return await self.in_session(reconcile, self.marketplace, remotes, complete)

    async def orders_cursor(self) -> str | None:
        """Where the last order sync of this marketplace stopped (None before the first)."""
        settings = await self.account_settings()
        return settings.orders_cursor if settings is not None else None

    async def finish_order_sync(
        self, lines: list[OrderLine], orders: int, cursor: str
    ) -> dict[str, Any]:
        """Store the lines and the new cursor in one transaction; the job's result."""
        marketplace = self.marketplace
        service = MarketplaceJobService(self.db, self.context.user_id)

        def record(session: Any) -> tuple[OrderCounts, VoidOutcome, SalesOutcome]:
            counts = save_order_lines(session, marketplace, lines)
            # cancelled or refunded sales first: the stock they give back is there for
            # the new sales of the same sync
            voids = void_sales(session, marketplace, counts.void_lines, service.user_id)
            sales = record_sales(
                session, marketplace, counts.new_lines, service, counts.linked_lines
            )
            set_orders_cursor(session, marketplace, cursor)
            return counts, voids, sales

        try:
            counts, voids, sales = await self.in_session(record)
        except (OperationalError, IntegrityError) as exc:
            # another sync of the same orders, or a lock conflict: nothing was stored
            raise RetryableJobError(
                f"The order sync met a concurrent change and will run again ({exc.orig})"
            ) from exc
        for finish, outcome in ((finish_voids, voids), (finish_sales, sales)):
            try:
                await self.db.run(finish, outcome, service)
            except Exception:  # the sync is committed: its follow-ups are not worth failing it
                log.exception("after the order sync of %s", marketplace)
        return {
            "success": True,
            "orders": orders,
            "new_lines": counts.new,
            "updated_lines": counts.updated,
            "cursor": cursor,
            **sales.as_result(),
            **voids.as_result(),
        }

    # -- resumable steps --------------------------------------------------------------
    async def step(
        self,
        name: str,
        action: Callable[[], Awaitable[dict[str, Any]]],
        *,
        recover: Callable[[], Awaitable[dict[str, Any] | None]] | None = None,
    ) -> dict[str, Any]:
        """Run step ``name`` once per job: a retry gets the recorded result back.

        The result of a finished step is committed before the next step starts, so a
        retry after a crash or an error resumes at the step that failed (and never, say,
        creates a second listing). A step that was started before but never recorded as
        done may have taken effect all the same (the answer was lost, the program
        crashed); ``recover`` then looks for that effect first (the draft the lost answer
        would have named) and its result, when not None, stands for the step's.
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
        attempt: int = await self.db.run(self._in_tx, user, steps.start_step, job_id, name)
        try:
            found = await recover() if recover is not None and attempt > 1 else None
            if found is not None:
                log.info("job %s: step %s had taken effect before, reusing it", job_id, name)
            result = found if found is not None else await action()
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
        return await plugin.call(
            action_name,
            payload,
            timeout or self.context.timeout_seconds,
            self.context.rate_limit_ms,
        )

    async def call_http(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send an HTTP request; non-2xx answers become classified job errors."""
        import httpx

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
    """Base of eBay and Etsy handlers: a REST API reached with the seller's OAuth account.

    The account's client comes from ``context.accounts`` (the
    :class:`app.accounts.AccountManager`); subclasses narrow :meth:`api_client` to their
    marketplace's client type. Client errors already belong to the job system's tree.
    """

    async def api_client(self) -> Any:
        """The API client of this marketplace's account."""
        accounts = self.context.accounts
        if accounts is None:
            raise AuthRequiredError(
                f"{self.marketplace} jobs need a connected account: connect it in Settings"
            )
        return await accounts.client(self.marketplace)
