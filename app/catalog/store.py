"""The catalog in the database: list, create, update and delete products.

Every change is one transaction and is guarded: a SKU already used by another product is
refused with the product that uses it, an update of a product changed meanwhile is
refused when the caller says what it loaded, and a product that is still listed on a
marketplace or that a waiting or running job works on cannot be deleted. Photos chosen
by the seller are copied into the product's folder inside the same transaction; if the
transaction fails, the copies are removed again, and photos dropped from a product are
deleted only after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog import photos as photo_files
from app.catalog.validation import (
    DuplicateSkuError,
    PhotoError,
    ProductChangedError,
    ProductInput,
    ProductInUseError,
    ProductNotFoundError,
    ProductValidationError,
    ProductValues,
)
from app.db import Database, utcnow
from app.marketplace.job_forms import DISPLAY
from app.models.user.marketplace_job import ACTIVE_STATUSES, MarketplaceJob
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.product import Product

log = logging.getLogger("marketdesk.catalog")

#: Listing states that mean "still on the marketplace" (a delete would orphan them; a
#: cross-listing skips them). Unlike :data:`app.marketplace.listings.LIVE_STATES` (for sale,
#: or can be again by itself), a sold-out eBay listing counts: it exists, and an update
#: with a new quantity revives it.
EXISTING_STATES = frozenset(
    {ListingState.DRAFT, ListingState.ACTIVE, ListingState.INACTIVE, ListingState.SOLD_OUT}
)
_SKU_CHUNK = 500


@dataclass(frozen=True)
class ListingInfo:
    """Where a product is listed, as last seen."""

    marketplace: str
    state: str

    def __str__(self) -> str:
        """``"eBay: active"``, ``"Etsy: sold out"``."""
        state = self.state.replace("_", " ")
        return f"{DISPLAY.get(self.marketplace, self.marketplace)}: {state}"


@dataclass(frozen=True)
class ProductRow:
    """A product as the window shows it, with its listings (not ``deleted`` ones)."""

    id: int
    title: str
    price: Decimal
    currency: str
    quantity: int
    sku: str | None
    brand: str | None
    size: str | None
    condition: str | None
    description: str | None
    photos: tuple[str, ...]
    created_at: datetime
    updated_at: datetime | None
    listings: tuple[ListingInfo, ...] = ()

    @property
    def listed_on(self) -> str:
        """``"eBay: active, Vinted: draft"`` (empty when listed nowhere)."""
        return ", ".join(str(listing) for listing in self.listings)

    def values(self) -> ProductValues:
        """The editable values."""
        return ProductValues(
            title=self.title,
            price=self.price,
            description=self.description,
            currency=self.currency,
            quantity=self.quantity,
            sku=self.sku,
            brand=self.brand,
            size=self.size,
            condition=self.condition,
            photos=self.photos,
        )

    def as_input(self) -> ProductInput:
        """The values as the editor shows them."""
        return self.values().as_input()


def _row(product: Product, listings: Iterable[ListingInfo] = ()) -> ProductRow:
    return ProductRow(
        id=product.id,
        title=product.title,
        price=Decimal(product.price),
        currency=product.currency,
        quantity=product.quantity,
        sku=product.sku,
        brand=product.brand,
        size=product.size,
        condition=product.condition,
        description=product.description,
        photos=tuple(str(p) for p in product.photos or ()),
        created_at=product.created_at,
        updated_at=product.updated_at,
        listings=tuple(listings),
    )


def _apply(product: Product, values: ProductValues) -> None:
    product.title = values.title
    product.description = values.description
    product.price = values.price
    product.currency = values.currency
    product.quantity = values.quantity
    product.sku = values.sku
    product.brand = values.brand
    product.size = values.size
    product.condition = values.condition


class CatalogStore:
    """The products of one seller (``photos_dir`` is needed to add or delete photos)."""

    def __init__(self, db: Database, photos_dir: Path | None = None, user_id: int = 1) -> None:
        self.db = db
        self.photos_dir = photos_dir
        self.user_id = user_id

    # -- reading ------------------------------------------------------------------------
    def _listed(self, product_ids: Sequence[int] | None = None) -> list[ProductRow]:
        """Products with their listings, in one query (a LEFT JOIN), by id."""
        stmt = (
            select(Product, MarketplaceListing.marketplace, MarketplaceListing.state)
            .outerjoin(
                MarketplaceListing,
                and_(
                    MarketplaceListing.product_id == Product.id,
                    MarketplaceListing.state != ListingState.DELETED.value,
                ),
            )
            .order_by(Product.id, MarketplaceListing.marketplace)
        )
        if product_ids is not None:
            stmt = stmt.where(Product.id.in_(list(product_ids)))
        products: dict[int, Product] = {}
        listings: dict[int, list[ListingInfo]] = {}
        with self.db.session(self.user_id, readonly=True) as session:
            for product, marketplace, state in session.execute(stmt):
                products.setdefault(product.id, product)
                found = listings.setdefault(product.id, [])
                if marketplace is not None:
                    found.append(ListingInfo(str(marketplace), str(state)))
        return [_row(product, listings[pid]) for pid, product in products.items()]

    def list_products(self) -> list[ProductRow]:
        """Every product, by id, with where it is listed."""
        return self._listed()

    def get(self, product_id: int) -> ProductRow:
        """One product (:class:`ProductNotFoundError` when there is none)."""
        rows = self._listed([product_id])
        if not rows:
            raise ProductNotFoundError(product_id)
        return rows[0]

    def count(self) -> int:
        """How many products the catalog holds."""
        with self.db.session(self.user_id, readonly=True) as session:
            return int(session.scalar(select(func.count()).select_from(Product)) or 0)

    def sku_owners(self, skus: Iterable[str], session: Session | None = None) -> dict[str, int]:
        """Which product already uses each of ``skus`` (only those used), in few queries."""
        wanted = sorted({sku for sku in skus if sku})
        owners: dict[str, int] = {}
        if not wanted:
            return owners
        if session is None:
            with self.db.session(self.user_id, readonly=True) as own:
                return self.sku_owners(wanted, own)
        for start in range(0, len(wanted), _SKU_CHUNK):
            chunk = wanted[start : start + _SKU_CHUNK]
            for sku, pid in session.execute(
                select(Product.sku, Product.id).where(Product.sku.in_(chunk))
            ):
                owners[str(sku)] = int(pid)
        return owners

    def sku_owner(self, sku: str, *, exclude: int | None = None) -> int | None:
        """The product using ``sku`` (other than ``exclude``), or None."""
        owner = self.sku_owners([sku]).get(sku)
        return None if owner == exclude else owner

    # -- photos -------------------------------------------------------------------------
    def _photos_dir(self) -> Path:
        if self.photos_dir is None:
            raise PhotoError("No photos folder is set: photos cannot be added or removed")
        return self.photos_dir

    def _store_photos(
        self, product_id: int, wanted: Sequence[str], kept: Sequence[str], copied: list[str]
    ) -> list[str]:
        """The product's new photo list: ``kept`` entries stay, new files are copied.

        ``copied`` receives the stored paths of the new copies (to undo on failure).
        """
        final: list[str] = []
        sources: dict[int, Path] = {}
        for index, entry in enumerate(wanted):
            if entry in kept or photo_files.is_url(entry):
                final.append(entry)
                continue
            path = photo_files.resolve(self.photos_dir, entry)
            if path is None:  # pragma: no cover - is_url handled above
                continue
            sources[index] = path
            final.append(entry)
        if sources:
            stored = photo_files.copy_photos(
                self._photos_dir(),
                product_id,
                list(sources.values()),
                already=len(final) - len(sources),
            )
            copied.extend(stored)
            for index, new in zip(sources, stored, strict=True):
                final[index] = new
        return final

    def _undo_copies(self, product_id: int, copied: Sequence[str]) -> None:
        if copied and self.photos_dir is not None:
            photo_files.remove_photos(self.photos_dir, product_id, copied)

    # -- changes ------------------------------------------------------------------------
    def _check_skus(
        self, session: Session, pairs: Sequence[tuple[ProductValues, int | None]]
    ) -> None:
        """Refuse SKUs used by another product, or twice among ``pairs``."""
        seen: dict[str, int | None] = {}
        for values, own in pairs:
            if values.sku is None:
                continue
            if values.sku in seen:
                raise ProductValidationError({"sku": f"{values.sku} is given twice"})
            seen[values.sku] = own
        owners = self.sku_owners(seen, session)
        for sku, own in seen.items():
            owner = owners.get(sku)
            if owner is not None and owner != own:
                raise DuplicateSkuError(sku, owner)

    def _duplicate_from(
        self, exc: IntegrityError, skus: Iterable[str | None], exclude: int | None = None
    ) -> Exception:
        """An IntegrityError raised by a SKU taken meanwhile, in the seller's words."""
        owners = self.sku_owners(sku for sku in skus if sku)
        for sku, owner in owners.items():
            if owner != exclude:
                return DuplicateSkuError(sku, owner)
        return exc

    def create(self, values: ProductValues) -> ProductRow:
        """Add one product (photos given as local files are copied into its folder)."""
        return self.get(self.create_many([values])[0])

    def create_many(self, items: Sequence[ProductValues]) -> list[int]:
        """Add products in one transaction: all of them, or none (and no photo left)."""
        copied: dict[int, list[str]] = {}
        try:
            with self.db.session(self.user_id) as session, session.begin():
                self._check_skus(session, [(values, None) for values in items])
                products = [Product(photos=[]) for _ in items]
                for product, values in zip(products, items, strict=True):
                    _apply(product, values)
                    product.created_at = utcnow()
                session.add_all(products)
                session.flush()
                for product, values in zip(products, items, strict=True):
                    if values.photos:
                        done = copied.setdefault(product.id, [])
                        product.photos = self._store_photos(product.id, values.photos, (), done)
                ids = [product.id for product in products]
        except IntegrityError as exc:
            self._undo_all(copied)
            raise self._duplicate_from(exc, (v.sku for v in items)) from exc
        except BaseException:
            self._undo_all(copied)
            raise
        log.info("created %d product(s): %s", len(ids), ids[:20])
        return ids

    def _undo_all(self, copied: dict[int, list[str]]) -> None:
        for product_id, stored in copied.items():
            self._undo_copies(product_id, stored)

    def update(
        self, product_id: int, values: ProductValues, *, base: ProductRow | None = None
    ) -> ProductRow:
        """Change a product.

        ``base`` is the product as the caller loaded it: when given, the update is refused
        (:class:`ProductChangedError`) if the product was changed since. Photos no longer
        in ``values.photos`` are deleted after the commit.
        """
        copied: list[str] = []
        try:
            with self.db.session(self.user_id) as session, session.begin():
                product = session.get(Product, product_id, with_for_update=True)
                if product is None:
                    raise ProductNotFoundError(product_id)
                if base is not None and product.updated_at != base.updated_at:
                    raise ProductChangedError(
                        f"Product {product_id} was changed elsewhere since it was opened; "
                        "close the editor and open it again"
                    )
                self._check_skus(session, [(values, product_id)])
                before = [str(p) for p in product.photos or ()]
                _apply(product, values)
                product.photos = self._store_photos(product_id, values.photos, before, copied)
                product.updated_at = utcnow()
                dropped = [p for p in before if p not in product.photos]
        except IntegrityError as exc:
            self._undo_copies(product_id, copied)
            raise self._duplicate_from(exc, [values.sku], product_id) from exc
        except BaseException:
            self._undo_copies(product_id, copied)
            raise
        if dropped and self.photos_dir is not None:
            photo_files.remove_photos(self.photos_dir, product_id, dropped)
        log.info("updated product %d", product_id)
        return self.get(product_id)

    def delete(self, *product_ids: int) -> None:
        """Delete products and their photos, all or none.

        Refused (:class:`ProductInUseError`, nothing deleted) while one of them is still
        listed (draft, active, inactive or sold out) or a job waits or runs for it.
        """
        ids = sorted(set(product_ids))
        if not ids:
            return
        with self.db.session(self.user_id) as session, session.begin():
            found = set(session.scalars(select(Product.id).where(Product.id.in_(ids))))
            for product_id in ids:
                if product_id not in found:
                    raise ProductNotFoundError(product_id)
            problems = self._uses(session, ids)
            if problems:
                raise ProductInUseError("; ".join(problems))
            for product_id in ids:
                product = session.get(Product, product_id)
                if product is not None:
                    session.delete(product)
        if self.photos_dir is not None:
            for product_id in ids:
                photo_files.remove_product_photos(self.photos_dir, product_id)
        log.info("deleted product(s) %s", ids)

    @staticmethod
    def _uses(session: Session, ids: Sequence[int]) -> list[str]:
        problems: list[str] = []
        listed = session.execute(
            select(
                MarketplaceListing.product_id,
                MarketplaceListing.marketplace,
                MarketplaceListing.state,
            )
            .where(MarketplaceListing.product_id.in_(ids))
            .where(MarketplaceListing.state.in_([s.value for s in EXISTING_STATES]))
            .order_by(MarketplaceListing.product_id, MarketplaceListing.marketplace)
        )
        for pid, marketplace, state in listed:
            name = DISPLAY.get(str(marketplace), str(marketplace))
            problems.append(
                f"product {pid} is still listed on {name} ({state}): end or delete that "
                "listing first"
            )
        jobs = session.execute(
            select(MarketplaceJob.product_id, MarketplaceJob.id, MarketplaceJob.status)
            .where(MarketplaceJob.product_id.in_(ids))
            .where(MarketplaceJob.status.in_([s.value for s in ACTIVE_STATUSES]))
            .order_by(MarketplaceJob.product_id, MarketplaceJob.id)
        )
        for pid, job_id, status in jobs:
            problems.append(
                f"product {pid} has job {job_id} {status}: wait for it or cancel it first"
            )
        return problems
