"""Sales whose order was cancelled or refunded after they were recorded.

Order syncs read orders again when they change (eBay and Etsy by last-modified time,
Vinted within its look-back window). :func:`void_sales` runs inside the order sync's own
transaction, before new sales are recorded, for the stored lines that are cancelled or
refunded now (:attr:`app.marketplace.orders.OrderCounts.void_lines`). Per such line with
a recorded sale that is not voided yet:

1. the sale becomes ``voided``: a guarded UPDATE (``WHERE status != 'voided'``), so it
   happens once however often the order is read again, and only for the first of two
   workers that race on it;
2. the units the sale took from the product's quantity come back (a guarded
   compare-and-set, as when a sale takes them): first to later sales of the product
   that found too few left (oversells), then into stock. A sale that found none left
   took nothing, so nothing comes back; nothing either when the product was deleted;
3. when no sale of the product waits for units any more, the oversell flags of its
   other sales are cleared: the double sale is resolved;
4. its follow-up jobs that have not started (pending or paused, created for this sale,
   ``input_data["auto_delist"]``, and not shared with a sale still being followed) are
   cancelled after the commit by :func:`finish_voids`, through
   :meth:`~app.marketplace.marketplace_job_service.MarketplaceJobService.cancel_job`;
5. the sale's ``message`` and a :class:`app.events.SaleAlert` of kind ``voided`` say it in
   words: what is back in stock, which listings the sale already ended, which jobs were
   cancelled or had already started.

Listings the sale already ended are **not** published again automatically, nor are
lowered quantities raised again: the seller decides, from the Products page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.events import SaleAlert
from app.inventory.sales import SALE_KEY, name_of
from app.marketplace.errors import JobNotFoundError, JobStateError, RetryableJobError
from app.marketplace.orders import OrderLine, is_void
from app.models.user.marketplace_job import JobStatus, MarketplaceJob
from app.models.user.product import Product
from app.models.user.sale import Sale, SaleStatus

if TYPE_CHECKING:
    from app.marketplace.marketplace_job_service import MarketplaceJobService

log = logging.getLogger("marketdesk.inventory")

products = cast(Table, Product.__table__)
VOIDED = SaleStatus.VOIDED.value
#: Sales whose follow-up jobs are still followed (a job they share is not cancelled).
FOLLOWED = (SaleStatus.DELISTING.value, SaleStatus.DELIST_FAILED.value)
WAITING = (JobStatus.PENDING.value, JobStatus.PAUSED.value)
_RESTOCK_ATTEMPTS = 5


@dataclass
class VoidOutcome:
    """What :func:`void_sales` did, and what is left for after the commit."""

    user_id: int = 1
    voided: int = 0
    #: Units that went back into stock.
    restocked: int = 0
    #: Follow-up jobs to cancel after the commit, if they still have not started.
    cancel: list[int] = field(default_factory=list)
    alerts: list[SaleAlert] = field(default_factory=list)

    def as_result(self) -> dict[str, int]:
        """For the order sync's job result."""
        return {"voided_sales": self.voided, "restocked": self.restocked}


def void_sales(
    session: Session, marketplace: str, lines: Iterable[OrderLine], user_id: int = 1
) -> VoidOutcome:
    """Void the recorded sales of the cancelled or refunded ``lines`` (stored lines read
    again by an order sync of ``marketplace``), inside the sync's transaction."""
    outcome = VoidOutcome(user_id=user_id)
    status_of = {
        (line.order_id, line.line_id): line.status or "" for line in lines if is_void(line.status)
    }
    if not status_of:
        return outcome
    candidates = session.scalars(
        select(Sale)
        .where(
            Sale.marketplace == marketplace,
            Sale.order_id.in_({order_id for order_id, _line in status_of}),
            Sale.status != VOIDED,
        )
        .order_by(Sale.id)
    ).all()
    voider = _Voider(session, outcome)
    for sale in candidates:
        status = status_of.get((sale.order_id, sale.line_id))
        if status is not None:
            voider.void(sale, status)
    return outcome


def _taken(sale: Sale) -> int:
    """The units the sale took from the stock."""
    return max(sale.quantity_before - sale.quantity_after, 0)


def _short(sale: Sale) -> int:
    """The units the sale sold that were not in stock."""
    return max(sale.quantity - _taken(sale), 0)


