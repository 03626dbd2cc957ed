"""Base of the Vinted handlers: plugin calls with their errors turned into job outcomes.

Vinted jobs run in the seller's browser through the plugin bridge. :meth:`VintedJobHandler.
vinted` makes one plugin call and maps the plugin's error codes (docs/bridge-protocol.md)
onto the job system: a logged-out browser pauses the job until the seller logs in, a 429
or a challenge page parks it for the plugin's back-off without spending a retry, Vinted's
refusals fail it with Vinted's own words, and trouble on the way is retried.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from app.bridge.errors import PluginCallError
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.errors import AuthRequiredError, PermanentJobError, RetryableJobError
from app.marketplace.fields import FieldError, product_problems, resolve_fields
from app.marketplace.listings import LIVE_STATES, RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.product import Product
from app.vinted.fields import VINTED_FIELDS, product_defaults
from app.vinted.jobs.items import photo_payload

log = logging.getLogger("marketdesk.vinted")

TITLE_LIMIT = 100
#: The plugin's back-off after a 429 when Vinted gave no Retry-After (seconds).
RATE_LIMIT_BACKOFF = 900.0
CHALLENGE_BACKOFF = 1800.0
#: Vinted item states as the plugin reports them -> listing states.
STATES = {
    "active": ListingState.ACTIVE,
    "reserved": ListingState.ACTIVE,
    "hidden": ListingState.INACTIVE,
    "draft": ListingState.DRAFT,
    "sold": ListingState.SOLD_OUT,
}
#: Items per wardrobe page (Vinted's largest page).
WARDROBE_PAGE = 96
_ITEM_URL = re.compile(r"/items/(\d+)")


@dataclass
class Paged:
    """What a paged read gave: the entries, and whether every page was read."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    #: True only when the plugin reported the page count and the last page was read.
    complete: bool = False


class VintedItemNotFoundError(PermanentJobError):
    """The Vinted item (or conversation) does not exist (any more)."""


class VintedRejectedError(FieldError):
    """Vinted refused the data; ``problems`` maps Vinted's field names to its words."""


def job_error(exc: PluginCallError) -> Exception:
    """The job error for a plugin's error answer."""
    code, message = exc.code, exc.message
    if code == "not_logged_in":
        return AuthRequiredError(
            "Vinted: you are logged out in the browser where the Marketdesk plugin runs; "
            "log in to Vinted there and the job goes on"
        )
    if code == "rate_limited":
        return RetryableJobError(
            f"Vinted asks to slow down ({message})",
            retry_after=exc.retry_after or RATE_LIMIT_BACKOFF,
            consumes_retry=False,
        )
    if code == "challenge":
        return RetryableJobError(
            "Vinted showed a security check in the browser; Marketdesk waits before trying "
            "again (open Vinted in the browser and solve it if it persists)",
            retry_after=max(exc.retry_after or 0.0, CHALLENGE_BACKOFF),
            consumes_retry=False,
        )
    if code == "not_found":
        return VintedItemNotFoundError(f"Vinted: {message}")
    if code == "rejected":
        problems = {str(k): str(v) for k, v in exc.fields.items()} or {"vinted": message}
        return VintedRejectedError("Vinted", problems)
    if code in ("server_error", "network", "no_tab", "timeout"):
        return RetryableJobError(f"Vinted: {message}", retry_after=exc.retry_after)
    return PermanentJobError(f"Vinted plugin: {message} ({code})")


def price_of(value: Any) -> Decimal | None:
    """A decimal price from the plugin's string, or None."""
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def remote_listing(item: dict[str, Any]) -> RemoteListing:
    """A Vinted item (the plugin's ``Item``) as a listing."""
    return RemoteListing(
        listing_id=str(item["id"]),
        url=item.get("url"),
        state=STATES.get(str(item.get("state")), ListingState.INACTIVE),
        title=item.get("title"),
        price=price_of(item.get("price")),
        currency=item.get("currency"),
        quantity=0 if item.get("state") == "sold" else 1,
        data={k: item.get(k) for k in ("brand", "size", "photo_urls", "photo_ids") if item.get(k)},
    )


def check_product(product: Product) -> None:
    """Refuse a product Vinted would refuse, naming the field."""
    problems = product_problems(product, "Vinted", title_limit=TITLE_LIMIT, publishing=True)
    if len(product.title.strip()) < 5:
        problems["title"] = "Vinted titles need at least 5 characters"
    if problems:
        raise FieldError("Vinted", problems)


def item_id_from(value: Any) -> str:
    """A Vinted item id from a number or an item address (``.../items/123-title``)."""
    text = str(value or "").strip()
    if text.isdigit():
        return text
    found = _ITEM_URL.search(text)
    if found is None:
        raise FieldError("Vinted", {"item_id": f"not a Vinted item number or address: {text!r}"})
    return found.group(1)


class VintedJobHandler(BaseJobHandler):
    """Base of the Vinted handlers."""

    marketplace: ClassVar[str] = "vinted"

    async def vinted(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One plugin call; plugin errors become job errors."""
        try:
            return await self.call_plugin(action, payload)
        except PluginCallError as exc:
            log.info("job %s: plugin %s answered %s: %s", self.job_id, action, exc.code, exc)
            raise job_error(exc) from exc

    async def fields(self, job: MarketplaceJob, product: Product) -> dict[str, Any]:
        """The job's Vinted fields: job input, else seller defaults, else the product's."""
        defaults = {**product_defaults(product), **await self.account_defaults()}
        return resolve_fields("Vinted", VINTED_FIELDS, job.input_data, defaults)

    async def listed(self, product_id: int, *, live: bool = False) -> MarketplaceListing:
        """The product's Vinted listing (``live``: still for sale), or a permanent failure."""
        listing = await self.product_listing(product_id)
        if listing is None or not listing.listing_id:
            raise PermanentJobError(
                f"Product {product_id} is not on Vinted: publish it or link it to an item first"
            )
        if live and listing.state not in LIVE_STATES:
            raise PermanentJobError(
                f"Product {product_id}'s Vinted item {listing.listing_id} is {listing.state}: "
                "publish it again instead"
            )
        return listing

    async def pages(
        self,
        action: str,
        key: str,
        per_page: int,
        stop: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> Paged:
        """The entries of a paged plugin action (wardrobe, sold orders), page by page
        until the last page, an empty page, or ``stop(page_entries)`` says enough."""
        paged = Paged()
        page = 1
        while True:
            data = await self.vinted(action, {"page": page, "per_page": per_page})
            found = data.get(key)
            if not isinstance(found, list):
                raise PermanentJobError(f"Vinted plugin: {action} answered without {key}")
            entries = [entry for entry in found if isinstance(entry, dict)]
            paged.entries.extend(entries)
            total = data.get("total_pages")
            if not isinstance(total, int) or isinstance(total, bool):
                return paged  # no page count: read what there is, claim nothing more
            if page >= total:
                paged.complete = True
                return paged
            if not entries or (stop is not None and stop(entries)):
                return paged
            page += 1

    async def upload_photos(self, photos: list[Path]) -> list[str]:
        """Upload the product's photos, one recorded step each; their Vinted ids."""
        photo_ids: list[str] = []
        for rank, path in enumerate(photos, start=1):

            async def upload(path: Path = path) -> dict[str, Any]:
                payload = await asyncio.to_thread(photo_payload, path)
                return await self.vinted("upload_photo", payload)

            photo_ids.append(str((await self.step(f"photo_{rank}", upload))["photo_id"]))
        return photo_ids
