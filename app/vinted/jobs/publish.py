"""publish_vinted: photos, then the item, each step recorded.

A retry resumes at the failed step: uploaded photos are not sent again, and the item is
not created twice. When the answer to the creation was lost (timeout, the plugin went
away), the retry first looks in the wardrobe (newest first) for the item that carries the
photos uploaded for it, and takes it instead of creating another.
"""

from __future__ import annotations

from typing import Any

from app.marketplace.fields import photo_files
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import WARDROBE_PAGE, VintedJobHandler, check_product, remote_listing
from app.vinted.jobs.items import item_fields


class PublishVintedHandler(VintedJobHandler):
    """List a catalog product on Vinted."""

    action_code = "publish"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        check_product(product)
        price = self.listing_price(job, product)
        fields = await self.fields(job, product)
        photos = photo_files(product, self.context.photos_dir, "Vinted")
        await self.refuse_if_live(product.id, "item")
        photo_ids = await self.upload_photos(photos)

        async def create() -> dict[str, Any]:
            data = await self.vinted(
                "create_item", {"item": item_fields(product, fields, photo_ids, price)}
            )
            return {"item": data["item"]}

        async def find_created() -> dict[str, Any] | None:
            # an earlier attempt may have created the item and lost the answer: it is the
            # item carrying the photos uploaded for it (photo ids are unique on Vinted)
            ours = set(photo_ids)

            def carries_ours(item: dict[str, Any]) -> bool:
                return bool(ours & {str(p) for p in item.get("photo_ids") or []})

            def found(page: list[dict[str, Any]]) -> bool:
                return any(carries_ours(item) for item in page)

            wardrobe = await self.pages("wardrobe", "items", WARDROBE_PAGE, stop=found)
            return next(({"item": i} for i in wardrobe.entries if carries_ours(i)), None)

        item = (await self.step("create_item", create, recover=find_created))["item"]
        listing = remote_listing(item)
        await self.save_listing(product.id, listing)
        return {
            "success": True,
            "listing_id": listing.listing_id,
            "url": listing.url,
            "photos": len(photo_ids),
        }
