"""delete_vinted: remove a product's item from Vinted (already gone counts as done)."""

from __future__ import annotations

from typing import Any

from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState
from app.vinted.jobs.base import VintedItemNotFoundError, VintedJobHandler


class DeleteVintedHandler(VintedJobHandler):
    """Delete a product's Vinted item."""

    action_code = "delete"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product_id = self.require_product_id(job.product_id)
        listing = await self.listed(product_id)
        try:
            await self.vinted("delete_item", {"item_id": listing.listing_id})
            already_gone = False
        except VintedItemNotFoundError:
            already_gone = True
        await self.mark_listing(product_id, ListingState.DELETED)
        return {"success": True, "listing_id": listing.listing_id, "already_gone": already_gone}
