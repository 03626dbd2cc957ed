"""sync_etsy: read the shop's listings and reconcile the product-to-listing links."""

from __future__ import annotations

from typing import Any

from app.etsy.jobs.base import EtsyJobHandler, remote_listing
from app.marketplace.listings import RemoteListing
from app.models.user.marketplace_job import MarketplaceJob

SYNCED_STATES = ("active", "inactive", "draft", "sold_out")


class SyncEtsyHandler(EtsyJobHandler):
    """Bring the seller's Etsy listings into the catalog links."""

    action_code = "sync"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        client, shop_id = await self.etsy()
        remotes: list[RemoteListing] = []
        for state in SYNCED_STATES:
            async for listing in client.shop_listings(shop_id, state):
                remotes.append(remote_listing(listing))
        counts = await self.reconcile_listings(remotes)
        return {"success": True, **counts.as_dict()}
