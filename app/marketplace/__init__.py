"""The unified marketplace job system (Vinted, eBay, Etsy).

``MarketplaceJobProcessor``, ``MarketplaceJobService`` and ``ALL_HANDLERS`` are loaded on
first use: the marketplaces' handler packages import this package's errors and base
classes, and the processor imports their registries, so loading eagerly would be circular.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_processor import ALL_HANDLERS, MarketplaceJobProcessor
    from app.marketplace.marketplace_job_service import MarketplaceJobService

__all__ = ["ALL_HANDLERS", "MarketplaceJobProcessor", "MarketplaceJobService"]

_HOMES = {
    "ALL_HANDLERS": "app.marketplace.marketplace_job_processor",
    "MarketplaceJobProcessor": "app.marketplace.marketplace_job_processor",
    "MarketplaceJobService": "app.marketplace.marketplace_job_service",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