def _order(sale: Sale) -> str:
    return f"{name_of(sale.marketplace)} order {sale.order_id}"


def _names(marketplaces: list[str]) -> str:
    return ", ".join(dict.fromkeys(name_of(marketplace) for marketplace in marketplaces))


class _Voider:
    """Voids the sales of one order sync inside its transaction."""

    def __init__(self, session: Session, outcome: VoidOutcome) -> None:
        self.session = session
        self.outcome = outcome
        self.now = utcnow()

    def void(self, sale: Sale, status: str) -> None:
        """One cancelled or refunded sale: status, stock, oversells, jobs, words."""
        session = self.session
        claimed = session.execute(
            update(Sale)
            .where(Sale.id == sale.id, Sale.status != VOIDED)
            .values(status=VOIDED, updated_at=self.now)
            .returning(Sale.id)
        ).first()
        if claimed is None:
            return  # another sync voided it first
        self.outcome.voided += 1
        verb = "refunded" if "refund" in status.lower() else "cancelled"
        product = session.get(Product, sale.product_id) if sale.product_id is not None else None
        if product is None:
            text = (
                f"{_order(sale)} was {verb}: its product is no longer in the catalog, "
                "so no stock went back."
            )
        else:
            text = self.give_back(sale, product, verb)
        text += self.follow_ups(sale, product is not None)
        sale.message = text
        session.flush()
        log.info("sale %s voided: %s", sale.id, text)
        self.outcome.alerts.append(
            SaleAlert(
                sale.id, sale.product_id, sale.marketplace, "voided", text, self.outcome.user_id
            )
        )

    def give_back(self, sale: Sale, product: Product, verb: str) -> str:
        """Return the units the sale took (to later oversold sales first, then to the
        stock), clear oversell flags that no longer hold; the words for it."""
        others = self.session.scalars(
            select(Sale)
            .where(
                Sale.product_id == product.id,
                Sale.id != sale.id,
                Sale.status != VOIDED,
                Sale.oversell.is_(True),
            )
            .order_by(Sale.id)
        ).all()
        self.session.refresh(product, ["quantity"])
        waiting = [other for other in others if _short(other) > 0]
        left = _taken(sale)
        given: list[Sale] = []
        covered: list[Sale] = []
        for other in waiting:
            if left <= 0:
                break
            if other.id < sale.id:
                continue  # it came first: the stock this sale took was not its own
            give = min(left, _short(other))
            left -= give
            given.append(other)
            if give == _short(other):
                covered.append(other)
        still_waiting = [other for other in waiting if other not in covered]
        resolved = covered
        if (sale.oversell or covered) and not still_waiting:
            resolved = list(others)  # nobody waits for this item any more
        for other in resolved:
            self.resolve(other, sale, verb)

        where = f"{_order(sale)} was {verb}"
        quantity = product.quantity
        if left > 0:
            restocked = self.restock(product.id, left)
            if restocked is None:  # deleted meanwhile
                return f"{where}: its product is no longer in the catalog."
            quantity = restocked
            self.outcome.restocked += left
            self.session.refresh(product, ["quantity"])
        title = product.title
        if left > 0:
            text = f"{where}: “{title}” is back to {quantity} in stock."
            if given:
                text += (
                    f" Part of what it took went first to {', '.join(map(_order, given))}, "
                    "which found too few left."
                )
        elif given:
            text = (
                f"{where}: what it took of “{title}” went to "
                f"{', '.join(map(_order, given))}, which found too few left; "
                f"the stock stays at {quantity}."
            )
        else:
            text = (
                f"{where}: it had sold “{title}” with none left, so the stock stays at {quantity}."
            )
        if resolved and not still_waiting:
            text += " No order waits for this item any more: the oversell is resolved."
        return text

    def resolve(self, other: Sale, sale: Sale, verb: str) -> None:
        """``other`` is no longer oversold: ``sale`` was cancelled or refunded."""
        changed = self.session.execute(
            update(Sale)
            .where(Sale.id == other.id, Sale.oversell.is_(True), Sale.status != VOIDED)
            .values(
                oversell=False,
                message=f"No longer oversold: {_order(sale)} was {verb}",
                updated_at=self.now,
            )
            .returning(Sale.id)
        ).first()
        if changed is not None:
            log.info("sale %s: no longer oversold (sale %s %s)", other.id, sale.id, verb)

    def restock(self, product_id: int, quantity: int) -> int | None:
        """Raise the product's quantity by ``quantity``: the new quantity (None when the
        product is gone)."""
        session = self.session
        for _ in range(_RESTOCK_ATTEMPTS):
            before = session.scalar(select(products.c.quantity).where(products.c.id == product_id))
            if before is None:
                return None
            changed = session.execute(
                update(products)
                .where(products.c.id == product_id, products.c.quantity == before)
                .values(quantity=before + quantity, updated_at=self.now)
                .returning(products.c.id)
            ).first()
            if changed is not None:
                return int(before + quantity)
        raise RetryableJobError(f"The quantity of product {product_id} kept changing; trying again")

    def follow_ups(self, sale: Sale, in_catalog: bool) -> str:
        """Sort the sale's follow-up jobs: those to cancel (after the commit), those that
        ended a listing or lowered a quantity, those under way; the words for it."""
        actions: list[dict[str, Any]] = list(sale.actions or [])
        if not actions:
            return ""
        ids = {int(action["job_id"]) for action in actions}
        jobs = {
            job.id: job
            for job in self.session.scalars(
                select(MarketplaceJob).where(MarketplaceJob.id.in_(ids))
            )
        }
        shared = followed_jobs(self.session, sale.id)
        ended: list[str] = []
        lowered: list[str] = []
        cancelled: list[str] = []
        started: list[str] = []
        for action in actions:
            job = jobs.get(int(action["job_id"]))
            if job is None:
                continue
            if job.status == JobStatus.COMPLETED:
                (ended if action.get("action") == "delete" else lowered).append(job.marketplace)
            elif job.status == JobStatus.RUNNING:
                started.append(job.marketplace)
            elif (
                job.status in WAITING
                and (job.input_data or {}).get(SALE_KEY) == sale.id
                and job.id not in shared
            ):
                cancelled.append(job.marketplace)
                self.outcome.cancel.append(job.id)
        text = ""
        if ended and in_catalog:
            text += (
                f" Its listings ended by that sale ({_names(ended)}) can be published again "
                "from the Products page."
            )
        elif ended:
            text += f" Its listings ended by that sale ({_names(ended)}) stay ended."
        if lowered:
            text += (
                f" The quantity it lowered on {_names(lowered)} stays lower until you update "
                "the listing there."
            )
        if cancelled:
            text += f" Its follow-up jobs not started yet ({_names(cancelled)}) are cancelled."
        if started:
            text += (
                f" Its follow-up job on {_names(started)} had already started: check that "
                "listing once it ends."
            )
        return text


