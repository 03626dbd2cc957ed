"""Cross-listing: batches per marketplace with per-job prices, and the handlers listing them.

The handlers run against the fake eBay and Etsy servers and the scripted plugin over the
real bridge, as in test_ebay.py, test_etsy.py and test_vinted_handlers.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts import AccountManager
from app.bridge.server import BridgeServer
from app.db import Database
from app.inventory import crosslist
from app.inventory.price_rules import PriceRule, Rounding
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.errors import InvalidJobRequestError
from app.marketplace.fields import resolve_fields
from app.marketplace.job_forms import FIELDS
from app.models import MarketplaceListing, Product
from app.models.user.marketplace_batch import MarketplaceBatch
from tests.fakes import FakeEbay, FakeEtsy
from tests.support.marketplaces import (
    EBAY_DEFAULTS,
    ETSY_DEFAULTS,
    add_product,
    connect_ebay,
    connect_etsy,
    run_job,
)
from tests.support.plugin_client import ScriptedPlugin
from tests.support.vinted_script import ScriptedVinted

TOKEN = "crosslist-tests"
VINTED_FIELDS = {"catalog_id": 1206, "condition": "very_good"}


def listing_price(db: Database, product_id: int, marketplace: str) -> Decimal | None:
    with db.session(readonly=True) as session:
        return session.scalars(
            select(MarketplaceListing.price).where(
                MarketplaceListing.product_id == product_id,
                MarketplaceListing.marketplace == marketplace,
            )
        ).first()


def set_price(db: Database, product_id: int, price: str) -> None:
    with db.session() as session, session.begin():
        session.get_one(Product, product_id).price = Decimal(price)


def preview(
    db: Database, ids: list[int], marketplaces: list[str], rules: dict[str, PriceRule]
) -> list[crosslist.PlanRow]:
    with db.session(readonly=True) as session:
        inputs = crosslist.load_inputs(session, ids)
    return crosslist.plan(inputs.products, marketplaces, rules, inputs.listed, queued=inputs.queued)


# -- the price override in the handlers ------------------------------------------------
def test_marketplace_fields_ignore_the_price_key() -> None:
    given = {**EBAY_DEFAULTS, "price": "12.50"}
    assert resolve_fields("eBay", FIELDS["ebay"], given, None) == EBAY_DEFAULTS


async def test_ebay_publish_and_update_list_the_jobs_price(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="XL-1")
    _, result = await run_job(
        db, accounts, "ebay", "publish", product, input_data={"price": "49.99"}
    )
    assert result["status"] == "completed", result
    (offer,) = fake_ebay.offers.values()
    assert offer["pricingSummary"]["price"] == {"value": "49.99", "currency": "USD"}
    assert listing_price(db, product, "ebay") == Decimal("49.99")

    _, updated = await run_job(db, accounts, "ebay", "update", product, input_data={"price": "52"})
    assert updated["status"] == "completed", updated
    (offer,) = fake_ebay.offers.values()
    assert offer["pricingSummary"]["price"]["value"] == "52.00"
    assert listing_price(db, product, "ebay") == Decimal("52.00")

    # without an override the catalog price is listed, as before
    _, plain = await run_job(db, accounts, "ebay", "update", product)
    assert plain["status"] == "completed", plain
    (offer,) = fake_ebay.offers.values()
    assert offer["pricingSummary"]["price"]["value"] == "45.00"


async def test_a_bad_price_fails_naming_the_field_before_any_call(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.reset_counters()
    _, result = await run_job(db, accounts, "ebay", "publish", product, input_data={"price": "0"})
    assert result["status"] == "failed"
    assert result["error"] == "Invalid eBay fields: price: Price must be more than 0"
    assert fake_ebay.calls_to("*", "/sell/.*") == 0


async def test_etsy_publish_and_update_list_the_jobs_price(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path, sku="XL-2", quantity=2)
    _, result = await run_job(
        db, accounts, "etsy", "publish", product, input_data={"price": "39.50"}, photos_dir=tmp_path
    )
    assert result["status"] == "completed", result
    listing_id = int(result["result"]["listing_id"])
    assert fake_etsy.listings[listing_id]["price"]["amount"] == 3950
    (offering,) = fake_etsy.inventories[listing_id]["products"][0]["offerings"]
    assert offering["price"]["amount"] == 3950
    assert listing_price(db, product, "etsy") == Decimal("39.50")

    _, updated = await run_job(db, accounts, "etsy", "update", product, input_data={"price": "41"})
    assert updated["status"] == "completed", updated
    assert fake_etsy.listings[listing_id]["price"]["amount"] == 4100
    assert listing_price(db, product, "etsy") == Decimal("41.00")


@pytest.fixture
async def vinted() -> AsyncIterator[tuple[BridgeServer, ScriptedVinted]]:
    """The bridge with the scripted plugin connected, and the Vinted behind it."""
    server = BridgeServer(TOKEN, port=0)
    await server.start()
    scripted = ScriptedVinted()
    try:
        async with ScriptedPlugin(server.port, TOKEN, scripted.answers()):
            yield server, scripted
    finally:
        await server.stop()


async def test_vinted_publish_and_update_send_the_jobs_price(
    db: Database,
    accounts: AccountManager,
    vinted: tuple[BridgeServer, ScriptedVinted],
    tmp_path: Path,
) -> None:
    bridge, scripted = vinted
    product = add_product(db, tmp_path)
    _, result = await run_job(
        db,
        accounts,
        "vinted",
        "publish",
        product,
        input_data={**VINTED_FIELDS, "price": "38.00"},
        photos_dir=tmp_path,
        plugin=bridge,
    )
    assert result["status"] == "completed", result
    item_id = result["result"]["listing_id"]
    assert scripted.items[item_id]["fields"]["price"] == "38.00"
    assert listing_price(db, product, "vinted") == Decimal("38.00")

    _, updated = await run_job(
        db,
        accounts,
        "vinted",
        "update",
        product,
        input_data={**VINTED_FIELDS, "price": "36.5"},
        photos_dir=tmp_path,
        plugin=bridge,
    )
    assert updated["status"] == "completed", updated
    assert scripted.items[item_id]["fields"]["price"] == "36.50"


# -- batches ---------------------------------------------------------------------------
def test_create_batch_takes_each_products_own_input(db: Database) -> None:
    a, b = add_product(db, title="A jacket"), add_product(db, title="B jacket")
    service = MarketplaceJobService(db)
    batch, jobs = service.create_batch(
        "etsy", "publish", [a, b], None, {"taxonomy_id": 1}, per_product={b: {"price": "9.50"}}
    )
    assert batch.total_count == 2
    assert [job.input_data for job in jobs] == [
        {"taxonomy_id": 1},
        {"taxonomy_id": 1, "price": "9.50"},
    ]
    with pytest.raises(InvalidJobRequestError, match="not in the batch"):
        service.create_batch("etsy", "delete", [a], per_product={b: {"price": "1"}})


def test_create_makes_one_batch_per_marketplace_with_each_price(
    db: Database, tmp_path: Path
) -> None:
    shirt = add_product(db, tmp_path, title="Linen shirt", price="20.00")
    coat = add_product(db, tmp_path, title="Wool coat", price="89.90")
    bare = add_product(db, title="Silk scarf", price="15.00")  # no photo: eBay only
    rules = {
        "ebay": PriceRule(percent=Decimal(10), rounding=Rounding.NINETY_NINE),
        "etsy": PriceRule(amount=Decimal("2.50")),
    }
    rows = preview(db, [shirt, coat, bare], ["ebay", "etsy"], rules)
    assert [(r.product_id, r.marketplace, str(r.price), r.skip) for r in rows] == [
        (shirt, "ebay", "21.99", None),
        (shirt, "etsy", "22.50", None),
        (coat, "ebay", "98.99", None),
        (coat, "etsy", "92.40", None),
        (bare, "ebay", "16.99", None),
        (bare, "etsy", "17.50", "Etsy needs at least one photo"),
    ]
    service = MarketplaceJobService(db)
    fields = {"ebay": EBAY_DEFAULTS, "etsy": ETSY_DEFAULTS}

    created = crosslist.create(service, rows, fields)

    assert [(b.marketplace, b.total) for b in created.batches] == [("ebay", 3), ("etsy", 2)]
    assert created.skipped == []
    ebay_jobs = service.list_jobs(marketplace="ebay")
    assert {job.product_id: job.input_data for job in ebay_jobs} == {
        shirt: {**EBAY_DEFAULTS, "price": "21.99"},
        coat: {**EBAY_DEFAULTS, "price": "98.99"},
        bare: {**EBAY_DEFAULTS, "price": "16.99"},
    }
    etsy_jobs = service.list_jobs(marketplace="etsy")
    assert {job.product_id: job.input_data["price"] for job in etsy_jobs if job.input_data} == {
        shirt: "22.50",
        coat: "92.40",
    }
    assert {job.batch_id for job in etsy_jobs} == {created.batches[1].batch_id}
    assert created.batches[0].job_ids == {job.product_id: job.id for job in ebay_jobs}

    # the same request again (a double click, a stale preview): no duplicate
    again = crosslist.create(service, rows, fields)
    assert again.batches == []
    assert {(r.product_id, r.marketplace, r.skip) for r in again.skipped} == {
        (shirt, "ebay", "a publish job is already waiting on eBay"),
        (coat, "ebay", "a publish job is already waiting on eBay"),
        (bare, "ebay", "a publish job is already waiting on eBay"),
        (shirt, "etsy", "a publish job is already waiting on Etsy"),
        (coat, "etsy", "a publish job is already waiting on Etsy"),
    }
    assert len(service.list_jobs()) == 5
    with db.session(readonly=True) as session:
        assert len(session.scalars(select(MarketplaceBatch)).all()) == 2
    # and a new preview says why
    skips = {r.skip for r in preview(db, [shirt], ["ebay"], rules)}
    assert skips == {"a publish job is already waiting on eBay"}


async def test_cross_listed_products_reach_ebay_at_the_rules_price(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    ids = [add_product(db, sku=f"CL-{i}", price=price) for i, price in enumerate(("10", "24.5"))]
    rows = preview(db, ids, ["ebay"], {"ebay": PriceRule(percent=Decimal(20))})
    created = crosslist.create(MarketplaceJobService(db), rows, {"ebay": EBAY_DEFAULTS})
    processor = MarketplaceJobProcessor(db, marketplace="ebay", accounts=accounts)
    results: list[dict[str, Any] | None] = []
    try:
        for _ in ids:
            results.append(await processor.process_next_job())
    finally:
        await processor.close()
    assert all(r is not None and r["status"] == "completed" for r in results), results
    prices = {o["sku"]: o["pricingSummary"]["price"]["value"] for o in fake_ebay.offers.values()}
    assert prices == {"CL-0": "12.00", "CL-1": "29.40"}
    with db.session(readonly=True) as session:
        batch = session.get_one(MarketplaceBatch, created.batches[0].batch_id)
        assert (batch.completed_count, batch.total_count) == (2, 2)
    # once listed, a new preview leaves them out
    assert {r.skip for r in preview(db, ids, ["ebay"], {})} == {"already on eBay (active)"}
