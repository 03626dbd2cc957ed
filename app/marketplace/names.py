"""The marketplace and job-status vocabulary, free of the database layer.

The models (:mod:`app.models.user.marketplace_job_stats`, :mod:`app.models.user.marketplace_job`)
and everything that only needs the names (the command line's parser, the window's first
page) share these, so that showing the window or parsing arguments does not load SQLAlchemy.
"""

from __future__ import annotations

from enum import StrEnum


class MarketplaceEnum(StrEnum):
    """The marketplaces Marketdesk sells on."""

    VINTED = "vinted"
    EBAY = "ebay"
    ETSY = "etsy"


MARKETPLACE_VALUES = tuple(m.value for m in MarketplaceEnum)
#: How each marketplace is written for a seller.
MARKETPLACE_NAMES = {"vinted": "Vinted", "ebay": "eBay", "etsy": "Etsy"}


class JobStatus(StrEnum):
    """Lifecycle of a job. ``completed``, ``failed``, ``cancelled`` and ``expired`` are final."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