def followed_jobs(session: Session, except_sale: int | None = None) -> set[int]:
    """The jobs that sales still being followed count on (other than ``except_sale``)."""
    query = select(Sale.actions).where(Sale.status.in_(FOLLOWED))
    if except_sale is not None:
        query = query.where(Sale.id != except_sale)
    rows = session.scalars(query).all()
    return {int(action["job_id"]) for actions in rows for action in actions or []}


def finish_voids(outcome: VoidOutcome, service: MarketplaceJobService) -> None:
    """After the order sync committed: cancel the voided sales' follow-up jobs that still
    have not started, and publish the alerts (blocking; run it off the loop)."""
    if outcome.cancel:
        with service.db.session(service.user_id, readonly=True) as session:
            waiting = set(
                session.scalars(
                    select(MarketplaceJob.id).where(
                        MarketplaceJob.id.in_(outcome.cancel), MarketplaceJob.status.in_(WAITING)
                    )
                )
            )
            # a sale recorded since may have taken one of them for its own delist
            shared = followed_jobs(session)
        for job_id in outcome.cancel:
            if job_id not in waiting or job_id in shared:
                log.info("job %s started or was taken by another sale meanwhile: kept", job_id)
                continue
            try:
                service.cancel_job(job_id)
            except (JobStateError, JobNotFoundError):
                log.info("job %s started or ended meanwhile: kept", job_id)
                continue
            log.info("job %s cancelled: the sale it followed was voided", job_id)
    if outcome.alerts:
        service.db.events.publish_many(outcome.alerts)
