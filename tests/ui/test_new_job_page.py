"""The new-job form: actions per marketplace, field checks, jobs and batches created."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.db import Database
from app.marketplace import MarketplaceJobService
from app.ui.context import UiContext
from app.ui.new_job_page import NewJobPage
from tests.support.marketplaces import EBAY_DEFAULTS, add_product


async def test_forms_list_each_marketplaces_actions(ctx: UiContext, db: Database) -> None:
    page = NewJobPage(ctx)
    await page.refresh()
    codes = {
        marketplace: [form.action.itemData(i) for i in range(form.action.count())]
        for marketplace, form in page.forms.items()
    }
    assert sorted(codes["vinted"]) == sorted(
        ["message", "orders", "publish", "update", "delete", "sync", "link_product"]
    )
    assert sorted(codes["ebay"]) == ["delete", "publish", "sync", "sync_orders", "update"]
    assert sorted(codes["etsy"]) == ["delete", "publish", "sync", "sync_orders", "update"]


async def test_ebay_publish_fields_are_checked_before_a_job_exists(
    ctx: UiContext, db: Database
) -> None:
    product = add_product(db)
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["ebay"]
    form.set_action("publish")
    assert set(form.editors) == set(EBAY_DEFAULTS)
    form.select_products([product])
    form.editors["category_id"].set_value("11450")
    form.editors["condition"].set_value("USED_GOOD")

    await form.create_job()

    assert form.result.text() == "Correct the fields marked in red"
    assert "required" in form.editors["merchant_location_key"].message.text()
    assert form.editors["category_id"].message.text() == ""
    assert MarketplaceJobService(db).list_jobs() == []

    for name, value in EBAY_DEFAULTS.items():
        form.editors[name].set_value(value)
    await form.create_job()
    (job,) = MarketplaceJobService(db).list_jobs()
    assert form.result.text() == f"Job {job.id}: publish on eBay, pending"
    assert (job.marketplace, job.product_id) == ("ebay", product)
    assert job.input_data == EBAY_DEFAULTS


async def test_etsy_number_field_shows_its_problem_as_typed(ctx: UiContext) -> None:
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["etsy"]
    form.set_action("publish")
    form.editors["taxonomy_id"].set_value("shoes")
    assert form.editors["taxonomy_id"].message.text() == (
        "Category (taxonomy id) must be a whole number, not 'shoes'"
    )
    form.editors["taxonomy_id"].set_value("1296")
    assert form.editors["taxonomy_id"].message.text() == ""


async def test_many_products_make_a_batch_and_account_actions_need_none(
    ctx: UiContext, db: Database, tmp_path: Path
) -> None:
    products = [add_product(db, title=f"Item {i}") for i in range(3)]
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["vinted"]
    form.set_action("delete")
    assert form.editors == {}
    form.select_products(products)
    await form.create_job()
    assert form.result.text().startswith("Batch ")
    assert "3 delete job(s) on Vinted" in form.result.text()

    form.set_action("sync")
    assert not form.products.isEnabled()
    await form.create_job()
    jobs = MarketplaceJobService(db).list_jobs(marketplace="vinted")
    assert len(jobs) == 4
    assert jobs[0].product_id is None


async def test_product_actions_need_a_product(ctx: UiContext, db: Database) -> None:
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["etsy"]
    form.set_action("delete")
    await form.create_job()
    assert form.result.text() == "Choose at least one product"
    assert MarketplaceJobService(db).list_jobs() == []


async def test_batch_progress_follows_the_jobs(ctx: UiContext, db: Database) -> None:
    from app.marketplace import MarketplaceJobProcessor
    from tests.support.handlers import scripted_registry
    from tests.ui.conftest import signal_future

    products = [add_product(db, title=f"Item {i}") for i in range(3)]
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["etsy"]
    form.set_action("delete")
    form.select_products(products)
    await form.create_job()
    assert not form.progress.isHidden() and form.progress.bar.maximum() == 3
    assert form.progress.label.text().endswith(": 0 of 3 done")
    finished = signal_future(form.progress.finished)
    processor = MarketplaceJobProcessor(db, marketplace="etsy", handlers=scripted_registry())
    for _ in products:
        await processor.process_next_job()
    await processor.close()
    await asyncio.wait_for(finished, 5)
    assert form.progress.bar.value() == 3
    assert form.progress.label.text().endswith(": 3 of 3 done")


async def test_vinted_message_and_link_forms(ctx: UiContext, db: Database) -> None:
    product = add_product(db, title="Wool scarf")
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["vinted"]
    form.set_action("message")
    assert set(form.editors) == {"conversation_id", "body"}
    await form.create_job()
    assert MarketplaceJobService(db).list_jobs() == []  # nothing created with empty fields
    form.editors["conversation_id"].set_value("77")
    form.editors["body"].set_value("Yes, still available")
    await form.create_job()
    (job,) = MarketplaceJobService(db).list_jobs(marketplace="vinted")
    assert job.input_data == {"conversation_id": 77, "body": "Yes, still available"}

    form.set_action("link_product")
    assert set(form.editors) == {"item_id"}
    form.select_products([product])
    form.editors["item_id"].set_value("https://www.vinted.fr/items/4242-wool-scarf")
    await form.create_job()
    linked = MarketplaceJobService(db).list_jobs(marketplace="vinted")[0]
    assert linked.product_id == product
    assert linked.input_data == {"item_id": "https://www.vinted.fr/items/4242-wool-scarf"}
