"""Auto-delist: a sale seen by an order sync ends (or lowers) the product's other listings.

Real handlers against the fake eBay and Etsy servers and a scripted Vinted behind the
real bridge; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.events import SaleAlert
from app.inventory.alerts import SaleWatcher, needing_attention
from app.inventory.sales import delist_key
from app.marketplace import MarketplaceJobService
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.product import Product
from tests.support.autodelist import Shop, vinted_sale
from tests.support.marketplaces import make_due
from tests.support.plugin_client import PluginAnswer
from tests.support.waiting import wait_until


def alerts(shop: Shop) -> list[SaleAlert]:
    return shop.alerts()


async def test_a_sale_on_etsy_delists_the_product_on_ebay_and_vinted(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-ETSY")
    shop.etsy.add_receipt(int(listed.etsy), quantity=1)

    result = await shop.sync("etsy")

    assert (result["sales"], result["delist_jobs"], result["update_jobs"]) == (1, 2, 0)
    assert result["oversells"] == 0
    assert shop.quantity(listed.product_id) == 0
    (sale,) = shop.sales()
    assert (sale.marketplace, sale.product_id, sale.quantity) == ("etsy", listed.product_id, 1)
    assert (sale.quantity_before, sale.quantity_after, sale.oversell) == (1, 0, False)
    assert sale.status == "delisting"
    deletes = {job.marketplace: job for job in shop.jobs(product_id=listed.product_id)[-2:]}
    assert set(deletes) == {"ebay", "vinted"}
    for marketplace, job in deletes.items():
        assert (job.priority, job.status, job.input_data) == (
            1,
            "pending",
            {"auto_delist": sale.id},
        )
        assert job.idempotency_key == delist_key(sale.id, marketplace)
    assert sorted(sale.actions, key=lambda a: a["marketplace"]) == [
        {"job_id": deletes["ebay"].id, "marketplace": "ebay", "action": "delete"},
        {"job_id": deletes["vinted"].id, "marketplace": "vinted", "action": "delete"},
    ]
    assert shop.listing_state(listed.product_id, "etsy") == "sold_out"

    ebay_done = await shop.drain("ebay")
    vinted_done = await shop.drain("vinted")

    assert [r["status"] for r in ebay_done + vinted_done] == ["completed", "completed"]
    assert listed.sku not in shop.ebay.inventory and listed.ebay not in shop.ebay.listings
    assert listed.vinted not in shop.vinted.items
    assert shop.plugin.actions()[-1] == "delete_item"
    assert shop.listing_state(listed.product_id, "ebay") == "deleted"
    assert shop.listing_state(listed.product_id, "vinted") == "deleted"
    assert await SaleWatcher(shop.db).settle() == []
    (sale,) = shop.sales()
    assert sale.status == "done"
    assert alerts(shop) == []


async def test_a_sale_with_quantity_three_updates_the_other_listings_to_two(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-QTY", quantity=3)
    shop.etsy.add_receipt(int(listed.etsy), quantity=1)

    result = await shop.sync("etsy")

    assert (result["sales"], result["delist_jobs"], result["update_jobs"]) == (1, 0, 1)
    assert shop.quantity(listed.product_id) == 2
    (update,) = shop.jobs(product_id=listed.product_id, status="pending")
    assert (update.marketplace, update.priority) == ("ebay", 2)
    assert update.input_data == {"auto_delist": shop.sales()[0].id, "price": "45.00"}
    assert shop.listing_state(listed.product_id, "etsy") == "active"  # 2 left there too
    (done,) = await shop.drain("ebay")
    assert done["status"] == "completed", done
    item = shop.ebay.inventory[listed.sku]
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 2
    # only the quantity, at both levels, in one call (bulkUpdatePriceQuantity)
    assert shop.ebay.quantity_updates == 1
    (offer,) = [o for o in shop.ebay.offers.values() if o["sku"] == listed.sku]
    assert offer["availableQuantity"] == 2
    assert shop.vinted.items[listed.vinted]["state"] == "active"  # one unit: left alone
    assert await shop.drain("vinted") == []

    # and the other way round: an eBay sale lowers Etsy's quantity
    shop.ebay.add_order(listed.sku, quantity=1)
    again = await shop.sync("ebay")
    assert (again["sales"], again["update_jobs"]) == (1, 1)
    (etsy_update,) = await shop.drain("etsy")
    assert etsy_update["status"] == "completed", etsy_update
    assert shop.etsy.listings[int(listed.etsy)]["quantity"] == 1
    await SaleWatcher(shop.db).settle()
    assert [sale.status for sale in shop.sales()] == ["done", "done"]


@pytest.mark.parametrize("failing", ["etsy", "vinted"])
async def test_a_failing_delist_is_retried_then_alerts(shop: Shop, failing: str) -> None:
    listed = await shop.list_everywhere(f"AD-FAIL-{failing}")
    if failing == "etsy":
        shop.etsy.fail_next(
            "DELETE", r"/v3/application/listings/\d+", 500, {"error": "boom"}, times=4
        )
    else:

        def refuse(_payload: dict[str, Any]) -> dict[str, Any]:
            raise PluginAnswer("server_error", "HTTP 502", status=502)

        shop.plugin.answers["delete_item"] = refuse
    watcher = SaleWatcher(shop.db, poll_seconds=60)
    watcher.start()
    try:
        shop.ebay.add_order(listed.sku)
        result = await shop.sync("ebay")
        assert result["delist_jobs"] == 2
        (sale,) = shop.sales()
        (job,) = [
            j for j in shop.jobs(marketplace=failing) if "auto_delist" in (j.input_data or {})
        ]
        statuses = []
        for _attempt in range(4):  # the first run and three retries
            make_due(shop.db, job.id)
            statuses += [r["status"] for r in await shop.drain(failing)]
        assert statuses == ["pending", "pending", "pending", "failed"]
        await wait_until(lambda: bool(alerts(shop)))
        (alert,) = alerts(shop)
        assert (alert.sale_id, alert.kind, alert.marketplace) == (sale.id, "delist_failed", "ebay")
        assert alert.product_id == listed.product_id
        name = {"etsy": "Etsy", "vinted": "Vinted"}[failing]
        assert f"End the listing on {name} by hand" in alert.message
        (sale,) = shop.sales()
        assert (sale.status, sale.message) == ("delist_failed", alert.message)
        with shop.db.session(readonly=True) as session:
            (notice,) = needing_attention(session)
        assert (notice.sale_id, notice.status, notice.oversell) == (sale.id, "delist_failed", False)

        # the other marketplace's delete went through; the seller retries the failed one
        other = "vinted" if failing == "etsy" else "etsy"
        assert [r["status"] for r in await shop.drain(other)] == ["completed"]
        shop.plugin.answers["delete_item"] = shop.vinted.delete_item
        MarketplaceJobService(shop.db).retry_job(job.id)
        await wait_until(lambda: shop.sales()[0].status == "delisting")
        assert [r["status"] for r in await shop.drain(failing)] == ["completed"]
        await wait_until(lambda: shop.sales()[0].status == "done")
        assert len(alerts(shop)) == 1
    finally:
        await watcher.stop()


async def test_two_sales_in_one_sync_window_are_both_recorded_as_an_oversell(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-TWICE")
    receipt = shop.etsy.add_receipt(int(listed.etsy), quantity=1)
    order = shop.ebay.add_order(listed.sku, quantity=1)  # before Marketdesk saw the first

    first = await shop.sync("etsy")
    second = await shop.sync("ebay")

    assert (first["sales"], first["oversells"], first["delist_jobs"]) == (1, 0, 2)
    assert (second["sales"], second["oversells"], second["delist_jobs"]) == (1, 1, 0)
    etsy_sale, ebay_sale = shop.sales()
    assert (etsy_sale.order_id, ebay_sale.order_id) == (str(receipt), order)
    assert etsy_sale.oversell and ebay_sale.oversell
    assert (ebay_sale.quantity_before, ebay_sale.quantity_after) == (0, 0)
    assert shop.quantity(listed.product_id) == 0
    assert "again on eBay order" in (etsy_sale.message or "")
    assert "none left" in (ebay_sale.message or "")
    # the Vinted delete the Etsy sale queued serves the eBay sale too; Etsy's listing sold
    vinted_delete = next(a for a in etsy_sale.actions if a["marketplace"] == "vinted")
    assert ebay_sale.actions == [vinted_delete]
    assert {(a.sale_id, a.kind) for a in alerts(shop)} == {
        (etsy_sale.id, "oversell"),
        (ebay_sale.id, "oversell"),
    }
    with shop.db.session(readonly=True) as session:
        listed_ids = [notice.sale_id for notice in needing_attention(session)]
    assert listed_ids == [ebay_sale.id, etsy_sale.id]


async def test_orders_read_again_record_each_sale_once(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-ONCE", quantity=1)
    two = await shop.list_everywhere("AD-ONCE-2", quantity=2)
    vinted_sale(shop, listed, "V-1")
    receipt = shop.etsy.add_receipt(int(two.etsy), quantity=1)

    first = await shop.sync("vinted")
    etsy_first = await shop.sync("etsy")
    assert (first["sales"], first["delist_jobs"]) == (1, 2)
    assert (etsy_first["sales"], etsy_first["update_jobs"]) == (1, 1)
    jobs_before = len(shop.jobs())

    shop.etsy.touch_receipt(receipt, status="completed")
    again = await shop.sync("vinted")  # Vinted's look-back reads the order again
    etsy_again = await shop.sync("etsy")

    assert (again["new_lines"], again["updated_lines"], again["sales"]) == (0, 1, 0)
    assert (etsy_again["new_lines"], etsy_again["updated_lines"], etsy_again["sales"]) == (0, 1, 0)
    assert len(shop.sales()) == 2
    assert (shop.quantity(listed.product_id), shop.quantity(two.product_id)) == (0, 1)
    assert len(shop.jobs()) == jobs_before + 2  # just the two syncs


async def test_history_and_cancelled_orders_are_not_sales(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-OLD")
    vinted_sale(shop, listed, "V-OLD", when=datetime.now(UTC) - timedelta(days=2))
    shop.ebay.add_order(listed.sku)
    (order,) = shop.ebay.orders.values()
    order["orderFulfillmentStatus"] = "CANCELLED"

    vinted = await shop.sync("vinted")
    ebay = await shop.sync("ebay")

    assert (vinted["new_lines"], vinted["sales"]) == (1, 0)  # sold before it was listed here
    assert (ebay["new_lines"], ebay["sales"]) == (1, 0)
    assert shop.sales() == []
    assert shop.quantity(listed.product_id) == 1


async def test_a_sold_out_product_is_not_published_again(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-RELIST")
    service = MarketplaceJobService(shop.db)
    later = datetime.now(UTC) + timedelta(hours=1)
    relist = service.create_job("ebay", "publish", listed.product_id, run_at=later)
    shop.etsy.add_receipt(int(listed.etsy))

    await shop.sync("etsy")

    with shop.db.session(readonly=True) as session:
        assert session.get_one(MarketplaceJob, relist.id).status == "cancelled"


async def test_orders_before_a_listing_was_imported_are_history(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-IMPORTED")
    # the product existed long ago, but its Vinted item became known to Marketdesk today:
    # a sale of yesterday is the item's history, not a sale to act on
    with shop.db.session() as session, session.begin():
        product = session.get_one(Product, listed.product_id)
        product.created_at = datetime.now(UTC) - timedelta(days=30)
    vinted_sale(shop, listed, "V-YESTERDAY", when=datetime.now(UTC) - timedelta(days=1))

    result = await shop.sync("vinted")

    assert (result["new_lines"], result["sales"]) == (1, 0)
    assert shop.quantity(listed.product_id) == 1


async def test_a_paused_delete_is_not_taken_for_the_delist(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-PAUSED")
    service = MarketplaceJobService(shop.db)
    held = service.create_job("ebay", "delete", listed.product_id, priority=4)
    service.pause_job(held.id)
    shop.etsy.add_receipt(int(listed.etsy), quantity=1)

    await shop.sync("etsy")

    (sale,) = shop.sales()
    ebay_action = next(a for a in sale.actions if a["marketplace"] == "ebay")
    assert ebay_action["job_id"] != held.id  # its own delete, at priority 1, runs now
    with shop.db.session(readonly=True) as session:
        own = session.get_one(MarketplaceJob, ebay_action["job_id"])
        assert (own.priority, own.status) == (1, "pending")


async def test_etsy_publish_refuses_a_product_already_live_there(shop: Shop) -> None:
    listed = await shop.list_everywhere("AD-TWICE")
    result = await shop.job("etsy", "publish", listed.product_id)
    assert result["status"] == "failed"
    assert f"already on Etsy as listing {listed.etsy}" in result["error"]


def edit_product(shop: Shop, product_id: int, **values: Any) -> None:
    with shop.db.session() as session, session.begin():
        product = session.get_one(Product, product_id)
        for name, value in values.items():
            setattr(product, name, value)


async def test_a_sales_quantity_update_on_ebay_changes_only_the_quantity(shop: Shop) -> None:
    """The catalog's title was changed meanwhile to one eBay would refuse: the follow-up
    of a sale still lowers the quantity, and leaves the listing's title as it was."""
    listed = await shop.list_everywhere("AD-ONLYQ", quantity=3)
    title_before = shop.ebay.inventory[listed.sku]["product"]["title"]
    edit_product(shop, listed.product_id, title="x" * 120)  # over eBay's 80
    shop.etsy.add_receipt(int(listed.etsy), quantity=1)
    await shop.sync("etsy")
    (done,) = await shop.drain("ebay")
    assert done["status"] == "completed", done
    item = shop.ebay.inventory[listed.sku]
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 2
    assert item["product"]["title"] == title_before
    await SaleWatcher(shop.db).settle()
    assert [sale.status for sale in shop.sales()] == ["done"]


async def test_a_quantity_update_for_an_ebay_listing_that_ended_meanwhile_completes(
    shop: Shop,
) -> None:
    """eBay refuses the quantity of an offer that is not live (it answers per item, HTTP
    200 overall): nothing is left for sale there, so no alarm; the listing is noted as
    ended."""
    listed = await shop.list_everywhere("AD-ENDED", quantity=3)
    (offer,) = [o for o in shop.ebay.offers.values() if o["sku"] == listed.sku]
    offer["status"] = "UNPUBLISHED"  # ended on eBay meanwhile
    shop.etsy.add_receipt(int(listed.etsy), quantity=1)
    await shop.sync("etsy")
    (done,) = await shop.drain("ebay")
    assert done["status"] == "completed", done
    assert shop.ebay.quantity_updates == 0
    assert shop.listing_state(listed.product_id, "ebay") == "ended"
    await SaleWatcher(shop.db).settle()
    (sale,) = shop.sales()
    assert sale.status == "done"
