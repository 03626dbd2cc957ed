"""A sale seen by an order sync: the catalog's quantity, the record, the other listings.

:func:`record_sales` runs inside the order sync's own transaction (the one that stores
the order lines and the cursor), for the lines stored for the first time, so a sale is
acted on exactly once however often the orders are read again. Per line sold of a
catalog product:

1. the product's quantity goes down by the quantity sold, never below 0 (a guarded
   compare-and-set UPDATE, repeated if another transaction changed it meanwhile);
2. a ``sales`` row records it, with the quantity before and after. It is an
   **oversell** when the product had fewer units left than were sold. When it had none
   left at all, the sale that took the last unit is flagged too: two buyers wait for
   one item (typically two marketplaces sold it in the same sync window);
3. the product's other live listings are followed up: at quantity 0 a ``delete`` job at
   priority 1 each, else an ``update`` job (priority 2) on the marketplaces whose
   listings carry a quantity (eBay, Etsy; a Vinted item is one unit and stays). Each job
   has ``input_data = {"auto_delist": <sale id>}`` (plus the listing's current price, so
   a quantity update keeps a cross-listing price) and the idempotency key
   ``auto-delist:<sale id>:<marketplace>``. A delete already queued for that listing, or
   an update not yet started, is shared instead of queueing a second one.

Lines not sold after the product entered the catalog (give or take
:data:`CLOCK_TOLERANCE`) are history read by a first sync, not sales to act on; lines
already cancelled or refunded are skipped (:func:`app.marketplace.orders.is_void`; a
sale whose line is cancelled or refunded later is voided by :mod:`app.inventory.voids`).
After the commit :func:`finish_sales` cancels waiting publish jobs of products that sold
out and publishes the events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.events import EventBus, JobCreated, SaleAlert
from app.marketplace.action_types import find_action_type
from app.marketplace.errors import JobStateError, RetryableJobError
from app.marketplace.fields import PRICE_KEY
from app.marketplace.listings import LIVE_STATES
from app.marketplace.names import MARKETPLACE_NAMES
from app.marketplace.orders import OrderLine, is_void, order_line_of
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job import JobStatus, MarketplaceJob
from app.models.user.marketplace_listing import ListingState, MarketplaceListing
from app.models.user.order import Order
from app.models.user.product import Product
from app.models.user.sale import Sale, SaleStatus

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_service import MarketplaceJobService

log = logging.getLogger("marketdesk.inventory")

#: How long before the product entered the catalog a line may have sold and still count
#: (clocks differ; Etsy's times are whole seconds).
CLOCK_TOLERANCE = timedelta(seconds=60)
#: Marketplaces whose listings hold a quantity (a Vinted item is a single unit).
QUANTITY_MARKETPLACES = frozenset({"ebay", "etsy"})
DELIST_PRIORITY = 1
UPDATE_PRIORITY = 2
#: The ``input_data`` key that ties a follow-up job to its sale.
SALE_KEY = "auto_delist"
#: A line that gets its product later (its listing linked, its SKU given) is a sale only
#: when ordered within this many days.
LINKED_SALE_DAYS = 30
_TAKE_ATTEMPTS = 5

products = cast(Table, Product.__table__)


def delist_key(sale_id: int, marketplace: str) -> str:
    """The idempotency key of a sale's follow-up job on ``marketplace``."""
    return f"auto-delist:{sale_id}:{marketplace}"


def name_of(marketplace: str) -> str:
    """The marketplace as the seller reads it."""
    return MARKETPLACE_NAMES.get(marketplace, marketplace)


@dataclass
class SalesOutcome:
    """What :func:`record_sales` did, and what is left for after the commit."""

    user_id: int = 1
    sales: int = 0
    oversells: int = 0
    delist_jobs: int = 0
    update_jobs: int = 0
    created: list[tuple[int, str]] = field(default_factory=list)
    alerts: list[SaleAlert] = field(default_factory=list)
    #: Products that sold out: their waiting publish jobs are cancelled after the commit.
    sold_out: set[int] = field(default_factory=set)

    def as_result(self) -> dict[str, int]:
        """For the order sync's job result."""
        return {
            "sales": self.sales,
            "oversells": self.oversells,
            "delist_jobs": self.delist_jobs,
            "update_jobs": self.update_jobs,
        }


