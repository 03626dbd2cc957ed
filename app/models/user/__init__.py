"""Per-seller tables (schema placeholder ``tenant``)."""

from app.models.user.marketplace_batch import BatchStatus, MarketplaceBatch
from app.models.user.marketplace_job import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    JobStatus,
    MarketplaceJob,
)
from app.models.user.marketplace_job_stats import MarketplaceEnum, MarketplaceJobStats
from app.models.user.marketplace_task import MarketplaceTask, TaskStatus
from app.models.user.product import Product

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "BatchStatus",
    "JobStatus",
    "MarketplaceBatch",
    "MarketplaceEnum",
    "MarketplaceJob",
    "MarketplaceJobStats",
    "MarketplaceTask",
    "Product",
    "TaskStatus",
]
