"""ORM models: ``public`` holds tables shared by every seller, ``user`` the per-seller tables."""

from app.models.public import MarketplaceActionType, Seller
from app.models.user import (
    BatchStatus,
    ConnectionState,
    JobStatus,
    ListingState,
    MarketplaceAccount,
    MarketplaceBatch,
    MarketplaceEnum,
    MarketplaceJob,
    MarketplaceJobStats,
    MarketplaceListing,
    MarketplaceTask,
    Order,
    Product,
    Sale,
    SaleStatus,
    Schedule,
    TaskStatus,
)

__all__ = [
    "BatchStatus",
    "ConnectionState",
    "JobStatus",
    "ListingState",
    "MarketplaceAccount",
    "MarketplaceActionType",
    "MarketplaceBatch",
    "MarketplaceEnum",
    "MarketplaceJob",
    "MarketplaceJobStats",
    "MarketplaceListing",
    "MarketplaceTask",
    "Order",
    "Product",
    "Sale",
    "SaleStatus",
    "Schedule",
    "Seller",
    "TaskStatus",
]
