"""The product-to-listing links: saved by publish jobs, reconciled by sync jobs.

Every marketplace's handlers describe what they saw as :class:`RemoteListing` and call
these functions (inside one short transaction), so eBay, Etsy and Vinted share one way to
link listings to catalog products: by listing id first (a link made earlier), then by SKU.
Listings that match nothing are kept unlinked for the seller to match later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.marketplace.errors import PermanentJobError
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.product import Product


@dataclass(frozen=True)
class RemoteListing:
    """A listing as a marketplace reports it."""

    listing_id: str | None
    sku: str | None = None
    offer_id: str | None = None
    url: str | None = None
    state: str = ListingState.ACTIVE
    title: str | None = None
    price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class SyncCounts:
    """What a listing sync did."""

    seen: int = 0
    linked: int = 0
    unmatched: int = 0
    ended: int = 0

    def as_dict(self) -> dict[str, int]:
        """For the job's result."""
        return {
            "seen": self.seen,
            "linked": self.linked,
            "unmatched": self.unmatched,
            "ended": self.ended,
        }


def listing_for(session: Session, product_id: int, marketplace: str) -> MarketplaceListing | None:
    """The product's listing on ``marketplace``, if it has one."""
    return session.scalars(
        select(MarketplaceListing).where(
            MarketplaceListing.product_id == product_id,
            MarketplaceListing.marketplace == marketplace,
        )
    ).first()


def _apply(row: MarketplaceListing, remote: RemoteListing, now: datetime) -> None:
    row.listing_id = remote.listing_id or row.listing_id
    row.sku = remote.sku or row.sku
    row.offer_id = remote.offer_id or row.offer_id
    row.url = remote.url or row.url
    row.state = remote.state
    row.title = remote.title or row.title
    if remote.price is not None:
        row.price = remote.price
    row.currency = remote.currency or row.currency
    if remote.quantity is not None:
        row.quantity = remote.quantity
    if remote.data:
        row.data = {**(row.data or {}), **remote.data}
    row.last_synced_at = now
    row.updated_at = now


def save_listing(
    session: Session, product_id: int, marketplace: str, remote: RemoteListing
) -> MarketplaceListing:
    """Create or update the product's listing on ``marketplace`` (publish, update, link)."""
    now = utcnow()
    row = listing_for(session, product_id, marketplace)
    if row is None and remote.listing_id:
        row = session.scalars(
            select(MarketplaceListing).where(
                MarketplaceListing.marketplace == marketplace,
                MarketplaceListing.listing_id == remote.listing_id,
            )
        ).first()
        if row is not None and row.product_id not in (None, product_id):
            raise PermanentJobError(
                f"{marketplace} listing {remote.listing_id} belongs to product "
                f"{row.product_id}, not to product {product_id}"
            )
    if row is None:
        row = MarketplaceListing(marketplace=marketplace, created_at=now, data={})
        session.add(row)
    row.product_id = product_id
    _apply(row, remote, now)
    session.flush()
    return row


def link_listing(
    session: Session, product_id: int, marketplace: str, remote: RemoteListing
) -> MarketplaceListing:
    """Link ``product_id`` to an existing listing (a link_product job).

    A listing already linked to another product is refused; the product's previous
    listing on that marketplace, if another, stays known but unlinked.
    """
    holder = session.scalars(
        select(MarketplaceListing).where(
            MarketplaceListing.marketplace == marketplace,
            MarketplaceListing.listing_id == remote.listing_id,
        )
    ).first()
    if holder is not None and holder.product_id not in (None, product_id):
        raise PermanentJobError(
            f"{marketplace} listing {remote.listing_id} is already linked to product "
            f"{holder.product_id}"
        )
    current = listing_for(session, product_id, marketplace)
    if current is not None and current is not holder:
        current.product_id = None
        session.flush()
    if holder is None:
        return save_listing(session, product_id, marketplace, remote)
    holder.product_id = product_id
    _apply(holder, remote, utcnow())
    session.flush()
    return holder


def set_listing_state(session: Session, product_id: int, marketplace: str, state: str) -> None:
    """Mark the product's listing (deleted, ended...)."""
    row = listing_for(session, product_id, marketplace)
    if row is not None:
        row.state = state
        row.updated_at = row.last_synced_at = utcnow()


def reconcile(
    session: Session, marketplace: str, remotes: Iterable[RemoteListing], complete: bool
) -> SyncCounts:
    """Bring the marketplace's listings into ``marketplace_listings``.

    A remote listing is matched to a known listing row by listing id, else to a catalog
    product by SKU; unmatched ones are stored without a product. With ``complete`` (the
    sync saw every listing), known live listings the marketplace no longer reports are
    marked ended.
    """
    now = utcnow()
    counts = SyncCounts()
    rows = session.scalars(
        select(MarketplaceListing).where(MarketplaceListing.marketplace == marketplace)
    ).all()
    by_listing = {row.listing_id: row for row in rows if row.listing_id}
    by_product = {row.product_id: row for row in rows if row.product_id is not None}
    products_by_sku = {
        sku: product_id
        for sku, product_id in session.execute(
            select(Product.sku, Product.id).where(Product.sku.is_not(None))
        )
    }
    seen: set[int] = set()
    for remote in remotes:
        counts.seen += 1
        row = by_listing.get(remote.listing_id) if remote.listing_id else None
        if row is None:
            product_id = products_by_sku.get(remote.sku) if remote.sku else None
            if product_id is not None:
                row = by_product.get(product_id)
            if row is None:
                row = MarketplaceListing(
                    marketplace=marketplace, product_id=product_id, created_at=now, data={}
                )
                session.add(row)
                if product_id is not None:
                    by_product[product_id] = row
        _apply(row, remote, now)
        if row.listing_id:
            by_listing[row.listing_id] = row
        session.flush()
        seen.add(row.id)
        if row.product_id is None:
            counts.unmatched += 1
        else:
            counts.linked += 1
    if complete:
        for row in rows:
            live = row.state in (ListingState.ACTIVE, ListingState.INACTIVE, ListingState.DRAFT)
            if row.id not in seen and live and row.listing_id:
                row.state = ListingState.ENDED
                row.updated_at = now
                counts.ended += 1
    return counts
