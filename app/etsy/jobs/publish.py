"""publish_etsy: draft listing, photos, inventory, activation, each step recorded.

A retry resumes at the failed step: the draft is not created twice (when the answer to
the draft request was lost, the retry finds the draft by its title among the shop's
drafts) and photos already uploaded are not sent again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.etsy.jobs import fields as etsy_fields
from app.etsy.jobs.base import EtsyJobHandler, remote_listing
from app.marketplace.fields import photo_files
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState


class PublishEtsyHandler(EtsyJobHandler):
    """List a catalog product on Etsy."""

    action_code = "publish"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        fields = await self.fields(job)
        etsy_fields.check_product(product, publishing=True)
        price = self.listing_price(job, product)
        photos = photo_files(product, self.context.photos_dir, "Etsy")
        await self.refuse_if_live(product.id, "listing")
        client, shop_id = await self.etsy()

        async def draft() -> dict[str, Any]:
            listing = await client.create_draft_listing(
                shop_id, etsy_fields.draft_fields(product, fields, price)
            )
            return {"listing_id": str(listing["listing_id"]), "url": listing.get("url")}

        async def find_draft() -> dict[str, Any] | None:
            # an earlier attempt may have created the draft and lost the answer
            async for listing in client.shop_listings(shop_id, "draft"):
                if listing.get("title") == product.title:
                    return {"listing_id": str(listing["listing_id"]), "url": listing.get("url")}
            return None

        created = await self.step("draft", draft, recover=find_draft)
        listing_id = str(created["listing_id"])
        for rank, path in enumerate(photos, start=1):

            async def upload(path: Any = path, rank: int = rank) -> dict[str, Any]:
                content = await asyncio.to_thread(path.read_bytes)
                image = await client.upload_image(shop_id, listing_id, path.name, content, rank)
                return {"listing_image_id": image.get("listing_image_id")}

            await self.step(f"photo_{rank}", upload)

        async def inventory() -> dict[str, Any]:
            await client.update_inventory(
                listing_id, etsy_fields.inventory_products(product, product.sku, price)
            )
            return {"sku": product.sku}

        if product.sku:
            await self.step("inventory", inventory)

        async def activate() -> dict[str, Any]:
            return {
                "listing": await client.update_listing(shop_id, listing_id, {"state": "active"})
            }

        active = (await self.step("activate", activate))["listing"]
        seen = remote_listing({**active, "listing_id": listing_id})
        url = seen.url or created.get("url")
        await self.save_listing(
            product.id,
            RemoteListing(
                listing_id=listing_id,
                sku=product.sku,
                url=url,
                state=ListingState.ACTIVE,
                title=product.title,
                price=price,
                currency=seen.currency or product.currency,
                quantity=product.quantity,
            ),
        )
        return {"success": True, "listing_id": listing_id, "url": url, "photos": len(photos)}
