"""The cross-listing dialog: preview follows the rules, rows left out are explained, Create
queues one batch per marketplace at the rules' prices, and progress and results follow."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

from app.accounts import AccountManager
from app.accounts.settings import AccountSettings
from app.db import Database
from app.inventory.price_rules import RULES_FILE
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.models.user.marketplace_listing import MarketplaceListing
from app.ui.context import UiContext
from app.ui.crosslist_dialog import CrosslistDialog
from app.ui.products_page import ProductsPage
from tests.support.handlers import scripted_registry
from tests.support.marketplaces import EBAY_DEFAULTS, ETSY_DEFAULTS, add_product
from tests.ui.conftest import signal_future


def preview(dialog: CrosslistDialog) -> list[tuple[str, ...]]:
    table = dialog.preview
    return [
        tuple(table.item(row, column).text() for column in range(table.columnCount()))
        for row in range(table.rowCount())
    ]


async def followed(dialog: CrosslistDialog) -> None:
    """Wait for the preview to follow the changes just made (it does so on the loop)."""
    await asyncio.wait_for(signal_future(dialog.previewed), 5)


async def test_preview_follows_the_rules_and_explains_rows_left_out(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    shirt = add_product(
        db, tmp_path, title="Linen shirt", price="20.00", currency="EUR", condition="good"
    )
    scarf = add_product(db, title="Silk scarf", price="10.00", currency="EUR")
    coat = add_product(db, tmp_path, title="Wool coat", price="80.00", currency="EUR", quantity=0)
    with db.session() as session, session.begin():
        session.add(MarketplaceListing(product_id=shirt, marketplace="ebay", state="active"))
    dialog = CrosslistDialog(ctx, [shirt, scarf, coat], tmp_path)
    await dialog.load()
    for editor in dialog.rules.values():
        assert editor.check.isChecked()
    rows = preview(dialog)
    assert len(rows) == 9
    assert rows[0] == (
        f"#{shirt} Linen shirt",
        "eBay",
        "20.00 EUR",
        "",
        "already on eBay (active)",
    )
    assert rows[1] == (f"#{shirt} Linen shirt", "Etsy", "20.00 EUR", "20.00 EUR", "")
    assert rows[4][1:] == ("Etsy", "10.00 EUR", "", "Etsy needs at least one photo")
    assert rows[5][4] == "Vinted needs at least one photo"
    assert {row[4] for row in rows[6:]} == {"out of stock (quantity 0)"}
    assert dialog.summary.text() == "3 listing(s) in 3 batch(es); 6 left out (see Note)"

    etsy = dialog.rules["etsy"]
    etsy.percent.setValue(10)
    etsy.rounding.setCurrentIndex(etsy.rounding.findData(".99"))
    await followed(dialog)
    assert etsy.words.text() == "+10% round .99"
    assert preview(dialog)[1][3] == "21.99 EUR"  # 22.00 -> the nearest .99
    assert preview(dialog)[3][3] == "10.00 EUR"  # eBay: the scarf, no rule

    dialog.rules["vinted"].amount.setValue(-25)
    await followed(dialog)
    assert preview(dialog)[2][4] == "the price rule gives -5.00"
    dialog.rules["vinted"].minimum.setValue(4.5)
    await followed(dialog)
    assert preview(dialog)[2][3:] == ("4.50 EUR", "")

    dialog.rules["vinted"].check.setChecked(False)
    dialog.rules["ebay"].check.setChecked(False)
    await followed(dialog)
    assert [row[1] for row in preview(dialog)] == ["Etsy", "Etsy", "Etsy"]
    assert not dialog.field_tabs.isTabEnabled(0) and dialog.field_tabs.isTabEnabled(1)
    assert errors == []


async def test_create_queues_one_batch_per_marketplace_and_follows_it(
    ctx: UiContext,
    db: Database,
    accounts: AccountManager,
    tmp_path: Path,
    errors: list[tuple[str, BaseException]],
) -> None:
    await accounts.configure(
        AccountSettings(
            marketplace="ebay",
            environment="local",
            base_url="http://127.0.0.1:9",
            client_id="app",
            redirect="ru-name",
            defaults=dict(EBAY_DEFAULTS),
        )
    )
    ctx.workbench = SimpleNamespace(accounts=accounts, data_dir=tmp_path)  # type: ignore[assignment]
    ids = [
        add_product(db, tmp_path, title=f"Denim jacket {i}", price=price)
        for i, price in enumerate(("20", "35.50"))
    ]
    dialog = CrosslistDialog(ctx, ids, tmp_path)
    await dialog.load()
    ebay_fields = dialog.fields["ebay"]
    assert ebay_fields["category_id"].value() == "11450"  # the seller's default, pre-filled
    dialog.rules["vinted"].check.setChecked(False)
    dialog.rules["ebay"].percent.setValue(10)
    await followed(dialog)

    await dialog.create_batches()
    assert dialog.message.text() == "Correct the fields marked in red (Etsy)"
    assert "required" in dialog.fields["etsy"]["taxonomy_id"].message.text()
    assert dialog.field_tabs.currentIndex() == 1
    assert MarketplaceJobService(db).list_jobs() == []

    for name, value in ETSY_DEFAULTS.items():
        dialog.fields["etsy"][name].set_value(value)
    created = signal_future(dialog.created)
    refreshed = signal_future(dialog.results.refreshed)
    await dialog.create_batches()
    (done,) = await asyncio.wait_for(created, 5)

    assert [(b.marketplace, b.total) for b in done.batches] == [("ebay", 2), ("etsy", 2)]
    service = MarketplaceJobService(db)
    prices = {
        (job.marketplace, job.product_id): (job.input_data or {}).get("price")
        for job in service.list_jobs()
    }
    assert prices == {
        ("ebay", ids[0]): "22.00",
        ("ebay", ids[1]): "39.05",
        ("etsy", ids[0]): "20.00",
        ("etsy", ids[1]): "35.50",
    }
    ebay_job = service.list_jobs(marketplace="ebay")[0]
    assert ebay_job.input_data == {**EBAY_DEFAULTS, "price": ebay_job.input_data["price"]}
    saved = json.loads((tmp_path / RULES_FILE).read_text())
    assert saved["rules"] == {"ebay": "+10%", "etsy": "no change", "vinted": "no change"}
    assert dialog.message.text().startswith("Queued: eBay batch")
    assert not dialog.create_button.isEnabled()

    progress = dialog.results.batches["ebay"]
    assert not progress.isHidden() and progress.bar.maximum() == 2
    assert progress.label.text().endswith(": 0 of 2 done")
    await asyncio.wait_for(refreshed, 5)
    assert [row[1:4] for row in dialog.results.results()] == [
        ("eBay", str(done.batches[0].job_ids[ids[0]]), "pending"),
        ("eBay", str(done.batches[0].job_ids[ids[1]]), "pending"),
        ("Etsy", str(done.batches[1].job_ids[ids[0]]), "pending"),
        ("Etsy", str(done.batches[1].job_ids[ids[1]]), "pending"),
    ]

    finished = signal_future(progress.finished)
    processor = MarketplaceJobProcessor(db, marketplace="ebay", handlers=scripted_registry())
    for _ in ids:
        await processor.process_next_job()
    await processor.close()
    await asyncio.wait_for(finished, 5)
    assert progress.label.text().endswith(": 2 of 2 done")
    while [row[3] for row in dialog.results.results()[:2]] != ["completed", "completed"]:
        await asyncio.wait_for(signal_future(dialog.results.refreshed), 5)
    assert [row[3] for row in dialog.results.results()[2:]] == ["pending", "pending"]
    assert errors == []


async def test_products_page_opens_it_on_the_selection_with_saved_rules(
    ctx: UiContext,
    db: Database,
    accounts: AccountManager,
    tmp_path: Path,
    errors: list[tuple[str, BaseException]],
) -> None:
    rules = {"version": 1, "rules": {"ebay": "+5% round whole"}}
    (tmp_path / RULES_FILE).write_text(json.dumps(rules))
    ctx.workbench = SimpleNamespace(accounts=accounts, data_dir=tmp_path)  # type: ignore[assignment]
    add_product(db, title="Wool hat")
    second = add_product(db, title="Cotton tee")
    page = ProductsPage(ctx, tmp_path / "photos")
    await page.refresh()
    assert not page.crosslist_button.isEnabled()
    page.select_ids([second])
    assert page.crosslist_button.isEnabled()
    dialog = await page.open_crosslist()
    assert dialog is not None and dialog.isVisible()
    assert dialog.product_ids == [second]
    assert dialog.rules["ebay"].words.text() == "+5% round whole"
    assert preview(dialog)[0][3] == "47.00 USD"  # 45.00 + 5 % = 47.25 -> 47
    dialog.close()
    assert errors == []
