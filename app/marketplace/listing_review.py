"""The seller's review of imported listings: link, create a product, dismiss, unlink (no Qt).

Syncs leave a listing unlinked when nothing in the catalog matches it, or when several
products do (``data["candidates"]``, see :mod:`app.marketplace.matching`). Here the seller
settles them:

* :func:`confirm_match` links a listing to a product. As for a link_product job, a listing
  linked to another product is refused, and so is a product that already has a listing
  on that marketplace, unless ``replace=True`` (that other listing then stays known but
  unlinked).
* :func:`import_as_product` creates a catalog product from the listing (title, price,
  currency, quantity, SKU when no product uses it, brand, size and photo addresses when
  the marketplace gave them; no description: the listing's address stays on the listing)
  and links it.
* :func:`dismiss` keeps the listing unlinked and stops suggesting it.
* :func:`unlink` removes a link (made by a sync or by hand).

Each decision is remembered in ``data["decided"]`` (linked, imported, dismissed,
unlinked): a later sync never links, re-links or suggests a decided listing again.
:class:`ListingReview` runs each action in its own transaction (the window calls it
through ``UiContext.run``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app.db import Database, utcnow
from app.marketplace.errors import MarketplaceError, RetryableJobError
from app.marketplace.job_forms import DISPLAY
from app.marketplace.listings import listing_for
from app.marketplace.matching import (
    CANDIDATES,
    DECIDED,
    MATCHED_BY,
    Decision,
    decided,
    with_data,
)
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.product import Product

log = logging.getLogger("marketdesk.listings")
_MAX_TITLE, _MAX_BRAND, _MAX_SIZE, _MAX_SKU, _MAX_PHOTOS = 200, 100, 50, 64, 20


class ListingReviewError(MarketplaceError):
    """A review action cannot be done as asked."""


class ListingNotFoundError(ListingReviewError, LookupError):
    """No listing row has the given id."""

    def __init__(self, row_id: int) -> None:
        super().__init__(f"Listing {row_id} does not exist (removed meanwhile?)")
        self.row_id = row_id


class ListingLinkError(ListingReviewError):
    """The link asked for would break a rule (a listing or a product already linked)."""


class ListingBusyError(ListingReviewError):
    """The link could not be stored now (a sync recording orders, a busy database)."""


class ProductAlreadyListedError(ListingLinkError):
    """The product already has a listing on that marketplace (``replace=True`` overrides)."""

    def __init__(self, product_id: int, marketplace: str, listing: MarketplaceListing) -> None:
        name = DISPLAY.get(marketplace, marketplace)
        what = f"listing {listing.listing_id}" if listing.listing_id else "a draft"
        super().__init__(
            f"Product {product_id} is already linked to {what} on {name} ({listing.state})"
        )
        self.product_id = product_id
        self.marketplace = marketplace


@dataclass(frozen=True)
class ListingView:
    """A listing as the window shows it."""

    id: int
    marketplace: str
    listing_id: str | None
    title: str | None
    price: Decimal | None
    currency: str | None
    quantity: int | None
    state: str
    url: str | None
    sku: str | None
    product_id: int | None
    product_title: str | None
    #: Products the sync found by title (still unlisted on this marketplace).
    candidates: tuple[int, ...]
    decided: str | None
    matched_by: str | None
    last_synced_at: datetime | None

    @property
    def status(self) -> str:
        """``linked``, ``ambiguous`` (candidates to confirm), ``dismissed`` or ``unmatched``."""
        if self.product_id is not None:
            return "linked"
        if self.decided == Decision.DISMISSED:
            return "dismissed"
        return "ambiguous" if self.candidates else "unmatched"

    @property
    def product_text(self) -> str:
        """``"#12 Denim jacket"`` (``"... (by title)"`` when the title rule linked it),
        ``"ambiguous: 2 candidates"``, ``"unmatched"``, ``"dismissed"``."""
        if self.product_id is not None:
            text = f"#{self.product_id} {self.product_title or ''}".rstrip()
            return f"{text} (by title)" if self.matched_by == "title" else text
        if self.candidates:
            count = len(self.candidates)
            return f"ambiguous: {count} candidate{'s' if count > 1 else ''}"
        return self.status


@dataclass(frozen=True)
class ProductChoice:
    """A product the seller may link a listing to."""

    id: int
    title: str
    price: Decimal
    currency: str
    sku: str | None
    #: The state of its listing on the listing's marketplace (None: not listed there).
    listed: str | None
    candidate: bool

    @property
    def label(self) -> str:
        """``"#12 Denim jacket, 45.00 EUR"`` with ``(candidate)`` or ``(listed: active)``."""
        text = f"#{self.id} {self.title}, {self.price:.2f} {self.currency}"
        if self.candidate:
            return f"{text} (candidate)"
        return f"{text} (listed: {self.listed})" if self.listed else text


# -- reading ----------------------------------------------------------------------------
def _taken(session: Session, marketplace: str | None = None) -> set[tuple[str, int]]:
    """(marketplace, product id) of every linked listing."""
    stmt = select(MarketplaceListing.marketplace, MarketplaceListing.product_id).where(
        MarketplaceListing.product_id.is_not(None)
    )
    if marketplace is not None:
        stmt = stmt.where(MarketplaceListing.marketplace == marketplace)
    return {(str(m), int(p)) for m, p in session.execute(stmt) if p is not None}


def _candidates(row: MarketplaceListing) -> list[int]:
    found = (row.data or {}).get(CANDIDATES) or []
    return [int(pid) for pid in found if isinstance(pid, int | str) and str(pid).isdigit()]


def listings(
    session: Session, marketplace: str | None = None, *, unmatched_only: bool = False
) -> list[ListingView]:
    """Every listing (of ``marketplace``), by marketplace and id.

    ``unmatched_only`` keeps the unlinked listings the seller has not dismissed. Candidates
    that were deleted or got a listing on that marketplace since the sync are left out.
    """
    stmt = (
        select(MarketplaceListing, Product.title)
        .outerjoin(Product, Product.id == MarketplaceListing.product_id)
        .order_by(MarketplaceListing.marketplace, MarketplaceListing.id)
    )
    if marketplace is not None:
        stmt = stmt.where(MarketplaceListing.marketplace == marketplace)
    if unmatched_only:
        stmt = stmt.where(MarketplaceListing.product_id.is_(None))
    found = [(row, title) for row, title in session.execute(stmt)]
    if unmatched_only:
        found = [(row, title) for row, title in found if decided(row) != Decision.DISMISSED]
    wanted = {pid for row, _ in found if row.product_id is None for pid in _candidates(row)}
    existing = set(session.scalars(select(Product.id).where(Product.id.in_(wanted))))
    taken = _taken(session, marketplace) if wanted else set()
    return [
        _view(
            row,
            title,
            tuple(
                pid
                for pid in _candidates(row)
                if pid in existing and (row.marketplace, pid) not in taken
            ),
        )
        for row, title in found
    ]


def unmatched_listings(session: Session, marketplace: str | None = None) -> list[ListingView]:
    """The listings waiting for the seller: unlinked, not dismissed, with their candidates."""
    return listings(session, marketplace, unmatched_only=True)


def _view(
    row: MarketplaceListing, product_title: str | None, candidates: tuple[int, ...]
) -> ListingView:
    data: dict[str, Any] = row.data or {}
    return ListingView(
        id=row.id,
        marketplace=row.marketplace,
        listing_id=row.listing_id,
        title=row.title,
        price=Decimal(row.price) if row.price is not None else None,
        currency=row.currency,
        quantity=row.quantity,
        state=row.state,
        url=row.url,
        sku=row.sku,
        product_id=row.product_id,
        product_title=product_title,
        candidates=candidates if row.product_id is None else (),
        decided=decided(row),
        matched_by=str(data[MATCHED_BY]) if data.get(MATCHED_BY) else None,
        last_synced_at=row.last_synced_at,
    )


def product_choices(session: Session, row_id: int) -> list[ProductChoice]:
    """The products to link listing ``row_id`` to: its candidates first, then the
    products not listed on its marketplace, then the others (by title)."""
    row = session.get(MarketplaceListing, row_id)
    if row is None:
        raise ListingNotFoundError(row_id)
    candidates = _candidates(row) if row.product_id is None else []
    stmt = select(
        Product.id, Product.title, Product.price, Product.currency, Product.sku
    ).add_columns(MarketplaceListing.state)
    stmt = stmt.outerjoin(
        MarketplaceListing,
        and_(
            MarketplaceListing.product_id == Product.id,
            MarketplaceListing.marketplace == row.marketplace,
        ),
    )
    choices = [
        ProductChoice(
            id=int(pid),
            title=str(title),
            price=Decimal(price),
            currency=str(currency),
            sku=sku,
            listed=str(state) if state is not None else None,
            candidate=state is None and int(pid) in candidates,
        )
        for pid, title, price, currency, sku, state in session.execute(stmt)
    ]
    order = {pid: index for index, pid in enumerate(candidates)}

    def rank(choice: ProductChoice) -> tuple[int, int, str, int]:
        group = 0 if choice.candidate else (1 if choice.listed is None else 2)
        return (group, order.get(choice.id, 0), choice.title.casefold(), choice.id)

    return sorted(choices, key=rank)


# -- actions ----------------------------------------------------------------------------
def _row(session: Session, row_id: int) -> MarketplaceListing:
    row = session.get(MarketplaceListing, row_id, with_for_update=True)
    if row is None:
        raise ListingNotFoundError(row_id)
    return row


def _decide(row: MarketplaceListing, decision: Decision) -> None:
    with_data(row, {DECIDED: decision.value, CANDIDATES: None})
    row.updated_at = utcnow()


def confirm_match(
    session: Session, row_id: int, product_id: int, *, replace: bool = False
) -> MarketplaceListing:
    """Link listing ``row_id`` to ``product_id`` (the seller's choice)."""
    row = _row(session, row_id)
    if session.get(Product, product_id) is None:
        raise ListingLinkError(f"Product {product_id} does not exist (deleted meanwhile?)")
    if row.product_id not in (None, product_id):
        raise ListingLinkError(
            f"This listing is already linked to product {row.product_id}: unlink it first"
        )
    current = listing_for(session, product_id, row.marketplace)
    if current is not None and current is not row:
        if not replace:
            raise ProductAlreadyListedError(product_id, row.marketplace, current)
        current.product_id = None
        with_data(current, {DECIDED: Decision.UNLINKED.value, MATCHED_BY: None})
        session.flush()
    row.product_id = product_id
    with_data(row, {MATCHED_BY: None})
    _decide(row, Decision.LINKED)
    session.flush()
    log.info("listing %d (%s) linked to product %d", row.id, row.marketplace, product_id)
    return row


def _text(value: Any, limit: int) -> str | None:
    text = " ".join(str(value).split()) if isinstance(value, str | int) else ""
    return text[:limit] or None


def _photo_urls(value: Any) -> list[str]:
    items: Iterable[Any] = value if isinstance(value, list | tuple) else ()
    urls = [str(u) for u in items if isinstance(u, str) and u.startswith(("https://", "http://"))]
    return list(dict.fromkeys(urls))[:_MAX_PHOTOS]


def import_as_product(session: Session, row_id: int) -> int:
    """Create a catalog product from unlinked listing ``row_id`` and link them; its id.

    A listing without a price gets price 0 and one without a quantity 1; the seller
    corrects them in the catalog. The SKU is kept unless another product uses it.
    """
    row = _row(session, row_id)
    if row.product_id is not None:
        raise ListingLinkError(f"This listing is already linked to product {row.product_id}")
    data: dict[str, Any] = row.data or {}
    name = DISPLAY.get(row.marketplace, row.marketplace)
    sku = _text(row.sku, _MAX_SKU)
    if sku is not None and session.scalar(select(Product.id).where(Product.sku == sku)):
        sku = None
    product = Product(
        title=_text(row.title, _MAX_TITLE) or f"{name} listing {row.listing_id or row.id}",
        price=max(Decimal(row.price), Decimal(0)) if row.price is not None else Decimal(0),
        currency=(row.currency or "EUR").upper()[:3],
        quantity=max(row.quantity, 0) if row.quantity is not None else 1,
        sku=sku,
        brand=_text(data.get("brand"), _MAX_BRAND),
        size=_text(data.get("size"), _MAX_SIZE),
        photos=_photo_urls(data.get("photo_urls")),
        created_at=utcnow(),
    )
    session.add(product)
    session.flush()
    row.product_id = product.id
    with_data(row, {MATCHED_BY: None})
    _decide(row, Decision.IMPORTED)
    session.flush()
    log.info("listing %d (%s) imported as product %d", row.id, row.marketplace, product.id)
    return product.id


def dismiss(session: Session, row_id: int) -> None:
    """Keep unlinked listing ``row_id`` unlinked and stop suggesting it."""
    row = _row(session, row_id)
    if row.product_id is not None:
        raise ListingLinkError(
            f"This listing is linked to product {row.product_id}: unlink it instead"
        )
    _decide(row, Decision.DISMISSED)
    session.flush()


def unlink(session: Session, row_id: int) -> None:
    """Remove the link of listing ``row_id``; no sync links it again by itself."""
    row = _row(session, row_id)
    row.product_id = None
    with_data(row, {MATCHED_BY: None})
    _decide(row, Decision.UNLINKED)
    session.flush()


class ListingReview:
    """The review actions of one seller, each in its own transaction (blocking)."""

    def __init__(self, db: Database, user_id: int = 1) -> None:
        self.db = db
        self.user_id = user_id

    def listings(
        self, marketplace: str | None = None, *, unmatched_only: bool = False
    ) -> list[ListingView]:
        """See :func:`listings`."""
        with self.db.session(self.user_id, readonly=True) as session:
            return listings(session, marketplace, unmatched_only=unmatched_only)

    def choices(self, row_id: int) -> list[ProductChoice]:
        """See :func:`product_choices`."""
        with self.db.session(self.user_id, readonly=True) as session:
            return product_choices(session, row_id)

    def confirm_match(self, row_id: int, product_id: int, *, replace: bool = False) -> int:
        """See :func:`confirm_match`; in the same transaction, the listing's orders that
        came in while it had no product become the product's sales
        (:func:`app.inventory.sales.record_linked_sales`: stock, delists, alerts).
        Returns how many sales that recorded."""
        from app.inventory.sales import finish_sales, record_linked_sales
        from app.marketplace.marketplace_job_service import MarketplaceJobService

        service = MarketplaceJobService(self.db, self.user_id)
        try:
            with self.db.session(self.user_id) as session, session.begin():
                row = confirm_match(session, row_id, product_id, replace=replace)
                outcome = record_linked_sales(session, row, service)
        except (OperationalError, IntegrityError, RetryableJobError) as exc:
            log.warning("linking listing %d was undone: %s", row_id, exc)
            raise ListingBusyError(
                "The listing was not linked: its orders were being recorded at the same "
                "time. Link it again."
            ) from exc
        try:
            finish_sales(outcome, service)
        except Exception:  # the link and the sales are committed; the follow-ups are extra
            log.exception("after linking listing %d", row_id)
        return outcome.sales

    def import_as_product(self, row_id: int) -> int:
        """See :func:`import_as_product`."""
        with self.db.session(self.user_id) as session, session.begin():
            return import_as_product(session, row_id)

    def dismiss(self, row_ids: Sequence[int]) -> None:
        """:func:`dismiss` each of ``row_ids``, all or none."""
        with self.db.session(self.user_id) as session, session.begin():
            for row_id in row_ids:
                dismiss(session, row_id)

    def unlink(self, row_id: int) -> None:
        """See :func:`unlink`."""
        with self.db.session(self.user_id) as session, session.begin():
            unlink(session, row_id)
