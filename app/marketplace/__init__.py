"""The unified marketplace job system (Vinted, eBay, Etsy)."""

from app.marketplace.marketplace_job_processor import ALL_HANDLERS, MarketplaceJobProcessor
from app.marketplace.marketplace_job_service import MarketplaceJobService

__all__ = ["ALL_HANDLERS", "MarketplaceJobProcessor", "MarketplaceJobService"]
