"""The product-to-listing links: saved by publish jobs, reconciled by sync jobs.

Every marketplace's handlers describe what they saw as :class:`RemoteListing` and call
these functions (inside one short transaction), so eBay, Etsy and Vinted share one way to
link listings to catalog products. A sync (:func:`reconcile`) finds each listing's row by
listing id (a link made earlier; an eBay inventory item without an offer yet by its SKU),
so importing twice never duplicates a listing. A listing without a product is then
matched to a catalog product by SKU, and failing that by the title and price rule of
:mod:`app.marketplace.matching`; listings that match nothing, or several products, are
kept unlinked for the seller to match in the window (:mod:`app.marketplace.listing_review`).
A listing the seller decided about (``data["decided"]``) is never re-matched by a sync.
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
from app.marketplace.matching import (
    CANDIDATES,
    DECIDED,
    MATCHED_BY,
    Decision,
    apply_title_rule,
    decided,
    with_data,
)
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.product import Product

#: States of a listing that is (or can become again) for sale.
LIVE_STATES = (ListingState.ACTIVE, ListingState.INACTIVE, ListingState.DRAFT)


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
    """What a listing sync did.

    ``linked`` + ``unmatched`` = ``seen``; ``matched_by_title`` is part of ``linked`` and
    ``ambiguous`` (unlinked, with candidates for the seller to confirm) part of
    ``unmatched``.
    """

    seen: int = 0
    linked: int = 0
    unmatched: int = 0
    ended: int = 0
    ambiguous: int = 0
    matched_by_title: int = 0

    def as_dict(self) -> dict[str, int]:
        """For the job's result."""
        return {
            "seen": self.seen,
            "linked": self.linked,
            "unmatched": self.unmatched,
            "ended": self.ended,
            "ambiguous": self.ambiguous,
            "matched_by_title": self.matched_by_title,
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
    """Link ``product_id`` to an existing listing (a link_product job, the seller's choice).

    A listing already linked to another product is refused; the product's previous
    listing on that marketplace, if another, stays known but unlinked. Both are marked
    as the seller's decision, so that a later sync does not undo it.
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
        with_data(current, {DECIDED: Decision.UNLINKED.value, MATCHED_BY: None})
        session.flush()
    if holder is None:
        holder = save_listing(session, product_id, marketplace, remote)
    else:
        holder.product_id = product_id
        _apply(holder, remote, utcnow())
    with_data(holder, {DECIDED: Decision.LINKED.value, CANDIDATES: None})
    session.flush()
    return holder


def set_listing_state(session: Session, product_id: int, marketplace: str, state: str) -> None:
    """Mark the product's listing (deleted, ended...)."""
    row = listing_for(session, product_id, marketplace)
    if row is not None:
        row.state = state
        row.updated_at = row.last_synced_at = utcnow()


#: Listings whose row a new listing of the same product (same SKU) may take over.
_GONE = (ListingState.ENDED, ListingState.DELETED)


class _Reconciler:
    """One sync of one marketplace: the known rows and products, indexed."""

    def __init__(self, session: Session, marketplace: str) -> None:
        self.session = session
        self.marketplace = marketplace
        self.now = utcnow()
        self.rows = list(
            session.scalars(
                select(MarketplaceListing)
                .where(MarketplaceListing.marketplace == marketplace)
                .order_by(MarketplaceListing.id)
            )
        )
        self.by_listing = {row.listing_id: row for row in self.rows if row.listing_id}
        self.by_product = {row.product_id: row for row in self.rows if row.product_id is not None}
        self.by_sku: dict[str, MarketplaceListing] = {}
        for row in self.rows:
            self._index_sku(row)
        self.products_by_sku: dict[str, int] = {
            str(sku): int(pid)
            for sku, pid in session.execute(
                select(Product.sku, Product.id).where(Product.sku.is_not(None))
            )
        }

    def _index_sku(self, row: MarketplaceListing) -> None:
        if row.sku and (row.sku not in self.by_sku or row.product_id is not None):
            self.by_sku[row.sku] = row

    def known(self, remote: RemoteListing) -> MarketplaceListing | None:
        """The row already holding ``remote``: same listing id; without one, same SKU."""
        if remote.listing_id:
            row = self.by_listing.get(remote.listing_id)
            if row is None and remote.sku:
                # an item seen before without a listing id (an eBay item without offer)
                draft = self.by_sku.get(remote.sku)
                row = draft if draft is not None and not draft.listing_id else None
            return row
        return self.by_sku.get(remote.sku) if remote.sku else None

    def product_by_sku(self, remote: RemoteListing) -> int | None:
        """The catalog product with the listing's SKU."""
        return self.products_by_sku.get(remote.sku) if remote.sku else None

    def row_for(self, remote: RemoteListing) -> MarketplaceListing:
        """The row to hold ``remote``: a known one, the SKU product's own, or a new one."""
        row = self.known(remote)
        product_id = self.product_by_sku(remote)
        if row is not None:
            free = product_id is not None and product_id not in self.by_product
            if free and product_id is not None and row.product_id is None and not decided(row):
                row.product_id = product_id
                self.by_product[product_id] = row
            return row
        own = self.by_product.get(product_id) if product_id is not None else None
        if own is not None and (not own.listing_id or own.state in _GONE):
            # the product's draft got its listing, or an ended listing was listed again
            if own.listing_id and remote.listing_id:
                self.by_listing.pop(own.listing_id, None)
            return own
        row = MarketplaceListing(
            marketplace=self.marketplace,
            product_id=product_id if own is None else None,
            created_at=self.now,
            data={},
        )
        self.session.add(row)
        if row.product_id is not None:
            self.by_product[row.product_id] = row
        return row

    def take(self, remote: RemoteListing) -> MarketplaceListing:
        """Store ``remote`` in its row."""
        row = self.row_for(remote)
        _apply(row, remote, self.now)
        if row.listing_id:
            self.by_listing[row.listing_id] = row
        self._index_sku(row)
        self.session.flush()
        return row

    def end_missing(self, seen: set[int]) -> int:
        """Mark known live listings the marketplace no longer reports ended; how many."""
        ended = 0
        for row in self.rows:
            if row.id not in seen and row.state in LIVE_STATES and row.listing_id:
                row.state = ListingState.ENDED
                row.updated_at = self.now
                ended += 1
        return ended


def reconcile(
    session: Session, marketplace: str, remotes: Iterable[RemoteListing], complete: bool
) -> SyncCounts:
    """Bring the marketplace's listings into ``marketplace_listings``.

    Each remote listing updates the row with its listing id (or is stored in a new row);
    a row without a product (and without a seller's decision) is linked to the catalog
    product with its SKU, else by the title rule of :mod:`app.marketplace.matching`, else
    stays unlinked (with the candidate products, if several). With ``complete`` (the sync
    saw every listing), known live listings the marketplace no longer reports are marked
    ended.
    """
    sync = _Reconciler(session, marketplace)
    taken = [sync.take(remote) for remote in remotes]
    pending: list[MarketplaceListing] = []
    for row in dict.fromkeys(taken):  # a listing reported twice is matched once
        if row.product_id is not None:
            with_data(row, {CANDIDATES: None})
        elif decided(row) is None:
            pending.append(row)
    counts = SyncCounts(seen=len(taken))
    counts.matched_by_title = apply_title_rule(session, marketplace, pending)
    for row in taken:
        if row.product_id is not None:
            counts.linked += 1
        else:
            counts.unmatched += 1
            counts.ambiguous += bool((row.data or {}).get(CANDIDATES))
    if complete:
        counts.ended = sync.end_missing({row.id for row in taken})
    return counts
