"""Per-seller tables (schema placeholder ``tenant``)."""

from app.models.user.marketplace_account import ConnectionState, MarketplaceAccount
from app.models.user.marketplace_batch import BatchStatus, MarketplaceBatch
from app.models.user.marketplace_job import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    JobStatus,
    MarketplaceJob,
)
from app.models.user.marketplace_job_stats import MarketplaceEnum, MarketplaceJobStats
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.marketplace_task import MarketplaceTask, TaskStatus
from app.models.user.order import Order
from app.models.user.product import Product
from app.models.user.sale import Sale, SaleStatus
from app.models.user.schedule import Schedule

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "BatchStatus",
    "ConnectionState",
    "JobStatus",
    "ListingState",
    "MarketplaceAccount",
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
    "TaskStatus",
]