def _known_since(session: Session, marketplace: str, line: OrderLine, product: Product) -> datetime:
    """Since when Marketdesk knows the product on that marketplace: the later of the
    product's creation and its listing row's (a first sync, or a listing imported or
    linked today, reads older orders: history, not sales to act on)."""
    since = product.created_at
    if line.listing_id is not None:
        listed = session.scalars(
            select(MarketplaceListing.created_at).where(
                MarketplaceListing.marketplace == marketplace,
                MarketplaceListing.listing_id == line.listing_id,
            )
        ).first()
        if listed is not None and listed > since:
            since = listed
    return since


def record_sales(
    session: Session,
    marketplace: str,
    new_lines: Iterable[tuple[OrderLine, int | None]],
    service: MarketplaceJobService,
    linked_lines: Iterable[tuple[OrderLine, int | None]] = (),
) -> SalesOutcome:
    """Record the sales among an order sync's new lines and queue their follow-up jobs.

    ``linked_lines`` are lines stored earlier without a product that have one now: they
    count only when ordered within :data:`LINKED_SALE_DAYS` (what they say about an older
    order, a cancellation since, say, may be stale).
    """
    recorder = _Recorder(session, marketplace, service)
    now = recorder.now
    counted = [
        (line, product_id)
        for line, product_id in [
            *new_lines,
            *_recent_unrecorded(session, marketplace, linked_lines, now),
        ]
        if product_id is not None and line.quantity > 0 and not is_void(line.status)
    ]
    counted.sort(key=lambda item: (item[0].ordered_at or now, item[0].order_id, item[0].line_id))
    for line, product_id in counted:
        assert product_id is not None
        product = session.get(Product, product_id)
        if product is None:
            continue
        since = _known_since(session, marketplace, line, product)
        if line.ordered_at is not None and line.ordered_at < since - CLOCK_TOLERANCE:
            log.info(
                "%s order %s sold before product %s or its listing was known to Marketdesk: "
                "history, not a sale",
                marketplace,
                line.order_id,
                product_id,
            )
            continue
        recorder.record(line, product)
    return recorder.outcome


def _recent_unrecorded(
    session: Session,
    marketplace: str,
    linked_lines: Iterable[tuple[OrderLine, int | None]],
    now: datetime,
) -> list[tuple[OrderLine, int | None]]:
    """The lines that got their product later and may be sales: ordered within
    :data:`LINKED_SALE_DAYS`, and not recorded as a sale already (a new line cannot be,
    a line linked later may have been, for the product it had before)."""
    oldest = now - timedelta(days=LINKED_SALE_DAYS)
    recent = []
    for line, product_id in linked_lines:
        if line.ordered_at is not None and line.ordered_at >= oldest:
            recent.append((line, product_id))
        else:
            log.info(
                "%s order %s got its product after %d days or more: history, not a sale",
                marketplace,
                line.order_id,
                LINKED_SALE_DAYS,
            )
    if not recent:
        return []
    recorded = {
        (order_id, line_id)
        for order_id, line_id in session.execute(
            select(Sale.order_id, Sale.line_id).where(
                Sale.marketplace == marketplace,
                Sale.order_id.in_({line.order_id for line, _p in recent}),
            )
        )
    }
    return [item for item in recent if (item[0].order_id, item[0].line_id) not in recorded]


def record_linked_sales(
    session: Session, listing: MarketplaceListing, service: MarketplaceJobService
) -> SalesOutcome:
    """``listing`` was just linked to a product (the seller's choice): its stored order
    lines without a product become the product's, and those sold since Marketdesk knew
    the listing (and within :data:`LINKED_SALE_DAYS`) are recorded as sales, with their
    follow-up jobs, as an order sync would have done had the link been there. Older
    lines stay history."""
    if listing.product_id is None or listing.listing_id is None:
        return SalesOutcome(user_id=service.user_id)
    rows = session.scalars(
        select(Order)
        .where(
            Order.marketplace == listing.marketplace,
            Order.listing_id == listing.listing_id,
            Order.product_id.is_(None),
        )
        .order_by(Order.id)
    ).all()
    for row in rows:
        row.product_id = listing.product_id
    session.flush()
    lines = [(order_line_of(row), listing.product_id) for row in rows]
    return record_sales(session, listing.marketplace, (), service, linked_lines=lines)


