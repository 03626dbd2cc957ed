"""The unified marketplace job system (Vinted, eBay, Etsy).

``MarketplaceJobProcessor``, ``MarketplaceJobService`` and ``ALL_HANDLERS`` are loaded on
first use: the marketplaces' handler packages import this package's errors and base
classes, and the processor imports their registries, so loading eagerly would be circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.lazy import lazy_exports

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_processor import ALL_HANDLERS, MarketplaceJobProcessor
    from app.marketplace.marketplace_job_service import MarketplaceJobService

__all__ = ["ALL_HANDLERS", "MarketplaceJobProcessor", "MarketplaceJobService"]

_HOMES = {
    "ALL_HANDLERS": "app.marketplace.marketplace_job_processor",
    "MarketplaceJobProcessor": "app.marketplace.marketplace_job_processor",
    "MarketplaceJobService": "app.marketplace.marketplace_job_service",
}


__getattr__ = lazy_exports(__name__, _HOMES)
