"""A recorded sale whose order is cancelled or refunded later is voided.

Through the real order syncs (the fake eBay and Etsy servers, a scripted Vinted behind
the real bridge): the stock the sale took comes back once, however often the order is
read again; its follow-up jobs that had not started are cancelled, the finished ones are
left alone; the seller is told in words; an oversell it caused or suffered is resolved.
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app.ebay.jobs.orders import order_lines
from app.events import SaleAlert
from app.inventory.alerts import SaleWatcher, needing_attention, recent_sales
from app.inventory.voids import void_sales
from app.marketplace import MarketplaceJobService
from app.marketplace.orders import is_void
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.product import Product
from app.models.user.sale import Sale
from tests.support.autodelist import Shop, vinted_sale


def voided(shop: Shop) -> list[SaleAlert]:
    return [alert for alert in shop.alerts() if alert.kind == "voided"]


def follow_up(shop: Shop, sale: Sale, marketplace: str) -> MarketplaceJob:
    """The sale's follow-up job on ``marketplace`` as it is now."""
    (action,) = [a for a in sale.actions if a["marketplace"] == marketplace]
    with shop.db.session(readonly=True) as session:
        return session.get_one(MarketplaceJob, int(action["job_id"]))


def sale_of(shop: Shop, order_id: str) -> Sale:
    (sale,) = [sale for sale in shop.sales() if sale.order_id == order_id]
    return sale


