"""Sold items from every marketplace, one row per order line, linked to the catalog.

Order-sync jobs insert or refresh these rows (unique per marketplace, order and line);
the cross-marketplace auto-delist reads new ones to end the product's other listings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow


class Order(Base):
    """One line of a marketplace order (a sold product and its quantity)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("marketplace", "order_id", "line_id", name="uq_orders_line"),
        CheckConstraint("marketplace IN ('vinted', 'ebay', 'etsy')", name="marketplace"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_orders_product", "product_id"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    order_id: Mapped[str] = mapped_column(String(64), nullable=False)
    line_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{TENANT}.products.id", ondelete="SET NULL")
    )
    listing_id: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    price: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    buyer: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(40))
    ordered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Order {self.marketplace} {self.order_id}/{self.line_id}>"
