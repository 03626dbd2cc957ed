"""update_ebay: replace the inventory item and the offer with the product's current data.

The update a sale queues to lower the quantity (``input_data["auto_delist"]``, see
:mod:`app.inventory.sales`) sets only the quantity (``bulkUpdatePriceQuantity``): it
must not fail, or overwrite the listing, because of other catalog fields. When eBay
refuses it because the offer is no longer live (the listing ended meanwhile), there is
nothing left to lower: the listing is noted as ended and the job completes.
"""

from __future__ import annotations

from typing import Any

from app.ebay.jobs import fields as ebay_fields
from app.ebay.jobs.base import EbayJobHandler
from app.inventory.sales import SALE_KEY
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.restapi.errors import ApiPermanentError


class UpdateEbayHandler(EbayJobHandler):
    """Bring an eBay listing in line with the catalog (title, price, quantity...)."""

    action_code = "update"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        product = await self.load_product(job.product_id)
        listing = await self.listed(product.id)
        if SALE_KEY in (job.input_data or {}):
            return await self.set_quantity(product.id, product.quantity, listing)
        job_fields = await self.fields(job, {"marketplace_id": listing.data.get("marketplace_id")})
        ebay_fields.check_product(product, publishing=False)
        price = self.listing_price(job, product)
        assert listing.sku is not None and listing.offer_id is not None
        offer = ebay_fields.offer(product, job_fields, listing.sku, price)
        language = ebay_fields.language(job_fields)
        client = await self.ebay()
        await client.put_inventory_item(
            listing.sku, ebay_fields.inventory_item(product, job_fields), language
        )
        await client.update_offer(listing.offer_id, offer, language)
        await self.save_listing(
            product.id,
            RemoteListing(
                listing_id=listing.listing_id,
                state=listing.state,
                title=product.title,
                price=price,
                currency=product.currency,
                quantity=product.quantity,
            ),
        )
        return {"success": True, "listing_id": listing.listing_id, "offer_id": listing.offer_id}

    async def set_quantity(
        self, product_id: int, quantity: int, listing: MarketplaceListing
    ) -> dict[str, Any]:
        """A sale's follow-up: the listing's quantity becomes the catalog's, nothing else."""
        assert listing.sku is not None and listing.offer_id is not None
        client = await self.ebay()
        state = listing.state
        try:
            await client.set_quantity(listing.sku, listing.offer_id, quantity)
        except ApiPermanentError:
            # eBay refuses the call for an offer that is not live (the listing ended
            # meanwhile): then there is nothing to lower, not a listing left for sale
            offers = await client.offers(listing.sku)
            live = [o for o in offers if str(o.get("offerId")) == listing.offer_id]
            if live and live[0].get("status") == "PUBLISHED":
                raise
            state = ListingState.ENDED
        await self.save_listing(
            product_id,
            RemoteListing(
                listing_id=listing.listing_id,
                state=state,
                title=listing.title,
                price=listing.price,
                currency=listing.currency,
                quantity=quantity,
            ),
        )
        return {
            "success": True,
            "listing_id": listing.listing_id,
            "offer_id": listing.offer_id,
            "quantity": quantity,
            "quantity_only": True,
            "listing_live": state != ListingState.ENDED,
        }
