"""eBay's Sell APIs (Inventory, Fulfillment) and the Identity API, as Marketdesk uses them.

Errors arrive as ``{"errors": [{"errorId", "domain", "category", "message",
"longMessage", "parameters"}]}``. A 429 with errorId 2001 and no Retry-After is the daily
quota: the job is parked until eBay's day starts again (midnight, US Pacific time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from app.restapi.client import ErrorInfo, RestClient, json_or_none

INVENTORY = "/sell/inventory/v1"
FULFILLMENT = "/sell/fulfillment/v1"
QUOTA_ERROR_ID = 2001
PAGE_SIZE = 100


def _pacific() -> timezone | ZoneInfo:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no time zone database: standard time is close enough
        return timezone(timedelta(hours=-8))


def seconds_until_quota_reset(now: datetime | None = None) -> float:
    """Seconds until the next midnight in US Pacific time, when eBay's daily limits reset."""
    zone = _pacific()
    local = (now or datetime.now(UTC)).astimezone(zone)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(60.0, (midnight - local).total_seconds())


class EbayClient(RestClient):
    """The seller's eBay account."""

    marketplace = "ebay"
    display_name = "eBay"

    def __init__(self, *args: Any, identity_base: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identity_base = (identity_base or self.base_url).rstrip("/")

    def error_info(self, response: httpx.Response) -> ErrorInfo:
        body = json_or_none(response)
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not errors:
            return ErrorInfo(f"HTTP {response.status_code} {response.reason_phrase}".strip())
        first = errors[0] if isinstance(errors[0], dict) else {}
        messages = []
        fields: list[str] = []
        for error in errors:
            if not isinstance(error, dict):
                continue
            text = str(error.get("longMessage") or error.get("message") or "").strip()
            if text and text not in messages:
                messages.append(text)
            for parameter in error.get("parameters") or ():
                if isinstance(parameter, dict) and parameter.get("name") == "field":
                    fields.append(str(parameter.get("value")))
        code = first.get("errorId")
        return ErrorInfo(
            "; ".join(messages) or f"HTTP {response.status_code}",
            code=str(code) if code is not None else None,
            fields=tuple(fields),
        )

    def quota_reset_in(self, response: httpx.Response, info: ErrorInfo) -> float | None:
        if info.code == str(QUOTA_ERROR_ID) and "Retry-After" not in response.headers:
            return seconds_until_quota_reset()
        return None

    # -- identity ---------------------------------------------------------------------
    async def user(self) -> dict[str, Any]:
        """The connected seller (``userId``, ``username``)."""
        body = await self.call("GET", f"{self.identity_base}/commerce/identity/v1/user/")
        return body if isinstance(body, dict) else {}

    # -- inventory items --------------------------------------------------------------
    async def put_inventory_item(self, sku: str, item: dict[str, Any], language: str) -> None:
        """Create or fully replace the inventory item ``sku``."""
        await self.request(
            "PUT",
            f"{INVENTORY}/inventory_item/{quote(sku, safe='')}",
            json=item,
            headers={"Content-Language": language},
        )

    async def delete_inventory_item(self, sku: str) -> None:
        """Delete ``sku`` with its offers and listings."""
        await self.request("DELETE", f"{INVENTORY}/inventory_item/{quote(sku, safe='')}")

    async def inventory_items(self) -> AsyncIterator[dict[str, Any]]:
        """Every inventory item of the seller, page by page."""
        async for item in self._pages(f"{INVENTORY}/inventory_item", {}, "inventoryItems"):
            yield item

    async def _pages(
        self, path: str, params: dict[str, Any], key: str
    ) -> AsyncIterator[dict[str, Any]]:
        """The ``key`` entries of every page of a paginated GET (eBay's ``next`` link)."""
        offset = 0
        while True:
            body = await self.call(
                "GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset}
            )
            entries = (body or {}).get(key) or []
            for entry in entries:
                yield entry
            if not entries or not (body or {}).get("next"):
                return
            offset += len(entries)

    # -- offers -----------------------------------------------------------------------
    async def create_offer(self, offer: dict[str, Any], language: str) -> str:
        """Create an offer; returns its offerId."""
        body = await self.call(
            "POST", f"{INVENTORY}/offer", json=offer, headers={"Content-Language": language}
        )
        return str(body["offerId"])

    async def update_offer(self, offer_id: str, offer: dict[str, Any], language: str) -> None:
        """Fully replace offer ``offer_id``."""
        await self.request(
            "PUT",
            f"{INVENTORY}/offer/{quote(offer_id, safe='')}",
            json=offer,
            headers={"Content-Language": language},
        )

    async def offers(self, sku: str, marketplace_id: str | None = None) -> list[dict[str, Any]]:
        """The offers of ``sku`` (on one marketplace when given)."""
        params: dict[str, Any] = {"sku": sku, "limit": PAGE_SIZE}
        if marketplace_id:
            params["marketplace_id"] = marketplace_id
        body = await self.call("GET", f"{INVENTORY}/offer", params=params)
        return list((body or {}).get("offers") or [])

    async def publish_offer(self, offer_id: str) -> str:
        """Publish an offer as a listing; returns the listingId."""
        body = await self.call("POST", f"{INVENTORY}/offer/{quote(offer_id, safe='')}/publish")
        return str(body["listingId"])

    async def withdraw_offer(self, offer_id: str) -> None:
        """End the listing of an offer (the offer stays, unpublished)."""
        await self.request("POST", f"{INVENTORY}/offer/{quote(offer_id, safe='')}/withdraw")

    async def set_quantity(self, sku: str, offer_id: str, quantity: int) -> None:
        """Set the quantity of ``sku`` and of its live offer ``offer_id``, nothing else
        (``bulkUpdatePriceQuantity``: both levels, as eBay asks). eBay answers each item
        in the body; a refused one raises like a refused request."""
        body = await self.call(
            "POST",
            f"{INVENTORY}/bulk_update_price_quantity",
            json={
                "requests": [
                    {
                        "sku": sku,
                        "shipToLocationAvailability": {"quantity": quantity},
                        "offers": [{"offerId": offer_id, "availableQuantity": quantity}],
                    }
                ]
            },
        )
        for answer in (body or {}).get("responses") or []:
            status = int(answer.get("statusCode") or 200)
            if status >= 400:
                raise self.item_failure(status, answer.get("errors") or [])

    def item_failure(self, status: int, errors: list[Any]) -> Exception:
        """The error of one item of a bulk call, as :meth:`RestClient.request` raises it."""
        reply = httpx.Response(status, json={"errors": errors})
        return self._failure(reply)

    # -- orders -----------------------------------------------------------------------
    async def orders_modified_since(self, since: datetime) -> AsyncIterator[dict[str, Any]]:
        """Orders changed at or after ``since``, oldest change first, page by page."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{since.microsecond // 1000:03d}Z"
        )
        params = {"filter": f"lastmodifieddate:[{stamp}..]"}
        async for order in self._pages(f"{FULFILLMENT}/order", params, "orders"):
            yield order
