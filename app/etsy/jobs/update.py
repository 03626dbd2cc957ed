"""update_etsy: title and description on the listing, price and quantity in its inventory.

A product whose quantity fell to 0 is made inactive (Etsy refuses active listings
without stock).
"""

from __future__ import annotations

from typing import Any

from app.etsy.jobs import fields as etsy_fields
from app.etsy.jobs.base import EtsyJobHandler
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState


class UpdateEtsyHandler(EtsyJobHandler):
    """Bring an Etsy listing in line with the catalog."""

    action_code = "update"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        listing = await self.listed(product.id)
        etsy_fields.check_product(product, publishing=False)
        price = self.listing_price(job, product)
        assert listing.listing_id is not None
        client, shop_id = await self.etsy()
        changes: dict[str, Any] = {"title": product.title}
        if product.description:
            changes["description"] = product.description
        state = listing.state
        if product.quantity == 0:
            changes["state"] = "inactive"
            state = ListingState.INACTIVE
        await client.update_listing(shop_id, listing.listing_id, changes)
        if product.quantity > 0:
            await client.update_inventory(
                listing.listing_id,
                etsy_fields.inventory_products(product, product.sku or listing.sku, price),
            )
        await self.save_listing(
            product.id,
            RemoteListing(
                listing_id=listing.listing_id,
                state=state,
                title=product.title,
                price=price,
                quantity=product.quantity,
            ),
        )
        return {"success": True, "listing_id": listing.listing_id, "state": str(state)}
