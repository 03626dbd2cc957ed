"""Sales that touched the catalog, and what Marketdesk did about each (``sales``).

An order-sync job records one row per new order line linked to a catalog product: the
product's quantity before and after, whether it sold more than was left (an oversell),
and the jobs it queued to take the product's other listings down or to lower their
quantity. ``actions`` lists those jobs as ``{"job_id", "marketplace", "action"}``. A sale
whose order line is later cancelled or refunded becomes ``voided``
(:mod:`app.inventory.voids`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import TENANT, Base, UTCDateTime, utcnow
from app.models.user.marketplace_job_stats import MARKETPLACE_CHECK


class SaleStatus(StrEnum):
    """Where a sale's follow-up stands."""

    #: Nothing else to do (no other live listing).
    RECORDED = "recorded"
    #: Delete or update jobs are queued or running.
    DELISTING = "delisting"
    #: Every job it queued has ended.
    DONE = "done"
    #: A delete or update finally failed: the product may still be for sale elsewhere.
    DELIST_FAILED = "delist_failed"
    #: The order line was cancelled or refunded after the sale was recorded: the stock it
    #: took went back and its follow-up jobs that had not started were cancelled.
    VOIDED = "voided"


SALE_STATUS_CHECK = "status IN ('recorded', 'delisting', 'done', 'delist_failed', 'voided')"


class Sale(Base):
    """One sold order line of a catalog product."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("marketplace", "order_id", "line_id", name="uq_sales_line"),
        CheckConstraint(MARKETPLACE_CHECK, name="marketplace"),
        CheckConstraint(SALE_STATUS_CHECK, name="status"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_sales_product", "product_id"),
        {"schema": TENANT},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    marketplace: Mapped[str] = mapped_column(String(20), nullable=False)
    order_id: Mapped[str] = mapped_column(String(64), nullable=False)
    line_id: Mapped[str] = mapped_column(String(64), nullable=False)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{TENANT}.products.id", ondelete="SET NULL")
    )
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    quantity_before: Mapped[int] = mapped_column(Integer, nullable=False)
    quantity_after: Mapped[int] = mapped_column(Integer, nullable=False)
    oversell: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=SaleStatus.RECORDED)
    message: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Sale {self.id} {self.marketplace} {self.order_id}/{self.line_id} {self.status}>"
