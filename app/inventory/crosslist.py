"""Cross-listing in bulk: products x marketplaces -> a priced preview -> one batch each.

:func:`plan` makes one :class:`PlanRow` per (product, marketplace): the price the
marketplace's :class:`~app.inventory.price_rules.PriceRule` gives, or why the product is
left out there (already listed, a publish job already waiting, out of stock, no photo for
Etsy or Vinted, a field the marketplace would refuse). :func:`create` queues one publish
batch per marketplace with :meth:`MarketplaceJobService.create_batch`: the marketplace's
fields are the batch's input, and each job carries its own ``price`` (the handlers list
it instead of the catalog price, :meth:`BaseJobHandler.listing_price`).

Creating twice makes no duplicate: :func:`create` looks again, just before queuing, for
listings and waiting publish jobs, and leaves those rows out with the reason; a job
identical to a waiting one is never queued twice by the service either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.store import EXISTING_STATES
from app.ebay.jobs import fields as ebay_fields
from app.etsy.jobs import fields as etsy_fields
from app.inventory.price_rules import PriceRule
from app.marketplace.fields import PRICE_KEY, FieldError, resolve_fields
from app.marketplace.job_forms import FIELDS
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.names import MARKETPLACE_NAMES
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job import ACTIVE_STATUSES, MarketplaceJob
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.product import Product
from app.vinted.fields import PRODUCT_FIELDS as VINTED_PRODUCT_FIELDS
from app.vinted.fields import product_defaults as vinted_product_defaults
from app.vinted.jobs.base import check_product as check_vinted_product

log = logging.getLogger("marketdesk.inventory")

#: The marketplaces in the order the window shows them and batches are made.
MARKETPLACES = ("ebay", "etsy", "vinted")
ACTION = "publish"
#: What each marketplace's publish handler refuses in a product (raises FieldError).
PRODUCT_CHECKS: dict[str, Callable[[Product], None]] = {
    "ebay": partial(ebay_fields.check_product, publishing=True),
    "etsy": partial(etsy_fields.check_product, publishing=True),
    "vinted": check_vinted_product,
}
#: Marketplaces whose publish uploads the product's photo files (at least one).
NEEDS_PHOTO = frozenset({"etsy", "vinted"})
#: Fields a product supplies itself when the batch leaves them empty.
PRODUCT_FIELDS: dict[str, tuple[str, ...]] = {"vinted": VINTED_PRODUCT_FIELDS}
_PRODUCT_DEFAULTS: dict[str, Callable[[Product], dict[str, Any]]] = {
    "vinted": vinted_product_defaults
}
Pair = tuple[int, str]


@dataclass(frozen=True)
class PlanRow:
    """One product on one marketplace: the price it would be listed at, or why not."""

    product_id: int
    title: str
    marketplace: str
    currency: str
    catalog_price: Decimal
    price: Decimal
    #: Why the product is left out on this marketplace (None: it is cross-listed).
    skip: str | None = None

    @property
    def included(self) -> bool:
        """True when the product is cross-listed on the marketplace."""
        return self.skip is None


@dataclass
class Inputs:
    """What :func:`plan` needs from the database, read by :func:`load_inputs`."""

    products: list[Product] = field(default_factory=list)
    #: (product id, marketplace) -> listing state, for listings not deleted.
    listed: dict[Pair, str] = field(default_factory=dict)
    #: (product id, marketplace) with a publish job waiting or running.
    queued: set[Pair] = field(default_factory=set)


@dataclass(frozen=True)
class CreatedBatch:
    """The publish batch :func:`create` queued on one marketplace."""

    marketplace: str
    batch_id: int
    #: Jobs new in the batch (a job identical to a waiting one is not queued again).
    total: int
    #: Product id -> its publish job (new, or the identical one already waiting).
    job_ids: dict[int, int]


@dataclass
class Created:
    """What :func:`create` did: the batches, and the rows left out at the last moment."""

    batches: list[CreatedBatch] = field(default_factory=list)
    skipped: list[PlanRow] = field(default_factory=list)


def load_inputs(session: Session, product_ids: Sequence[int]) -> Inputs:
    """The products (in ``product_ids``' order), their listings and waiting publish jobs."""
    ids = list(dict.fromkeys(product_ids))
    found = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(ids)))}
    inputs = Inputs(products=[found[i] for i in ids if i in found])
    inputs.listed, inputs.queued = _listed_and_queued(session, ids)
    return inputs


def _listed_and_queued(session: Session, ids: Sequence[int]) -> tuple[dict[Pair, str], set[Pair]]:
    listings = session.execute(
        select(
            MarketplaceListing.product_id, MarketplaceListing.marketplace, MarketplaceListing.state
        ).where(MarketplaceListing.product_id.in_(ids))
    )
    listed = {(int(pid), str(mp)): str(state) for pid, mp, state in listings if pid is not None}
    jobs = session.execute(
        select(MarketplaceJob.product_id, MarketplaceJob.marketplace)
        .join(MarketplaceActionType, MarketplaceActionType.id == MarketplaceJob.action_type_id)
        .where(
            MarketplaceJob.product_id.in_(ids),
            MarketplaceActionType.code == ACTION,
            MarketplaceJob.status.in_([s.value for s in ACTIVE_STATUSES]),
        )
    )
    queued = {(int(pid), str(mp)) for pid, mp in jobs if pid is not None}
    return listed, queued


def _has_photo_file(product: Product) -> bool:
    return any(
        isinstance(entry, str) and entry and not entry.startswith(("http://", "https://"))
        for entry in product.photos or ()
    )


def _problems(problems: Mapping[str, str]) -> str:
    return "; ".join(f"{name}: {message}" for name, message in problems.items())


