"""Deprecated: ``VintedJobProcessor`` is ``MarketplaceJobProcessor`` limited to Vinted."""

from __future__ import annotations

import warnings
from typing import Any

from app.db import Database
from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor


class VintedJobProcessor(MarketplaceJobProcessor):
    """The pre-unification processor; use ``MarketplaceJobProcessor(marketplace="vinted")``."""

    def __init__(
        self, db: Database, user_id: int = 1, shop_id: int | None = None, **kwargs: Any
    ) -> None:
        warnings.warn(
            "VintedJobProcessor is deprecated; use "
            "app.marketplace.MarketplaceJobProcessor(db, user_id, shop_id, marketplace='vinted')",
            DeprecationWarning,
            stacklevel=2,
        )
        kwargs.pop("marketplace", None)
        super().__init__(db, user_id=user_id, shop_id=shop_id, marketplace="vinted", **kwargs)
