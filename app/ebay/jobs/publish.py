"""publish_ebay: inventory item, offer, publish, each step recorded.

A retry after a crash resumes at the failed step. The offer step also survives a crash
between eBay creating the offer and Marketdesk recording it: eBay then refuses a second
offer for the SKU (errorId 25002) and the existing one is looked up and reused.
"""

from __future__ import annotations

from typing import Any

from app.ebay.jobs import fields as ebay_fields
from app.ebay.jobs.base import LISTING_URL, EbayJobHandler
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState
from app.restapi.errors import ApiPermanentError

OFFER_EXISTS = "25002"


class PublishEbayHandler(EbayJobHandler):
    """List a catalog product on eBay."""

    action_code = "publish"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        fields = await self.fields(job)
        ebay_fields.check_product(product, publishing=True)
        price = self.listing_price(job, product)
        sku = ebay_fields.sku_of(product)
        language = ebay_fields.language(fields)
        item = ebay_fields.inventory_item(product, fields)
        offer = ebay_fields.offer(product, fields, sku, price)
        client = await self.ebay()

        async def put_item() -> dict[str, Any]:
            await client.put_inventory_item(sku, item, language)
            return {"sku": sku}

        async def create_offer() -> dict[str, Any]:
            try:
                return {"offer_id": await client.create_offer(offer, language), "reused": False}
            except ApiPermanentError as exc:
                if exc.code != OFFER_EXISTS:
                    raise
                existing = await client.offers(sku, fields["marketplace_id"])
                if not existing:
                    raise
                offer_id = str(existing[0]["offerId"])
                await client.update_offer(offer_id, offer, language)
                return {"offer_id": offer_id, "reused": True}

        await self.step("inventory_item", put_item)
        offer_id = str((await self.step("offer", create_offer))["offer_id"])

        async def publish() -> dict[str, Any]:
            return {"listing_id": await client.publish_offer(offer_id)}

        listing_id = str((await self.step("publish", publish))["listing_id"])
        url = LISTING_URL.format(listing_id=listing_id)
        await self.save_listing(
            product.id,
            RemoteListing(
                listing_id=listing_id,
                sku=sku,
                offer_id=offer_id,
                url=url,
                state=ListingState.ACTIVE,
                title=product.title,
                price=price,
                currency=product.currency,
                quantity=product.quantity,
                data={"marketplace_id": fields["marketplace_id"]},
            ),
        )
        return {
            "success": True,
            "listing_id": listing_id,
            "offer_id": offer_id,
            "sku": sku,
            "url": url,
        }