class _Recorder:
    """Records the sales of one order sync inside its transaction."""

    def __init__(self, session: Session, marketplace: str, service: MarketplaceJobService) -> None:
        self.session = session
        self.marketplace = marketplace
        self.service = service
        self.outcome = SalesOutcome(user_id=service.user_id)
        self.now = utcnow()

    def take(self, product_id: int, quantity: int) -> tuple[int, int]:
        """Lower the product's quantity by ``quantity`` (not below 0): (before, after)."""
        session = self.session
        for _ in range(_TAKE_ATTEMPTS):
            before = session.scalar(select(products.c.quantity).where(products.c.id == product_id))
            if before is None:
                raise RetryableJobError(
                    f"Product {product_id} vanished while its sale was recorded"
                )
            after = max(before - quantity, 0)
            changed = session.execute(
                update(products)
                .where(products.c.id == product_id, products.c.quantity == before)
                .values(quantity=after, updated_at=self.now)
                .returning(products.c.id)
            ).first()
            if changed is not None:
                return before, after
        raise RetryableJobError(f"The quantity of product {product_id} kept changing; trying again")

    def record(self, line: OrderLine, product: Product) -> None:
        """One sale: quantity, record, oversell, follow-up jobs."""
        session, outcome, now = self.session, self.outcome, self.now
        before, after = self.take(product.id, line.quantity)
        session.refresh(product, ["quantity"])
        sale = Sale(
            marketplace=self.marketplace,
            order_id=line.order_id,
            line_id=line.line_id,
            product_id=product.id,
            quantity=line.quantity,
            sold_at=line.ordered_at or now,
            detected_at=now,
            quantity_before=before,
            quantity_after=after,
            oversell=before < line.quantity,
            status=SaleStatus.RECORDED,
            actions=[],
        )
        session.add(sale)
        session.flush()
        outcome.sales += 1
        where = f"{name_of(self.marketplace)} order {line.order_id}"
        log.info(
            "sale %s: %s sold %d of product %s (%d -> %d)",
            sale.id,
            where,
            line.quantity,
            product.id,
            before,
            after,
        )
        if sale.oversell:
            outcome.oversells += 1
            self.flag_oversell(sale, product, where)
        if after == 0:
            outcome.sold_out.add(product.id)
        self.mark_sold_listing(product.id, after)
        actions = self.follow_up(sale, product, after)
        if actions:
            sale.actions = actions
            sale.status = SaleStatus.DELISTING
            sale.updated_at = now
        session.flush()

    def flag_oversell(self, sale: Sale, product: Product, where: str) -> None:
        """Flag ``sale`` and, when nothing was left, the sale that took the last unit."""
        left = f"only {sale.quantity_before} left" if sale.quantity_before else "none left"
        sale.message = (
            f"Oversold: {where} bought {sale.quantity} of “{product.title}” with {left}. "
            "Cancel one order or find another item"
        )
        flagged = [sale]
        if sale.quantity_before == 0:
            partner = self.session.scalars(
                select(Sale)
                .where(
                    Sale.product_id == product.id,
                    Sale.id != sale.id,
                    Sale.quantity_before > 0,
                    Sale.quantity_after == 0,
                    Sale.status != SaleStatus.VOIDED,  # its order was cancelled: no buyer
                )
                .order_by(Sale.id.desc())
                .limit(1)
            ).first()
            if partner is not None and not partner.oversell:
                partner.oversell = True
                partner.message = (
                    f"Oversold: “{product.title}” sold here (order {partner.order_id}) and "
                    f"again on {where}. Cancel one order or find another item"
                )
                partner.updated_at = self.now
                flagged.append(partner)
        for one in flagged:
            message = one.message or ""
            self.outcome.alerts.append(
                SaleAlert(
                    one.id, product.id, one.marketplace, "oversell", message, self.outcome.user_id
                )
            )
            log.warning("sale %s: %s", one.id, message)

    def mark_sold_listing(self, product_id: int, after: int) -> None:
        """The listing that sold is gone when the product is (a Vinted item always is)."""
        if after > 0 and self.marketplace in QUANTITY_MARKETPLACES:
            return
        self.session.execute(
            update(MarketplaceListing)
            .where(
                MarketplaceListing.product_id == product_id,
                MarketplaceListing.marketplace == self.marketplace,
                MarketplaceListing.state == ListingState.ACTIVE,
            )
            .values(state=ListingState.SOLD_OUT, updated_at=self.now)
        )

    def follow_up(self, sale: Sale, product: Product, after: int) -> list[dict[str, Any]]:
        """Queue (or share) the delete or update job of each other live listing."""
        listings = self.session.scalars(
            select(MarketplaceListing)
            .where(
                MarketplaceListing.product_id == product.id,
                MarketplaceListing.marketplace != sale.marketplace,
                MarketplaceListing.state.in_(LIVE_STATES),
                MarketplaceListing.listing_id.is_not(None),
            )
            .order_by(MarketplaceListing.marketplace)
        ).all()
        actions: list[dict[str, Any]] = []
        for listing in listings:
            if after == 0:
                code = "delete"
            elif listing.marketplace in QUANTITY_MARKETPLACES:
                code = "update"
            else:
                continue
            reused = self.queued(product.id, listing.marketplace, code)
            job_id = reused if reused is not None else self.queue(sale, listing, code)
            actions.append({"job_id": job_id, "marketplace": listing.marketplace, "action": code})
            log.info(
                "sale %s: %s job %s on %s%s",
                sale.id,
                code,
                job_id,
                listing.marketplace,
                " (already queued)" if reused is not None else "",
            )
        return actions

    def queue(self, sale: Sale, listing: MarketplaceListing, code: str) -> int:
        """A new follow-up job (delete at priority 1, update at 2); its id."""
        data: dict[str, Any] = {SALE_KEY: sale.id}
        if code == "update" and listing.price is not None:
            data[PRICE_KEY] = str(listing.price)
        job, created = self.service._create(
            self.session,
            marketplace=listing.marketplace,
            action_code=code,
            product_id=sale.product_id,
            priority=DELIST_PRIORITY if code == "delete" else UPDATE_PRIORITY,
            input_data=data,
            key=delist_key(sale.id, listing.marketplace),
        )
        if created:
            self.outcome.created.append((job.id, listing.marketplace))
        if code == "delete":
            self.outcome.delist_jobs += 1
        else:
            self.outcome.update_jobs += 1
        return job.id

    def queued(self, product_id: int, marketplace: str, code: str) -> int | None:
        """A job that already does the follow-up: a queued or running delete of the
        listing, or an update that has not started (it will read the new quantity)."""
        action = find_action_type(self.session, marketplace, code)
        # only a job that runs now: not one the seller paused or scheduled for later
        runs_now = or_(
            MarketplaceJob.status == JobStatus.RUNNING.value,
            and_(
                MarketplaceJob.status == JobStatus.PENDING.value,
                MarketplaceJob.run_at <= self.now,
                MarketplaceJob.priority <= (DELIST_PRIORITY if code == "delete" else 2),
            ),
        )
        if code != "delete":
            runs_now = and_(MarketplaceJob.status == JobStatus.PENDING.value, runs_now)
        return self.session.scalars(
            select(MarketplaceJob.id)
            .where(
                MarketplaceJob.product_id == product_id,
                MarketplaceJob.marketplace == marketplace,
                MarketplaceJob.action_type_id == action.id,
                runs_now,
            )
            .order_by(MarketplaceJob.id)
            .limit(1)
        ).first()


