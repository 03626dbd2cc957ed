"""Etsy jobs through the processor against the fake Etsy server (real HTTP on loopback)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.accounts import AccountManager
from app.db import Database
from app.marketplace import MarketplaceJobProcessor
from app.models import MarketplaceListing, Order, Product
from tests.fakes import FakeEtsy
from tests.support.marketplaces import add_product, connect_etsy, job, make_due, run_job


@pytest.fixture
def backend() -> str:
    """These tests exercise HTTP and OAuth; SQLite is enough (eBay's run on both)."""
    return "sqlite"


def listing_of(db: Database, product_id: int) -> MarketplaceListing | None:
    with db.session(readonly=True) as session:
        return session.scalars(
            select(MarketplaceListing).where(
                MarketplaceListing.product_id == product_id,
                MarketplaceListing.marketplace == "etsy",
            )
        ).first()


async def publish(db: Database, accounts: AccountManager, product: int, photos: Path) -> str:
    _, result = await run_job(db, accounts, "etsy", "publish", product, photos_dir=photos)
    assert result["status"] == "completed", result
    return str(result["result"]["listing_id"])


async def test_publish_drafts_uploads_and_activates(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path, sku="ETSY-1")

    listing_id = await publish(db, accounts, product, tmp_path)

    remote = fake_etsy.listings[int(listing_id)]
    assert remote["state"] == "active"
    assert remote["title"] == "Vintage denim jacket"
    assert (remote["who_made"], remote["when_made"], remote["taxonomy_id"]) == (
        "someone_else",
        "2010_2019",
        1296,
    )
    assert remote["skus"] == ["ETSY-1"]
    assert len(fake_etsy.images[int(listing_id)]) == 1
    assert fake_etsy.pkce_verified == 0  # tokens were minted, no consent flow here
    listing = listing_of(db, product)
    assert listing is not None
    assert (listing.listing_id, listing.state, listing.sku) == (listing_id, "active", "ETSY-1")
    assert listing.url == remote["url"]


async def test_publish_needs_a_photo_before_any_call(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, photos=["/nowhere/missing.jpg"])
    fake_etsy.reset_counters()
    _, result = await run_job(db, accounts, "etsy", "publish", product)
    assert result["status"] == "failed"
    assert result["error"] == "Invalid Etsy fields: photos: file(s) not found: /nowhere/missing.jpg"
    assert fake_etsy.calls == []


async def test_failed_activation_resumes_without_a_second_draft(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path)
    fake_etsy.fail_next("PATCH", r"/v3/application/shops/\d+/listings/\d+", 500, {"error": "boom"})
    job_id, result = await run_job(db, accounts, "etsy", "publish", product, photos_dir=tmp_path)
    assert result["status"] == "pending" and result["will_retry"]
    assert result["error"] == "Etsy: boom (HTTP 500)"

    make_due(db, job_id)
    processor = MarketplaceJobProcessor(
        db, marketplace="etsy", accounts=accounts, photos_dir=tmp_path
    )
    retried = await processor.process_next_job()
    await processor.close()
    assert retried is not None and retried["status"] == "completed", retried
    assert len(fake_etsy.listings) == 1
    (images,) = fake_etsy.images.values()
    assert len(images) == 1
    assert fake_etsy.calls_to("POST", r"/v3/application/shops/\d+/listings") == 1


async def test_validation_array_errors_keep_etsy_words(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path)
    fake_etsy.fail_next(
        "POST",
        r"/v3/application/shops/\d+/listings",
        400,
        [
            {"path": "/taxonomy_id", "type": "invalid", "message": "taxonomy_id 1296 is retired"},
            {"path": "/price", "type": "range", "message": "Price must be at most 50000"},
        ],
    )
    _, result = await run_job(db, accounts, "etsy", "publish", product, photos_dir=tmp_path)
    assert result["status"] == "failed"
    assert result["error"] == (
        "Etsy: taxonomy_id 1296 is retired; price: Price must be at most 50000"
    )


async def test_update_changes_listing_and_inventory(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path, sku="ETSY-2", quantity=3)
    listing_id = await publish(db, accounts, product, tmp_path)
    with db.session() as session, session.begin():
        row = session.get_one(Product, product)
        row.title = "Vintage denim jacket (M)"
        row.price = Decimal("42.00")
        row.quantity = 2

    _, result = await run_job(db, accounts, "etsy", "update", product)

    assert result["status"] == "completed", result
    remote = fake_etsy.listings[int(listing_id)]
    assert remote["title"] == "Vintage denim jacket (M)"
    assert remote["quantity"] == 2
    assert remote["price"]["amount"] == 4200
    listing = listing_of(db, product)
    assert listing is not None and listing.quantity == 2 and listing.price == Decimal("42.00")


async def test_update_to_zero_stock_deactivates(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path)
    listing_id = await publish(db, accounts, product, tmp_path)
    with db.session() as session, session.begin():
        session.get_one(Product, product).quantity = 0
    _, result = await run_job(db, accounts, "etsy", "update", product)
    assert result["status"] == "completed", result
    assert fake_etsy.listings[int(listing_id)]["state"] == "inactive"


async def test_delete_removes_the_listing(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path)
    listing_id = await publish(db, accounts, product, tmp_path)
    _, result = await run_job(db, accounts, "etsy", "delete", product)
    assert result["status"] == "completed", result
    assert int(listing_id) not in fake_etsy.listings
    listing = listing_of(db, product)
    assert listing is not None and listing.state == "deleted"


async def test_sync_links_by_listing_id_then_sku(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    linked = add_product(db, tmp_path, title="Linked", sku="E-LINK")
    by_sku = add_product(db, tmp_path, title="By SKU", sku="E-SKU")
    await publish(db, accounts, linked, tmp_path)
    await publish(db, accounts, by_sku, tmp_path)
    with db.session() as session, session.begin():
        row = session.scalars(
            select(MarketplaceListing).where(MarketplaceListing.product_id == by_sku)
        ).one()
        session.delete(row)

    _, result = await run_job(db, accounts, "etsy", "sync")
    assert result["status"] == "completed", result
    assert result["result"] == {
        "success": True,
        "seen": 2,
        "linked": 2,
        "unmatched": 0,
        "ended": 0,
        "ambiguous": 0,
        "matched_by_title": 0,
    }
    relinked = listing_of(db, by_sku)
    assert relinked is not None and relinked.state == "active"

    # a listing deleted on Etsy itself is marked ended by the next sync
    remote_id = listing_of(db, linked)
    assert remote_id is not None and remote_id.listing_id is not None
    with fake_etsy.lock:
        del fake_etsy.listings[int(remote_id.listing_id)]
    _, again = await run_job(db, accounts, "etsy", "sync")
    assert again["result"]["ended"] == 1  # type: ignore[index]
    ended = listing_of(db, linked)
    assert ended is not None and ended.state == "ended"


async def test_sync_orders_links_receipts_to_products(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path, sku="E-ORD")
    listing_id = await publish(db, accounts, product, tmp_path)
    receipt = fake_etsy.add_receipt(int(listing_id), quantity=1)

    job_id, result = await run_job(db, accounts, "etsy", "sync_orders")
    assert result["status"] == "completed", result
    assert result["result"]["new_lines"] == 1  # type: ignore[index]
    with db.session(readonly=True) as session:
        (order,) = session.scalars(select(Order)).all()
    assert (order.marketplace, order.order_id, order.product_id) == ("etsy", str(receipt), product)
    assert order.listing_id == listing_id
    assert job(db, job_id).status == "completed"

    _, again = await run_job(db, accounts, "etsy", "sync_orders")
    assert again["result"]["new_lines"] == 0  # type: ignore[index]


async def test_wrong_shared_secret_is_an_auth_problem(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    settings = await accounts.settings("etsy")
    assert settings is not None
    await accounts.configure(settings, secret="not-the-secret")
    product = add_product(db, tmp_path)
    _, result = await run_job(db, accounts, "etsy", "publish", product, photos_dir=tmp_path)
    assert result["status"] == "failed"
    assert "x-api-key" in str(result["error"])


async def test_lost_answer_to_the_draft_reuses_the_draft(
    db: Database, accounts: AccountManager, fake_etsy: FakeEtsy, tmp_path: Path
) -> None:
    await connect_etsy(accounts, fake_etsy)
    product = add_product(db, tmp_path)
    fake_etsy.stall_next("POST", r"/v3/application/shops/\d+/listings", 3.0)  # timeout is 2 s
    job_id, result = await run_job(db, accounts, "etsy", "publish", product, photos_dir=tmp_path)
    assert result["status"] == "pending", result
    await asyncio.sleep(1.5)  # the fake finishes creating the draft
    assert len(fake_etsy.listings) == 1

    make_due(db, job_id)
    processor = MarketplaceJobProcessor(
        db, marketplace="etsy", accounts=accounts, photos_dir=tmp_path
    )
    retried = await processor.process_next_job()
    await processor.close()
    assert retried is not None and retried["status"] == "completed", retried
    assert len(fake_etsy.listings) == 1
    (listing,) = fake_etsy.listings.values()
    assert listing["state"] == "active"
