"""Storing sold order lines from every marketplace, linked to catalog products.

Order-sync handlers describe each line as :class:`OrderLine`; :func:`save_order_lines`
inserts new lines and refreshes known ones (unique per marketplace, order and line), and
links each to a product through the listing it sold (listing id), else its SKU.
:func:`is_void` tells a cancelled or refunded line from a sold one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.marketplace.stats import dialect_insert
from app.models.user.marketplace_account import ConnectionState, MarketplaceAccount
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.order import Order
from app.models.user.product import Product

#: Order statuses that mean nothing was sold after all (eBay's ``CANCELLED`` and
#: ``REFUNDED``, Etsy's ``canceled`` and ``fully refunded``, Vinted's words for them).
VOID_WORDS = ("cancel", "refund")
#: ... unless only asked for, under way or in part (Etsy's ``partially refunded``, a
#: cancellation requested but not granted yet): the item is still sold.
NOT_YET_VOID_WORDS = ("partial", "request", "pending")


def is_void(status: str | None) -> bool:
    """Whether an order line with this status was cancelled or (fully) refunded."""
    words = (status or "").lower()
    return any(word in words for word in VOID_WORDS) and not any(
        word in words for word in NOT_YET_VOID_WORDS
    )


@dataclass(frozen=True)
class OrderLine:
    """One sold line as a marketplace reports it."""

    order_id: str
    line_id: str
    quantity: int
    listing_id: str | None = None
    sku: str | None = None
    title: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    buyer: str | None = None
    status: str | None = None
    ordered_at: datetime | None = None
    modified_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class OrderCounts:
    """What an order sync stored; ``new_lines`` are the lines seen for the first time,
    each with the catalog product it sold (None when it matched none), and
    ``linked_lines`` the lines seen before without a product that now have one (their
    listing was linked, or their SKU given to a product, meanwhile). ``void_lines`` are
    the lines seen before that are cancelled or refunded now (:func:`is_void`): a sale
    recorded for one of them is voided (:mod:`app.inventory.voids`)."""

    new: int = 0
    updated: int = 0
    new_lines: list[tuple[OrderLine, int | None]] = field(default_factory=list)
    linked_lines: list[tuple[OrderLine, int | None]] = field(default_factory=list)
    void_lines: list[OrderLine] = field(default_factory=list)


def save_order_lines(session: Session, marketplace: str, lines: Iterable[OrderLine]) -> OrderCounts:
    """Insert new order lines and refresh known ones; returns the counts and the new lines."""
    lines = list(lines)
    counts = OrderCounts()
    if not lines:
        return counts
    keys = {(line.order_id, line.line_id) for line in lines}
    known = {
        (row.order_id, row.line_id): row
        for row in session.scalars(
            select(Order).where(
                Order.marketplace == marketplace,
                tuple_(Order.order_id, Order.line_id).in_(list(keys)),
            )
        )
    }
    listing_ids = {line.listing_id for line in lines if line.listing_id}
    # FOR SHARE (PostgreSQL; SQLite writes one at a time anyway): a seller linking one of
    # these listings meanwhile either commits first, and its product is seen here, or
    # waits for this sync, and then finds its lines (record_linked_sales)
    product_by_listing = {
        listing_id: product_id
        for listing_id, product_id in session.execute(
            select(MarketplaceListing.listing_id, MarketplaceListing.product_id)
            .where(
                MarketplaceListing.marketplace == marketplace,
                MarketplaceListing.listing_id.in_(listing_ids),
            )
            .with_for_update(read=True)
        )
        if product_id is not None
    }
    skus = {line.sku for line in lines if line.sku}
    product_by_sku = {
        sku: product_id
        for sku, product_id in session.execute(
            select(Product.sku, Product.id).where(Product.sku.in_(skus))
        )
    }
    now = utcnow()
    for line in lines:
        product_id = product_by_listing.get(line.listing_id) if line.listing_id else None
        if product_id is None and line.sku:
            product_id = product_by_sku.get(line.sku)
        row = known.get((line.order_id, line.line_id))
        if row is None:
            row = Order(
                marketplace=marketplace,
                order_id=line.order_id,
                line_id=line.line_id,
                created_at=now,
            )
            session.add(row)
            known[(line.order_id, line.line_id)] = row
            counts.new += 1
            counts.new_lines.append((line, product_id))
        else:
            row.updated_at = now
            counts.updated += 1
            if row.product_id is None and product_id is not None:
                counts.linked_lines.append((line, product_id))
            if is_void(line.status):
                counts.void_lines.append(line)
        row.product_id = product_id if product_id is not None else row.product_id
        row.listing_id = line.listing_id
        row.sku = line.sku
        row.title = line.title
        row.quantity = line.quantity
        row.price = line.price
        row.currency = line.currency
        row.buyer = line.buyer
        row.status = line.status
        row.ordered_at = line.ordered_at
        row.modified_at = line.modified_at
        row.raw = line.raw
    session.flush()
    return counts


def order_line_of(row: Order) -> OrderLine:
    """A stored order line as the marketplace reported it."""
    return OrderLine(
        order_id=row.order_id,
        line_id=row.line_id,
        quantity=row.quantity,
        listing_id=row.listing_id,
        sku=row.sku,
        title=row.title,
        price=row.price,
        currency=row.currency,
        buyer=row.buyer,
        status=row.status,
        ordered_at=row.ordered_at,
        modified_at=row.modified_at,
        raw=dict(row.raw or {}),
    )


accounts = cast(Table, MarketplaceAccount.__table__)


def set_orders_cursor(session: Session, marketplace: str, cursor: str) -> None:
    """Remember where the next order sync of ``marketplace`` starts.

    An upsert: Vinted has no OAuth account, so its row is made here, to hold the cursor.
    """
    now = utcnow()
    stmt: Any = dialect_insert(session.connection(), accounts).values(
        marketplace=marketplace,
        orders_cursor=cursor,
        environment="production",
        state=ConnectionState.DISCONNECTED,
        defaults={},
        created_at=now,
        updated_at=now,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[accounts.c.marketplace],
            set_={"orders_cursor": cursor, "updated_at": now},
        )
    )