def finish_sales(outcome: SalesOutcome, service: MarketplaceJobService) -> None:
    """After the order sync committed: stop waiting publishes of sold-out products and
    tell subscribers about the new jobs and the alerts (blocking; run it off the loop)."""
    if outcome.sold_out:
        _cancel_publishes(outcome.sold_out, service)
    events: EventBus = service.db.events
    events.publish_many(
        [JobCreated(job_id, mp, outcome.user_id) for job_id, mp in outcome.created]
        + list(outcome.alerts)
    )


def _cancel_publishes(product_ids: set[int], service: MarketplaceJobService) -> None:
    """Cancel the waiting publish and update jobs of sold-out products (an update would
    bring back a listing that is being deleted)."""
    with service.db.session(service.user_id, readonly=True) as session:
        waiting = session.scalars(
            select(MarketplaceJob.id)
            .join(MarketplaceActionType, MarketplaceActionType.id == MarketplaceJob.action_type_id)
            .where(
                MarketplaceJob.product_id.in_(product_ids),
                MarketplaceActionType.code.in_(("publish", "update")),
                MarketplaceJob.status.in_([JobStatus.PENDING.value, JobStatus.PAUSED.value]),
            )
        ).all()
    if waiting:
        log.info(
            "products %s sold out: cancelling waiting publish/update job(s) %s",
            product_ids,
            waiting,
        )
    for job_id in waiting:
        try:
            service.cancel_job(job_id)
        except JobStateError:
            continue  # it started or ended meanwhile
