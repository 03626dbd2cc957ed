"""publish_vinted: photos, then the item, each step recorded.

A retry resumes at the failed step: uploaded photos are not sent again, and the item is
not created twice. When the answer to the creation was lost (timeout, the plugin went
away), the retry first looks for an item with the product's title in the wardrobe and
takes it instead of creating another.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.marketplace.errors import PermanentJobError
from app.marketplace.fields import photo_files
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState
from app.vinted.jobs.base import VintedJobHandler, remote_listing
from app.vinted.jobs.items import item_fields, photo_payload


class PublishVintedHandler(VintedJobHandler):
    """List a catalog product on Vinted."""

    action_code = "publish"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        self.check_product(product)
        fields = await self.fields(job, product)
        photos = photo_files(product, self.context.photos_dir, "Vinted")
        existing = await self.product_listing(product.id)
        live = (ListingState.ACTIVE, ListingState.INACTIVE, ListingState.DRAFT)
        if existing is not None and existing.listing_id and existing.state in live:
            raise PermanentJobError(
                f"Product {product.id} is already on Vinted as item {existing.listing_id}: "
                "update it instead"
            )
        photo_ids: list[str] = []
        for rank, path in enumerate(photos, start=1):

            async def upload(path: Any = path) -> dict[str, Any]:
                payload = await asyncio.to_thread(photo_payload, path)
                return await self.vinted("upload_photo", payload)

            photo_ids.append(str((await self.step(f"photo_{rank}", upload))["photo_id"]))

        async def create() -> dict[str, Any]:
            data = await self.vinted(
                "create_item", {"item": item_fields(product, fields, photo_ids)}
            )
            return {"item": data["item"]}

        async def find_created() -> dict[str, Any] | None:
            # an earlier attempt may have created the item and lost the answer
            for item in await self.pages("wardrobe", "items", 96):
                if item.get("title") == product.title.strip() and item.get("state") != "sold":
                    return {"item": item}
            return None

        item = (await self.step("create_item", create, recover=find_created))["item"]
        listing = remote_listing(item)
        await self.save_listing(product.id, listing)
        return {
            "success": True,
            "listing_id": listing.listing_id,
            "url": listing.url,
            "photos": len(photo_ids),
        }