async def test_a_cancelled_ebay_order_gives_the_stock_back_once(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-JACKET")
    order = shop.ebay.add_order(listed.sku)
    sold = await shop.sync("ebay")
    assert (sold["sales"], sold["delist_jobs"], sold["voided_sales"]) == (1, 2, 0)
    assert shop.quantity(listed.product_id) == 0
    (sale,) = shop.sales()
    # the Vinted item is ended; the Etsy delete waits (the seller paused it)
    assert [r["status"] for r in await shop.drain("vinted")] == ["completed"]
    assert listed.vinted not in shop.vinted.items
    etsy_delete = follow_up(shop, sale, "etsy")
    MarketplaceJobService(shop.db).pause_job(etsy_delete.id)

    shop.ebay.cancel_order(order)
    result = await shop.sync("ebay")

    assert (result["new_lines"], result["updated_lines"]) == (0, 1)
    assert (result["sales"], result["voided_sales"], result["restocked"]) == (0, 1, 1)
    assert shop.quantity(listed.product_id) == 1
    (sale,) = shop.sales()
    assert sale.status == "voided"
    assert follow_up(shop, sale, "etsy").status == "cancelled"
    assert follow_up(shop, sale, "vinted").status == "completed"  # left alone
    message = (
        f"eBay order {order} was cancelled: “VO-JACKET” is back to 1 in stock. Its listings "
        "ended by that sale (Vinted) can be published again from the Products page. Its "
        "follow-up jobs not started yet (Etsy) are cancelled."
    )
    assert sale.message == message
    (alert,) = voided(shop)
    assert (alert.sale_id, alert.product_id, alert.marketplace) == (
        sale.id,
        listed.product_id,
        "ebay",
    )
    assert alert.message == message
    assert await shop.drain("etsy") == []  # the cancelled delete never runs
    assert int(listed.etsy) in shop.etsy.listings
    assert shop.vinted.items.get(listed.vinted) is None  # not published again by itself

    # read again (and again): nothing happens twice
    shop.ebay.touch_order(order)
    again = await shop.sync("ebay")
    assert (again["updated_lines"], again["voided_sales"], again["restocked"]) == (1, 0, 0)
    assert shop.quantity(listed.product_id) == 1
    assert len(voided(shop)) == 1
    assert await SaleWatcher(shop.db).settle() == []
    with shop.db.session(readonly=True) as session:
        assert needing_attention(session) == []
        (line,) = recent_sales(session)
    assert (line.sale_id, line.status) == (sale.id, "voided")
    assert shop.sales()[0].status == "voided"


async def test_a_refunded_etsy_order_gives_its_units_back(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-SCARF", quantity=3)
    receipt = shop.etsy.add_receipt(int(listed.etsy), quantity=2)
    sold = await shop.sync("etsy")
    assert (sold["sales"], sold["update_jobs"]) == (1, 1)
    assert shop.quantity(listed.product_id) == 1
    (update,) = await shop.drain("ebay")  # eBay's quantity goes down to 1
    assert update["status"] == "completed", update
    availability = shop.ebay.inventory[listed.sku]["availability"]
    assert availability["shipToLocationAvailability"]["quantity"] == 1

    # a partial refund: the items are still sold
    shop.etsy.touch_receipt(receipt, status="partially refunded")
    partly = await shop.sync("etsy")
    assert (partly["updated_lines"], partly["voided_sales"]) == (1, 0)
    assert shop.quantity(listed.product_id) == 1
    assert shop.sales()[0].status == "delisting"

    shop.etsy.touch_receipt(receipt, status="fully refunded")
    refunded = await shop.sync("etsy")

    assert (refunded["voided_sales"], refunded["restocked"]) == (1, 2)
    assert shop.quantity(listed.product_id) == 3
    (sale,) = shop.sales()
    assert sale.status == "voided"
    assert sale.message == (
        f"Etsy order {receipt} was refunded: “VO-SCARF” is back to 3 in stock. The quantity "
        "it lowered on eBay stays lower until you update the listing there."
    )
    (alert,) = voided(shop)
    assert alert.message == sale.message
    # not raised again by itself
    availability = shop.ebay.inventory[listed.sku]["availability"]
    assert availability["shipToLocationAvailability"]["quantity"] == 1


async def test_a_cancelled_vinted_order_cancels_the_waiting_deletes(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-BAG")
    order = vinted_sale(shop, listed, "V-77")
    sold = await shop.sync("vinted")
    assert (sold["sales"], sold["delist_jobs"]) == (1, 2)
    (sale,) = shop.sales()
    deletes = [follow_up(shop, sale, mp) for mp in ("ebay", "etsy")]
    assert [job.status for job in deletes] == ["pending", "pending"]

    order["status"] = "Order cancelled"  # read again within Vinted's look-back window
    result = await shop.sync("vinted")

    assert (result["voided_sales"], result["restocked"]) == (1, 1)
    assert shop.quantity(listed.product_id) == 1
    assert [follow_up(shop, sale, mp).status for mp in ("ebay", "etsy")] == [
        "cancelled",
        "cancelled",
    ]
    (alert,) = voided(shop)
    assert alert.message == (
        "Vinted order V-77 was cancelled: “VO-BAG” is back to 1 in stock. Its follow-up jobs "
        "not started yet (eBay, Etsy) are cancelled."
    )
    # nothing was ended: the eBay and Etsy listings are still there
    assert await shop.drain("ebay") == [] and await shop.drain("etsy") == []
    assert listed.ebay in shop.ebay.listings and int(listed.etsy) in shop.etsy.listings


async def test_a_running_follow_up_is_left_to_finish(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-RUN")
    order = shop.ebay.add_order(listed.sku)
    await shop.sync("ebay")
    (sale,) = shop.sales()
    running = follow_up(shop, sale, "etsy")
    with shop.db.session() as session, session.begin():  # a worker has just claimed it
        session.get_one(MarketplaceJob, running.id).status = "running"

    shop.ebay.cancel_order(order)
    result = await shop.sync("ebay")

    assert result["voided_sales"] == 1
    assert follow_up(shop, sale, "etsy").status == "running"
    assert follow_up(shop, sale, "vinted").status == "cancelled"
    (alert,) = voided(shop)
    assert alert.message.endswith(
        "Its follow-up jobs not started yet (Vinted) are cancelled. Its follow-up job on Etsy "
        "had already started: check that listing once it ends."
    )


@pytest.mark.parametrize("cancelled", ["oversold", "first"])
async def test_an_oversell_is_resolved_by_either_cancellation(shop: Shop, cancelled: str) -> None:
    listed = await shop.list_everywhere(f"VO-TWICE-{cancelled}")
    receipt = shop.etsy.add_receipt(int(listed.etsy), quantity=1)
    order = shop.ebay.add_order(listed.sku, quantity=1)  # before Marketdesk saw the first
    await shop.sync("etsy")
    second = await shop.sync("ebay")
    assert second["oversells"] == 1
    etsy_sale, ebay_sale = shop.sales()
    assert etsy_sale.oversell and ebay_sale.oversell
    vinted_delete = follow_up(shop, etsy_sale, "vinted")
    assert ebay_sale.actions == [
        {"job_id": vinted_delete.id, "marketplace": "vinted", "action": "delete"}
    ]

    if cancelled == "oversold":  # the eBay buyer, who found none left, cancels
        shop.ebay.cancel_order(order)
        result = await shop.sync("ebay")
        gone, kept = sale_of(shop, order), sale_of(shop, str(receipt))
        expected = (
            f"eBay order {order} was cancelled: it had sold “{listed.sku}” with none left, so "
            "the stock stays at 0. No order waits for this item any more: the oversell is "
            "resolved."
        )
    else:  # the Etsy buyer, who got the last unit, cancels: the eBay buyer gets it
        shop.etsy.touch_receipt(receipt, status="canceled")
        result = await shop.sync("etsy")
        gone, kept = sale_of(shop, str(receipt)), sale_of(shop, order)
        expected = (
            f"Etsy order {receipt} was cancelled: what it took of “{listed.sku}” went to eBay "
            f"order {order}, which found too few left; the stock stays at 0. No order waits "
            "for this item any more: the oversell is resolved."
        )

    assert (result["voided_sales"], result["restocked"]) == (1, 0)
    assert shop.quantity(listed.product_id) == 0  # the remaining buyer gets the item
    assert gone.status == "voided" and gone.message is not None
    assert gone.message.startswith(expected)
    assert not kept.oversell and kept.status != "voided"
    assert kept.message == f"No longer oversold: {expected.split(' was ')[0]} was cancelled"
    # the Vinted delete still serves the sale that stands
    assert follow_up(shop, etsy_sale, "vinted").status == "pending"
    with shop.db.session(readonly=True) as session:
        assert needing_attention(session) == []
    (alert,) = voided(shop)
    assert (alert.sale_id, alert.message) == (gone.id, gone.message)


async def test_units_freed_go_first_to_the_order_that_found_too_few(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-PAIR", quantity=2)
    receipt = shop.etsy.add_receipt(int(listed.etsy), quantity=2)
    order = shop.ebay.add_order(listed.sku, quantity=1)
    await shop.sync("etsy")
    await shop.sync("ebay")
    etsy_sale, ebay_sale = shop.sales()
    assert (etsy_sale.quantity_before, etsy_sale.quantity_after) == (2, 0)
    assert (ebay_sale.quantity_before, ebay_sale.oversell) == (0, True)

    shop.etsy.touch_receipt(receipt, status="canceled")
    result = await shop.sync("etsy")

    # of the two units back, the eBay buyer's one is sold: one is left
    assert (result["voided_sales"], result["restocked"]) == (1, 1)
    assert shop.quantity(listed.product_id) == 1
    etsy_sale, ebay_sale = shop.sales()
    assert etsy_sale.status == "voided" and not ebay_sale.oversell
    assert (etsy_sale.message or "").startswith(
        f"Etsy order {receipt} was cancelled: “VO-PAIR” is back to 1 in stock. Part of what "
        f"it took went first to eBay order {order}, which found too few left. No order waits "
        "for this item any more: the oversell is resolved."
    )


async def test_a_product_deleted_meanwhile_gets_nothing_back(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-GONE")
    order = shop.ebay.add_order(listed.sku)
    await shop.sync("ebay")
    (sale,) = shop.sales()
    assert [r["status"] for r in await shop.drain("etsy")] == ["completed"]
    with shop.db.session() as session, session.begin():  # the seller deleted it since
        session.delete(session.get_one(Product, listed.product_id))

    shop.ebay.refund_order(order)
    result = await shop.sync("ebay")

    assert (result["voided_sales"], result["restocked"]) == (1, 0)
    (sale,) = shop.sales()
    assert (sale.status, sale.product_id) == ("voided", None)
    assert follow_up(shop, sale, "vinted").status == "cancelled"
    assert sale.message == (
        f"eBay order {order} was refunded: its product is no longer in the catalog, so no "
        "stock went back. Its listings ended by that sale (Etsy) stay ended. Its follow-up "
        "jobs not started yet (Vinted) are cancelled."
    )
    (alert,) = voided(shop)
    assert (alert.product_id, alert.message) == (None, sale.message)


async def test_a_line_cancelled_before_it_was_recorded_is_no_sale(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-NEVER")
    order = shop.ebay.add_order(listed.sku)
    shop.ebay.cancel_order(order)
    partly = shop.ebay.add_order(listed.sku)
    shop.ebay.refund_order(partly, partly=True)

    first = await shop.sync("ebay")
    # the partly refunded order is a sale; the cancelled one is not
    assert (first["new_lines"], first["sales"], first["voided_sales"]) == (2, 1, 0)
    shop.ebay.touch_order(order)
    again = await shop.sync("ebay")

    # (the partly refunded order, at the cursor, may be read again too)
    assert (again["new_lines"], again["sales"], again["voided_sales"]) == (0, 0, 0)
    assert again["updated_lines"] >= 1
    assert [sale.order_id for sale in shop.sales()] == [partly]
    assert shop.quantity(listed.product_id) == 0  # taken by the partly refunded order only
    assert voided(shop) == []


def test_void_words() -> None:
    assert all(map(is_void, ["CANCELLED", "REFUNDED", "Canceled", "Fully Refunded"]))
    assert not any(map(is_void, [None, "", "PAID", "Partially Refunded", "Cancellation requested"]))


async def test_two_workers_voiding_the_same_sale_do_it_once(shop: Shop) -> None:
    listed = await shop.list_everywhere("VO-RACE", quantity=2)
    order = shop.ebay.add_order(listed.sku)
    await shop.sync("ebay")
    assert shop.quantity(listed.product_id) == 1
    shop.ebay.cancel_order(order)
    lines = order_lines(shop.ebay.orders[order])
    first_voided = threading.Event()
    counts: dict[str, int] = {}

    def worker(name: str) -> None:
        with shop.db.session() as session, session.begin():
            counts[name] = void_sales(session, "ebay", lines).voided
            if name == "first":
                first_voided.set()
                time.sleep(0.5)  # the second worker's transaction meets this one's lock

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    assert first_voided.wait(10)
    second = threading.Thread(target=worker, args=("second",))
    second.start()
    first.join(10)
    second.join(10)

    assert counts == {"first": 1, "second": 0}
    assert shop.quantity(listed.product_id) == 2
    with shop.db.session(readonly=True) as session:
        assert session.scalars(select(Sale.status)).all() == ["voided"]
