"""sync_vinted: the seller's whole wardrobe brought into the product-to-listing links.

Items are matched to known listings by item id (Vinted items carry no SKU); items that
match nothing are kept unlinked for the seller to link (link_product) or import. Known
live items missing from the wardrobe are marked ended only when every page was read (the
plugin reported the page count): a short read never ends real listings.
"""

from __future__ import annotations

from typing import Any

from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import WARDROBE_PAGE, VintedJobHandler, remote_listing


class SyncVintedHandler(VintedJobHandler):
    """Refresh the Vinted listings from the wardrobe."""

    action_code = "sync"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        wardrobe = await self.pages("wardrobe", "items", WARDROBE_PAGE)
        counts = await self.reconcile_listings(
            [remote_listing(item) for item in wardrobe.entries], complete=wardrobe.complete
        )
        return {"success": True, "complete": wardrobe.complete, **counts.as_dict()}
