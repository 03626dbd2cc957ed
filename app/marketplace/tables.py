"""Typed Core handles of the tables the queue's SQL statements work on."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from app.models.user.marketplace_batch import MarketplaceBatch
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_job_stats import MarketplaceJobStats
from app.models.user.marketplace_task import MarketplaceTask

jobs = cast(Table, MarketplaceJob.__table__)
batches = cast(Table, MarketplaceBatch.__table__)
stats = cast(Table, MarketplaceJobStats.__table__)
tasks = cast(Table, MarketplaceTask.__table__)
