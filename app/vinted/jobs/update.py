"""update_vinted: the item brought in line with the catalog product (photos included).

The product's photos are uploaded again (each a recorded step) and the item is replaced
with the catalog's title, description, price and fields: the catalog is the source of
truth. An update that is retried after a lost answer simply sends the same data again.
"""

from __future__ import annotations

from typing import Any

from app.marketplace.fields import photo_files
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler, check_product, remote_listing
from app.vinted.jobs.items import item_fields


class UpdateVintedHandler(VintedJobHandler):
    """Update a product's Vinted item."""

    action_code = "update"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        check_product(product)
        price = self.listing_price(job, product)
        fields = await self.fields(job, product)
        listing = await self.listed(product.id, live=True)
        photo_ids = await self.upload_photos(
            photo_files(product, self.context.photos_dir, "Vinted")
        )

        async def update() -> dict[str, Any]:
            data = await self.vinted(
                "update_item",
                {
                    "item_id": listing.listing_id,
                    "item": item_fields(product, fields, photo_ids, price),
                },
            )
            return {"item": data["item"]}

        item = (await self.step("update_item", update))["item"]
        seen = remote_listing(item)
        await self.save_listing(product.id, seen)
        return {"success": True, "listing_id": seen.listing_id, "url": seen.url}
