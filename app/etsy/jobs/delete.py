"""delete_etsy: delete the listing ("not found" counts as done)."""

from __future__ import annotations

import contextlib
from typing import Any

from app.etsy.jobs.base import EtsyJobHandler
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState
from app.restapi.errors import ApiNotFoundError


class DeleteEtsyHandler(EtsyJobHandler):
    """Take a product off Etsy."""

    action_code = "delete"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product_id = self.require_product_id(job.product_id)
        listing = await self.product_listing(product_id)
        if listing is None or listing.state == ListingState.DELETED or not listing.listing_id:
            return {"success": True, "deleted": False, "reason": "not listed on Etsy"}
        client, _shop_id = await self.etsy()
        with contextlib.suppress(ApiNotFoundError):
            await client.delete_listing(listing.listing_id)
        await self.mark_listing(product_id, ListingState.DELETED)
        return {"success": True, "deleted": True, "listing_id": listing.listing_id}
