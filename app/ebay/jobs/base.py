"""What every eBay handler shares: the client, the fields, the listing it works on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from app.ebay.client import EbayClient
from app.ebay.jobs.fields import EBAY_FIELDS
from app.marketplace.base_handler import DirectAPIJobHandler
from app.marketplace.errors import PermanentJobError
from app.marketplace.fields import resolve_fields
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import MarketplaceListing

LISTING_URL = "https://www.ebay.com/itm/{listing_id}"


class EbayJobHandler(DirectAPIJobHandler):
    """Base of the eBay handlers."""

    marketplace: ClassVar[str] = "ebay"

    async def ebay(self) -> EbayClient:
        """The seller's eBay client."""
        client = await self.api_client()
        assert isinstance(client, EbayClient)
        return client

    async def fields(
        self, job: MarketplaceJob, fixed: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The job's eBay fields, validated: ``fixed`` values (an existing listing's site),
        else the job's input, else the seller's defaults."""
        given = {**(job.input_data or {}), **{k: v for k, v in (fixed or {}).items() if v}}
        return resolve_fields("eBay", EBAY_FIELDS, given, await self.account_defaults())

    async def listed(self, product_id: int) -> MarketplaceListing:
        """The product's eBay listing with its SKU and offer, or a permanent failure."""
        listing = await self.product_listing(product_id)
        if listing is None or not listing.offer_id or not listing.sku:
            raise PermanentJobError(f"Product {product_id} is not listed on eBay: publish it first")
        return listing
