"""Where a catalog product is listed: one row per product and marketplace.

Publish, sync and link jobs fill it; the listing id is what the marketplace calls the
listing (eBay listingId, Etsy listing_id, Vinted item id). eBay listings also keep the
offer id, so that an update or a delete finds the offer without searching.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow


class ListingState(StrEnum):
    """Life of a listing as Marketdesk last saw it."""

    DRAFT = "draft"
    ACTIVE = "active"
    INACTIVE = "inactive"
    SOLD_OUT = "sold_out"
    ENDED = "ended"
    DELETED = "deleted"


class MarketplaceListing(Base):
    """A product's listing on one marketplace (or a marketplace listing not yet matched)."""

    __tablename__ = "marketplace_listings"
    __table_args__ = (
        UniqueConstraint("marketplace", "listing_id", name="uq_marketplace_listings_listing"),
        UniqueConstraint("product_id", "marketplace", name="uq_marketplace_listings_product"),
        CheckConstraint("marketplace IN ('vinted', 'ebay', 'etsy')", name="marketplace"),
        CheckConstraint(
            "state IN ('draft', 'active', 'inactive', 'sold_out', 'ended', 'deleted')",
            name="state",
        ),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{TENANT}.products.id", ondelete="SET NULL")
    )
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    listing_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    offer_id: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=ListingState.DRAFT)
    title: Mapped[str | None] = mapped_column(String(200))
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return (
            f"<MarketplaceListing {self.marketplace} {self.listing_id} product={self.product_id}>"
        )
