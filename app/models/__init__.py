"""ORM models: ``public`` holds tables shared by every seller, ``user`` the per-seller tables."""

from app.models.public import MarketplaceActionType, Seller
from app.models.user import (
    BatchStatus,
    JobStatus,
    MarketplaceBatch,
    MarketplaceEnum,
    MarketplaceJob,
    MarketplaceJobStats,
    MarketplaceTask,
    Product,
    TaskStatus,
)

__all__ = [
    "BatchStatus",
    "JobStatus",
    "MarketplaceActionType",
    "MarketplaceBatch",
    "MarketplaceEnum",
    "MarketplaceJob",
    "MarketplaceJobStats",
    "MarketplaceTask",
    "Product",
    "Seller",
    "TaskStatus",
]
