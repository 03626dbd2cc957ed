"""link_product_vinted: link a catalog product to an item already on Vinted."""

from __future__ import annotations

from typing import Any

from app.marketplace.fields import FieldError
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler, item_id_from, remote_listing


class LinkProductVintedHandler(VintedJobHandler):
    """Link the job's product to the Vinted item named in its input (id or address)."""

    action_code = "link_product"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product_id = self.require_product_id(job.product_id)
        given = job.input_data or {}
        wanted = given.get("item_id") or given.get("url")
        if not wanted:
            raise FieldError("Vinted", {"item_id": "the Vinted item number or address is required"})
        item_id = item_id_from(wanted)
        await self.load_product(product_id)
        item = (await self.vinted("get_item", {"item_id": item_id}))["item"]
        listing = remote_listing(item)
        await self.link_listing(product_id, listing)
        return {"success": True, "listing_id": listing.listing_id, "url": listing.url}
