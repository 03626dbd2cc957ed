"""sync_ebay: read the inventory and its offers, reconcile the product-to-listing links."""

from __future__ import annotations

from typing import Any

from app.ebay.jobs.base import LISTING_URL, EbayJobHandler
from app.ebay.jobs.fields import amount
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState


def remote_listing(item: dict[str, Any], offer: dict[str, Any] | None) -> RemoteListing:
    """A Marketdesk view of an inventory item and (if any) its offer."""
    sku = str(item.get("sku") or "")
    product = item.get("product") or {}
    quantity = ((item.get("availability") or {}).get("shipToLocationAvailability") or {}).get(
        "quantity"
    )
    if offer is None:
        return RemoteListing(
            listing_id=None,
            sku=sku,
            state=ListingState.DRAFT,
            title=product.get("title"),
            quantity=quantity,
        )
    price, currency = amount((offer.get("pricingSummary") or {}).get("price"))
    listing_id = (offer.get("listing") or {}).get("listingId")
    published = offer.get("status") == "PUBLISHED" and listing_id
    return RemoteListing(
        listing_id=str(listing_id) if listing_id else None,
        sku=sku,
        offer_id=str(offer.get("offerId")) if offer.get("offerId") else None,
        url=LISTING_URL.format(listing_id=listing_id) if published else None,
        state=ListingState.ACTIVE if published else ListingState.INACTIVE,
        title=product.get("title"),
        price=price,
        currency=currency,
        quantity=offer.get("availableQuantity", quantity),
        data={"marketplace_id": offer.get("marketplaceId")},
    )


class SyncEbayHandler(EbayJobHandler):
    """Bring the seller's eBay inventory into the catalog links."""

    action_code = "sync"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        client = await self.ebay()
        remotes: list[RemoteListing] = []
        async for item in client.inventory_items():
            sku = item.get("sku")
            if not sku:
                continue
            offers = await client.offers(str(sku))
            remotes.append(remote_listing(item, offers[0] if offers else None))
        counts = await self.reconcile_listings(remotes)
        return {"success": True, **counts.as_dict()}
