"""Etsy's Open API v3, as Marketdesk uses it.

Every call carries ``x-api-key: <keystring>:<shared secret>`` and the bearer token.
Errors come in three shapes, all understood: ``{"error": "..."}``,
``{"error", "error_description"}`` (OAuth) and validation arrays
``[{"path", "type", "message"}]``. The ``x-limit-per-second`` header sets the pacing; a
429 with ``x-remaining-today: 0`` is the daily quota (the job waits an hour and looks
again, keeping its retries).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from app.restapi.client import ErrorInfo, RestClient, json_or_none

PAGE_SIZE = 100
QUOTA_RECHECK_SECONDS = 3600.0


class EtsyClient(RestClient):
    """The seller's Etsy shop."""

    marketplace = "etsy"
    display_name = "Etsy"

    def __init__(self, *args: Any, api_key: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_key = api_key
        self.remaining_today: int | None = None

    def extra_headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}

    def error_info(self, response: httpx.Response) -> ErrorInfo:
        body = json_or_none(response)
        if isinstance(body, list):
            parts, fields = [], []
            for item in body:
                if not isinstance(item, dict):
                    continue
                path = str(item.get("path", "")).strip("/")
                message = str(item.get("message") or item.get("type") or "invalid")
                fields.append(path)
                parts.append(f"{path}: {message}" if path and path not in message else message)
            return ErrorInfo("; ".join(parts) or "invalid request", "validation", tuple(fields))
        if isinstance(body, dict) and "error" in body:
            error = str(body["error"])
            description = body.get("error_description")
            return ErrorInfo(f"{error}: {description}" if description else error, error)
        return ErrorInfo(f"HTTP {response.status_code} {response.reason_phrase}".strip())

    def observe(self, response: httpx.Response) -> None:
        headers = response.headers
        per_second = headers.get("x-limit-per-second")
        if per_second:
            try:
                limit = float(per_second)
            except ValueError:
                limit = 0.0
            if limit > 0:
                self.pacer.set_rate(limit)
        remaining = headers.get("x-remaining-today")
        if remaining and remaining.isdigit():
            self.remaining_today = int(remaining)

    def quota_reset_in(self, response: httpx.Response, info: ErrorInfo) -> float | None:
        if response.headers.get("x-remaining-today") == "0":
            return QUOTA_RECHECK_SECONDS
        return None

    # -- account ----------------------------------------------------------------------
    async def me(self) -> dict[str, Any]:
        """The connected user (``user_id``, ``shop_id``)."""
        return dict(await self.call("GET", "/users/me") or {})

    async def shop(self, shop_id: str) -> dict[str, Any]:
        """The shop (``shop_name``, ``currency_code``...)."""
        return dict(await self.call("GET", f"/shops/{shop_id}") or {})

    # -- listings ---------------------------------------------------------------------
    async def create_draft_listing(self, shop_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """createDraftListing; returns the listing."""
        return dict(await self.call("POST", f"/shops/{shop_id}/listings", data=fields) or {})

    async def upload_image(
        self, shop_id: str, listing_id: str, filename: str, content: bytes, rank: int
    ) -> dict[str, Any]:
        """uploadListingImage (multipart)."""
        return dict(
            await self.call(
                "POST",
                f"/shops/{shop_id}/listings/{listing_id}/images",
                files={"image": (filename, content, "application/octet-stream")},
                data={"rank": str(rank)},
            )
            or {}
        )

    async def update_listing(
        self, shop_id: str, listing_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """updateListing (PATCH): title, description, state..."""
        return dict(
            await self.call("PATCH", f"/shops/{shop_id}/listings/{listing_id}", data=fields) or {}
        )

    async def update_inventory(
        self, listing_id: str, products: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """updateListingInventory: SKUs, prices and quantities."""
        return dict(
            await self.call("PUT", f"/listings/{listing_id}/inventory", json={"products": products})
            or {}
        )

    async def delete_listing(self, listing_id: str) -> None:
        """deleteListing."""
        await self.request("DELETE", f"/listings/{listing_id}")

    async def shop_listings(self, shop_id: str, state: str) -> AsyncIterator[dict[str, Any]]:
        """The shop's listings in ``state``, page by page."""
        async for item in self._pages(f"/shops/{shop_id}/listings", {"state": state}):
            yield item

    async def receipts_since(self, shop_id: str, epoch: int) -> AsyncIterator[dict[str, Any]]:
        """Receipts modified at or after ``epoch`` (seconds), page by page."""
        async for item in self._pages(f"/shops/{shop_id}/receipts", {"min_last_modified": epoch}):
            yield item

    async def _pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        offset = 0
        while True:
            body = await self.call(
                "GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset}
            )
            results = (body or {}).get("results") or []
            for item in results:
                yield item
            offset += len(results)
            if not results or offset >= int((body or {}).get("count") or 0):
                return