def product_field_problem(
    marketplace: str, product: Product, fields: Mapping[str, Any] | None
) -> str | None:
    """What is missing in the fields a product supplies itself (Vinted's condition) when
    the batch's ``fields`` leave them empty; None when the product is fine."""
    own = PRODUCT_FIELDS.get(marketplace, ())
    if not own or fields is None:
        return None
    specs = [spec for spec in FIELDS[marketplace] if spec.name in own]
    try:
        resolve_fields(
            MARKETPLACE_NAMES[marketplace], specs, fields, _PRODUCT_DEFAULTS[marketplace](product)
        )
    except FieldError as exc:
        return _problems(exc.problems) + " (set it on the product or in the batch's fields)"
    return None


def _taken(marketplace: str, listed_state: str | None, queued: bool) -> str | None:
    """Why the product's place on ``marketplace`` is taken (listed, or a publish waits)."""
    name = MARKETPLACE_NAMES[marketplace]
    if listed_state is not None and listed_state in EXISTING_STATES:
        return f"already on {name} ({listed_state})"
    if queued:
        return f"a publish job is already waiting on {name}"
    return None


def batch_fields(
    marketplace: str, values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A batch's input from the window's field values (FieldError names each bad field).

    Empty fields fall back to the seller's defaults, which are written into the input
    like the new-job form does; fields a product supplies itself (Vinted's brand, size,
    condition) may stay empty, and each product's own is used.
    """
    own = PRODUCT_FIELDS.get(marketplace, ())
    specs = [replace(s, required=False) if s.name in own else s for s in FIELDS[marketplace]]
    given = {name: value for name, value in values.items() if value not in (None, "")}
    return resolve_fields(MARKETPLACE_NAMES[marketplace], specs, given, defaults)


def skip_reason(
    product: Product,
    marketplace: str,
    *,
    listed_state: str | None = None,
    queued: bool = False,
    fields: Mapping[str, Any] | None = None,
) -> str | None:
    """Why ``product`` cannot be cross-listed on ``marketplace`` (None: it can)."""
    taken = _taken(marketplace, listed_state, queued)
    if taken is not None:
        return taken
    name = MARKETPLACE_NAMES[marketplace]
    if product.quantity < 1:
        return "out of stock (quantity 0)"
    if marketplace in NEEDS_PHOTO and not _has_photo_file(product):
        return f"{name} needs at least one photo"
    try:
        PRODUCT_CHECKS[marketplace](product)
    except FieldError as exc:
        return _problems(exc.problems)
    return product_field_problem(marketplace, product, fields)


def plan(
    products: Iterable[Product],
    marketplaces: Iterable[str],
    rules: Mapping[str, PriceRule],
    listed: Mapping[Pair, str],
    *,
    queued: Collection[Pair] = (),
    fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[PlanRow]:
    """The preview: one row per product and marketplace (product by product, the
    marketplaces in :data:`MARKETPLACES` order), priced by the marketplace's rule (no
    rule: the catalog price). ``fields`` (per marketplace), when given, lets rows whose
    product lacks a field it must supply itself be left out with the reason."""
    chosen = [m for m in MARKETPLACES if m in set(marketplaces)]
    rows: list[PlanRow] = []
    for product in products:
        catalog = Decimal(product.price)
        for marketplace in chosen:
            price = rules.get(marketplace, PriceRule()).apply(catalog)
            pair = (product.id, marketplace)
            skip = skip_reason(
                product,
                marketplace,
                listed_state=listed.get(pair),
                queued=pair in queued,
                fields=fields.get(marketplace) if fields is not None else None,
            )
            if skip is None and price <= 0:
                skip = f"the price rule gives {price:.2f}"
            rows.append(
                PlanRow(
                    product_id=product.id,
                    title=product.title,
                    marketplace=marketplace,
                    currency=product.currency,
                    catalog_price=catalog,
                    price=price,
                    skip=skip,
                )
            )
    return rows


def create(
    service: MarketplaceJobService,
    rows: Iterable[PlanRow],
    fields_per_marketplace: Mapping[str, Mapping[str, Any]],
    *,
    priority: int | None = None,
) -> Created:
    """Queue one publish batch per marketplace for the rows cross-listed (blocking: run
    it off the event loop). Each job's input is the marketplace's fields plus its
    ``price``. Rows listed or queued since the preview are left out, with the reason."""
    chosen = [row for row in rows if row.included]
    result = Created()
    if not chosen:
        return result
    with service.db.session(service.user_id, readonly=True) as session:
        listed, queued = _listed_and_queued(session, sorted({r.product_id for r in chosen}))
    for marketplace in MARKETPLACES:
        mine: list[PlanRow] = []
        for row in (r for r in chosen if r.marketplace == marketplace):
            pair = (row.product_id, marketplace)
            state = listed.get(pair)
            late = _taken(marketplace, state, pair in queued)
            if late is not None:
                result.skipped.append(replace(row, skip=late))
            else:
                mine.append(row)
        if not mine:
            continue
        batch, jobs = service.create_batch(
            marketplace,
            ACTION,
            [row.product_id for row in mine],
            priority,
            dict(fields_per_marketplace.get(marketplace) or {}) or None,
            per_product={row.product_id: {PRICE_KEY: f"{row.price:.2f}"} for row in mine},
        )
        job_ids = {int(job.product_id or 0): job.id for job in jobs}
        result.batches.append(CreatedBatch(marketplace, batch.id, batch.total_count, job_ids))
        log.info(
            "cross-listing: batch %s on %s, %s new publish job(s) of %s",
            batch.id,
            marketplace,
            batch.total_count,
            len(mine),
        )
    return result
