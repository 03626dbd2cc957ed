"""What every Etsy handler shares: the client, the shop, the fields, the listing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from app.etsy.client import EtsyClient
from app.etsy.jobs.fields import ETSY_FIELDS
from app.marketplace.base_handler import DirectAPIJobHandler
from app.marketplace.errors import AuthRequiredError, PermanentJobError
from app.marketplace.fields import resolve_fields
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import ListingState, MarketplaceListing

STATES = {
    "active": ListingState.ACTIVE,
    "inactive": ListingState.INACTIVE,
    "draft": ListingState.DRAFT,
    "sold_out": ListingState.SOLD_OUT,
    "expired": ListingState.ENDED,
}


def money(value: Any) -> tuple[Decimal | None, str | None]:
    """Etsy's ``{"amount", "divisor", "currency_code"}`` as a Decimal and a currency."""
    if not isinstance(value, dict) or value.get("amount") is None:
        return None, None
    divisor = int(value.get("divisor") or 1)
    return Decimal(int(value["amount"])) / Decimal(divisor), value.get("currency_code")


def remote_listing(listing: dict[str, Any]) -> RemoteListing:
    """A Marketdesk view of an Etsy listing."""
    price, currency = money(listing.get("price"))
    skus = listing.get("skus") or []
    return RemoteListing(
        listing_id=str(listing["listing_id"]),
        sku=str(skus[0]) if skus and skus[0] else None,
        url=listing.get("url"),
        state=STATES.get(str(listing.get("state")), ListingState.INACTIVE),
        title=listing.get("title"),
        price=price,
        currency=currency,
        quantity=listing.get("quantity"),
    )


class EtsyJobHandler(DirectAPIJobHandler):
    """Base of the Etsy handlers."""

    marketplace: ClassVar[str] = "etsy"

    async def etsy(self) -> tuple[EtsyClient, str]:
        """The seller's Etsy client and shop id."""
        client = await self.api_client()
        assert isinstance(client, EtsyClient)
        settings = await self.account_settings()
        shop_id = settings.shop_id if settings is not None else None
        if not shop_id:
            raise AuthRequiredError("Etsy: no shop is known for this account: reconnect Etsy")
        return client, str(shop_id)

    async def fields(self, job: MarketplaceJob) -> dict[str, Any]:
        """The job's Etsy fields (job input, else the seller's defaults), validated."""
        return resolve_fields("Etsy", ETSY_FIELDS, job.input_data, await self.account_defaults())

    async def listed(self, product_id: int) -> MarketplaceListing:
        """The product's Etsy listing, or a permanent failure."""
        listing = await self.product_listing(product_id)
        if listing is None or not listing.listing_id:
            raise PermanentJobError(f"Product {product_id} is not listed on Etsy: publish it first")
        return listing
