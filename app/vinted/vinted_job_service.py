"""Deprecated: ``VintedJobService`` is ``MarketplaceJobService`` creating Vinted jobs."""

from __future__ import annotations

import warnings
from typing import Any

from app.db import Database
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.models.user.marketplace_job import MarketplaceJob


class VintedJobService(MarketplaceJobService):
    """The pre-unification service; ``create_job`` always targets Vinted."""

    def __init__(self, db: Database, user_id: int = 1) -> None:
        warnings.warn(
            "VintedJobService is deprecated; use app.marketplace.MarketplaceJobService and "
            "pass marketplace='vinted'",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(db, user_id)

    def create_job(  # type: ignore[override]
        self, action_code: str, product_id: int | None = None, **kwargs: Any
    ) -> MarketplaceJob:
        """Queue a Vinted job (the old signature, without a marketplace)."""
        if kwargs.pop("marketplace", "vinted") not in (None, "vinted"):
            raise ValueError("VintedJobService only creates Vinted jobs")
        return super().create_job("vinted", action_code, product_id, **kwargs)
