"""Orders of a listing that had no product become sales once it gets one.

A listing imported as ambiguous (or unmatched) can sell before the seller links it. When
the seller links it (Listings page), or a later order sync finds its product (a SKU given
meanwhile), the lines sold since Marketdesk knew the listing are recorded as the
product's sales, with the same stock change and delist jobs as any sale; older lines
stay history, and no line is a sale twice.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.db import Database, utcnow
from app.ebay.jobs.orders import order_status
from app.inventory.sales import DELIST_PRIORITY, LINKED_SALE_DAYS, SALE_KEY, record_sales
from app.marketplace.listing_review import ListingReview
from app.marketplace.listings import RemoteListing, reconcile
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.orders import OrderLine, save_order_lines
from app.models import MarketplaceJob, MarketplaceListing, Product
from app.models.user.marketplace_listing import ListingState
from app.models.user.order import Order
from app.models.user.sale import Sale


def add_product(db: Database, title: str, quantity: int = 1, sku: str | None = None) -> int:
    with db.session() as session, session.begin():
        row = Product(
            title=title, price=Decimal("45.00"), currency="EUR", quantity=quantity, sku=sku
        )
        session.add(row)
        session.flush()
        return row.id


def import_listings(db: Database, marketplace: str, *remotes: RemoteListing) -> None:
    with db.session() as session, session.begin():
        reconcile(session, marketplace, list(remotes), True)


def remote(listing_id: str, title: str, sku: str | None = None) -> RemoteListing:
    return RemoteListing(
        listing_id=listing_id,
        sku=sku,
        title=title,
        price=Decimal("45.00"),
        currency="EUR",
        quantity=1,
        url=f"https://market.example/{listing_id}",
        data={},
    )


def listing_row(db: Database, marketplace: str, listing_id: str) -> MarketplaceListing:
    with db.session(readonly=True) as session:
        row = session.scalars(
            select(MarketplaceListing).where(
                MarketplaceListing.marketplace == marketplace,
                MarketplaceListing.listing_id == listing_id,
            )
        ).one()
        return row


def sync_orders(db: Database, marketplace: str, *lines: OrderLine) -> int:
    """What an order sync stores and records; the number of sales."""
    service = MarketplaceJobService(db)
    with db.session() as session, session.begin():
        counts = save_order_lines(session, marketplace, lines)
        outcome = record_sales(session, marketplace, counts.new_lines, service, counts.linked_lines)
    return outcome.sales


def sold(
    order_id: str,
    listing_id: str,
    minutes_ago: int,
    sku: str | None = None,
    status: str = "paid",
) -> OrderLine:
    return OrderLine(
        order_id=order_id,
        line_id="1",
        quantity=1,
        listing_id=listing_id,
        sku=sku,
        title="Denim jacket",
        status=status,
        ordered_at=utcnow() - timedelta(minutes=minutes_ago),
    )


def backdate(db: Database, days: int, product_id: int, listing_row_id: int) -> None:
    """As if the product and the listing row had been there ``days`` days."""
    then = utcnow() - timedelta(days=days)
    with db.session() as session, session.begin():
        session.get(Product, product_id).created_at = then  # type: ignore[union-attr]
        session.get(MarketplaceListing, listing_row_id).created_at = then  # type: ignore[union-attr]


def sales(db: Database) -> list[Sale]:
    with db.session(readonly=True) as session:
        return list(session.scalars(select(Sale).order_by(Sale.id)))


def delete_jobs(db: Database, product_id: int) -> list[MarketplaceJob]:
    with db.session(readonly=True) as session:
        return [
            job
            for job in session.scalars(
                select(MarketplaceJob).where(MarketplaceJob.product_id == product_id)
            )
            if job.input_data.get(SALE_KEY) is not None
        ]


def test_linking_a_listing_records_what_it_sold_meanwhile(db: Database) -> None:
    jacket = add_product(db, "Denim jacket")
    twin = add_product(db, "Denim jacket")  # two candidates: the Etsy listing is ambiguous
    import_listings(db, "ebay", remote("EB-1", "Denim jacket", sku=None))
    review = ListingReview(db)
    ebay_row = listing_row(db, "ebay", "EB-1")
    assert ebay_row.product_id is None
    review.confirm_match(ebay_row.id, jacket)  # the jacket is live on eBay
    with db.session() as session, session.begin():  # live there
        session.get(MarketplaceListing, ebay_row.id).state = ListingState.ACTIVE  # type: ignore[union-attr]
    import_listings(db, "etsy", remote("ET-9", "Denim jacket"))
    etsy_row = listing_row(db, "etsy", "ET-9")
    assert etsy_row.product_id is None

    # sold on Etsy while nobody had linked the listing: no product, no sale yet
    assert sync_orders(db, "etsy", sold("R-1", "ET-9", minutes_ago=0)) == 0
    assert sales(db) == []

    assert review.confirm_match(etsy_row.id, jacket) == 1
    (sale,) = sales(db)
    assert (sale.marketplace, sale.order_id, sale.product_id) == ("etsy", "R-1", jacket)
    assert (sale.quantity_before, sale.quantity_after) == (1, 0)
    with db.session(readonly=True) as session:
        assert session.get(Product, jacket).quantity == 0  # type: ignore[union-attr]
        assert session.get(Product, twin).quantity == 1  # type: ignore[union-attr]
        line = session.scalars(select(Order).where(Order.order_id == "R-1")).one()
        assert line.product_id == jacket
    (delist,) = delete_jobs(db, jacket)
    assert delist.marketplace == "ebay" and delist.priority == DELIST_PRIORITY
    assert delist.input_data[SALE_KEY] == sale.id

    # unlinking and linking again records nothing twice; a later sync neither
    review.unlink(etsy_row.id)
    assert review.confirm_match(etsy_row.id, jacket) == 0
    assert sync_orders(db, "etsy", sold("R-1", "ET-9", minutes_ago=0)) == 0
    assert len(sales(db)) == 1 and len(delete_jobs(db, jacket)) == 1


def test_orders_from_before_the_listing_was_known_stay_history(db: Database) -> None:
    jacket = add_product(db, "Denim jacket", quantity=2)
    add_product(db, "Denim jacket")
    import_listings(db, "etsy", remote("ET-9", "Denim jacket"))
    etsy_row = listing_row(db, "etsy", "ET-9")
    # read by the first order sync: sold a week before Marketdesk saw the listing
    assert sync_orders(db, "etsy", sold("R-old", "ET-9", minutes_ago=7 * 24 * 60)) == 0
    assert ListingReview(db).confirm_match(etsy_row.id, jacket) == 0
    assert sales(db) == []
    with db.session(readonly=True) as session:
        assert session.get(Product, jacket).quantity == 2  # type: ignore[union-attr]
        line = session.scalars(select(Order).where(Order.order_id == "R-old")).one()
        assert line.product_id == jacket  # linked, but history


def test_a_later_sync_that_finds_the_product_records_the_sale(db: Database) -> None:
    scarf = add_product(db, "Silk scarf", quantity=3)
    # a line whose listing and SKU match nothing: stored without a product
    assert sync_orders(db, "vinted", sold("V-7", "VI-1", minutes_ago=0, sku="SCARF-1")) == 0
    with db.session() as session, session.begin():
        session.get(Product, scarf).sku = "SCARF-1"  # type: ignore[union-attr]
    # the seller gave the product that SKU; the order is read again
    assert sync_orders(db, "vinted", sold("V-7", "VI-1", minutes_ago=0, sku="SCARF-1")) == 1
    (sale,) = sales(db)
    assert (sale.product_id, sale.quantity_before, sale.quantity_after) == (scarf, 3, 2)
    assert sync_orders(db, "vinted", sold("V-7", "VI-1", minutes_ago=0, sku="SCARF-1")) == 0
    assert len(sales(db)) == 1


def test_only_recent_lines_that_sold_after_the_listing_was_known_count(db: Database) -> None:
    jacket = add_product(db, "Denim jacket", quantity=5)
    add_product(db, "Denim jacket")
    import_listings(db, "etsy", remote("ET-9", "Denim jacket"))
    etsy_row = listing_row(db, "etsy", "ET-9")
    backdate(db, 90, jacket, etsy_row.id)
    day = 24 * 60
    sync_orders(
        db,
        "etsy",
        sold("R-recent", "ET-9", minutes_ago=2 * day),
        sold("R-old", "ET-9", minutes_ago=(LINKED_SALE_DAYS + 5) * day),  # known, but old
        sold("R-void", "ET-9", minutes_ago=day, status="Canceled"),
    )
    assert ListingReview(db).confirm_match(etsy_row.id, jacket) == 1
    assert [sale.order_id for sale in sales(db)] == ["R-recent"]

    # a line that is a sale already is not one again, whatever its product column says
    with db.session() as session, session.begin():
        session.scalars(select(Order).where(Order.order_id == "R-recent")).one().product_id = None
    assert ListingReview(db).confirm_match(etsy_row.id, jacket) == 0
    assert len(sales(db)) == 1
    with db.session(readonly=True) as session:
        assert session.get(Product, jacket).quantity == 4  # type: ignore[union-attr]


def test_a_listing_seen_after_the_order_makes_it_history(db: Database) -> None:
    jacket = add_product(db, "Denim jacket", quantity=2)
    add_product(db, "Denim jacket")
    import_listings(db, "etsy", remote("ET-9", "Denim jacket"))
    etsy_row = listing_row(db, "etsy", "ET-9")
    with db.session() as session, session.begin():  # the product is old, the listing new
        session.get(Product, jacket).created_at = utcnow() - timedelta(days=60)  # type: ignore[union-attr]
    sync_orders(db, "etsy", sold("R-2", "ET-9", minutes_ago=2 * 24 * 60))
    assert ListingReview(db).confirm_match(etsy_row.id, jacket) == 0
    assert sales(db) == []


def test_a_cancelled_or_refunded_ebay_order_says_so() -> None:
    assert order_status({"orderFulfillmentStatus": "NOT_STARTED"}) == "NOT_STARTED"
    cancelled = {
        "orderFulfillmentStatus": "NOT_STARTED",
        "cancelStatus": {"cancelState": "CANCELED"},
    }
    assert order_status(cancelled) == "CANCELLED"
    refunded = {"orderFulfillmentStatus": "FULFILLED", "orderPaymentStatus": "FULLY_REFUNDED"}
    assert order_status(refunded) == "REFUNDED"
    assert order_status({}) is None
