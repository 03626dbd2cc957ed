"""delete_ebay: end the listing (withdraw the offer) and delete the inventory item.

Both calls treat "not found" as done, so a retry, or a listing already ended on eBay,
finishes cleanly.
"""

from __future__ import annotations

import contextlib
from typing import Any

from app.ebay.jobs.base import EbayJobHandler
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState
from app.restapi.errors import ApiNotFoundError


class DeleteEbayHandler(EbayJobHandler):
    """Take a product off eBay."""

    action_code = "delete"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product_id = self.require_product_id(job.product_id)
        listing = await self.product_listing(product_id)
        if listing is None or listing.state == ListingState.DELETED or not listing.sku:
            return {"success": True, "deleted": False, "reason": "not listed on eBay"}
        client = await self.ebay()
        withdrawn = False
        if listing.offer_id:
            try:
                await client.withdraw_offer(listing.offer_id)
                withdrawn = True
            except ApiNotFoundError:
                pass
        with contextlib.suppress(ApiNotFoundError):
            await client.delete_inventory_item(listing.sku)
        await self.mark_listing(product_id, ListingState.DELETED)
        return {
            "success": True,
            "deleted": True,
            "withdrawn": withdrawn,
            "listing_id": listing.listing_id,
        }
