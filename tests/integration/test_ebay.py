"""eBay jobs through the processor against the fake eBay server (real HTTP on loopback)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.accounts import AccountManager
from app.db import Database
from app.ebay.client import seconds_until_quota_reset
from app.ebay.endpoints import SCOPES as EBAY_SCOPES
from app.events import ConnectionChanged, Event
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.models import MarketplaceListing, Order, Product
from app.models.user.marketplace_account import ConnectionState
from app.restapi.tokens import TokenSet
from tests.fakes import FakeEbay
from tests.support.marketplaces import (
    EBAY_DEFAULTS,
    add_product,
    connect_ebay,
    job,
    make_due,
    run_job,
)


def listing_of(db: Database, product_id: int) -> MarketplaceListing | None:
    with db.session(readonly=True) as session:
        return session.scalars(
            select(MarketplaceListing).where(
                MarketplaceListing.product_id == product_id,
                MarketplaceListing.marketplace == "ebay",
            )
        ).first()


async def publish(db: Database, accounts: AccountManager, product_id: int) -> dict[str, object]:
    _, result = await run_job(db, accounts, "ebay", "publish", product_id)
    assert result["status"] == "completed", result
    return result


async def test_publish_creates_item_offer_and_listing(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="JKT-1", photos=["https://img.example/1.jpg"])
    result = await publish(db, accounts, product)

    item = fake_ebay.inventory["JKT-1"]
    assert item["product"]["title"] == "Vintage denim jacket"
    assert item["product"]["aspects"] == {"Brand": ["Levi's"], "Size": ["M"]}
    assert item["product"]["imageUrls"] == ["https://img.example/1.jpg"]
    assert item["availability"]["shipToLocationAvailability"]["quantity"] == 1
    assert fake_ebay.offers_created == 1
    (offer,) = fake_ebay.offers.values()
    assert offer["pricingSummary"]["price"] == {"value": "45.00", "currency": "USD"}
    assert offer["categoryId"] == "11450"
    assert offer["status"] == "PUBLISHED"

    listing = listing_of(db, product)
    assert listing is not None
    assert listing.listing_id == offer["listing"]["listingId"]
    assert listing.offer_id == offer["offerId"]
    assert listing.sku == "JKT-1"
    assert listing.state == "active"
    assert listing.price == Decimal("45.00")
    assert result["result"]["listing_id"] == listing.listing_id  # type: ignore[index]


async def test_product_without_sku_gets_one(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    await publish(db, accounts, product)
    assert list(fake_ebay.inventory) == [f"MD-{product}"]


async def test_update_replaces_item_and_offer(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="JKT-2")
    await publish(db, accounts, product)
    with db.session() as session, session.begin():
        row = session.get_one(Product, product)
        row.price = Decimal("39.50")
        row.quantity = 2
        row.title = "Vintage denim jacket, size M"

    _, result = await run_job(db, accounts, "ebay", "update", product)

    assert result["status"] == "completed", result
    assert fake_ebay.inventory["JKT-2"]["product"]["title"] == "Vintage denim jacket, size M"
    (offer,) = fake_ebay.offers.values()
    assert offer["pricingSummary"]["price"]["value"] == "39.50"
    assert offer["availableQuantity"] == 2
    listing = listing_of(db, product)
    assert listing is not None and listing.price == Decimal("39.50") and listing.quantity == 2


async def test_update_of_unlisted_product_fails_clearly(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    _, result = await run_job(db, accounts, "ebay", "update", product)
    assert result["status"] == "failed"
    assert result["error"] == f"Product {product} is not listed on eBay: publish it first"
    assert fake_ebay.calls_to("*", "/sell/.*") == 0


async def test_delete_withdraws_and_deletes(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="JKT-3")
    await publish(db, accounts, product)

    _, result = await run_job(db, accounts, "ebay", "delete", product)

    assert result["status"] == "completed", result
    assert fake_ebay.calls_to("POST", r"/sell/inventory/v1/offer/[^/]+/withdraw") == 1
    assert "JKT-3" not in fake_ebay.inventory
    assert not fake_ebay.offers
    listing = listing_of(db, product)
    assert listing is not None and listing.state == "deleted"
    # deleting again is harmless
    _, again = await run_job(db, accounts, "ebay", "delete", product)
    assert again["status"] == "completed"
    assert again["result"]["deleted"] is False  # type: ignore[index]


async def test_sync_relinks_by_sku_and_keeps_unknown_items(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    first = add_product(db, sku="SYNC-1", title="First")
    second = add_product(db, sku="SYNC-2", title="Second")
    await publish(db, accounts, first)
    await publish(db, accounts, second)
    stranger = add_product(db, sku="SYNC-3", title="Listed elsewhere")
    await publish(db, accounts, stranger)
    with db.session() as session, session.begin():
        # the catalog lost its links, and one product is no longer in the catalog
        for row in session.scalars(select(MarketplaceListing)):
            session.delete(row)
        session.delete(session.get_one(Product, stranger))

    _, result = await run_job(db, accounts, "ebay", "sync")
    assert result["status"] == "completed", result
    assert result["result"] == {
        "success": True,
        "seen": 3,
        "linked": 2,
        "unmatched": 1,
        "ended": 0,
        "ambiguous": 0,
        "matched_by_title": 0,
    }
    first_listing = listing_of(db, first)
    assert first_listing is not None and first_listing.state == "active"
    assert first_listing.listing_id is not None and first_listing.offer_id is not None

    # twice: nothing duplicated
    _, again = await run_job(db, accounts, "ebay", "sync")
    assert again["result"]["seen"] == 3  # type: ignore[index]
    with db.session(readonly=True) as session:
        assert len(session.scalars(select(MarketplaceListing)).all()) == 3


async def test_sync_orders_stores_lines_and_moves_the_cursor(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="ORD-1")
    await publish(db, accounts, product)
    order_id = fake_ebay.add_order("ORD-1", quantity=1, price="45.00", buyer="anna")

    _, result = await run_job(db, accounts, "ebay", "sync_orders")
    assert result["status"] == "completed", result
    assert result["result"]["new_lines"] == 1  # type: ignore[index]
    with db.session(readonly=True) as session:
        (order,) = session.scalars(select(Order)).all()
    assert (order.marketplace, order.order_id, order.product_id) == ("ebay", order_id, product)
    assert (order.quantity, order.price, order.buyer) == (1, Decimal("45.00"), "anna")
    settings = await accounts.settings("ebay")
    assert settings is not None and settings.orders_cursor

    _, again = await run_job(db, accounts, "ebay", "sync_orders")
    assert again["result"]["new_lines"] == 0  # type: ignore[index]
    with db.session(readonly=True) as session:
        assert len(session.scalars(select(Order)).all()) == 1


async def test_missing_fields_fail_before_any_call(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay, defaults={"marketplace_id": "EBAY_US"})
    product = add_product(db)
    fake_ebay.reset_counters()
    _, result = await run_job(
        db, accounts, "ebay", "publish", product, input_data={"condition": "SHINY"}
    )
    assert result["status"] == "failed"
    error = str(result["error"])
    assert error.startswith("Invalid eBay fields: ")
    assert "category_id: Category id is required" in error
    assert "condition: Condition must be one of NEW" in error
    assert "merchant_location_key" in error
    assert fake_ebay.calls == []


async def test_ebay_validation_message_is_kept(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.fail_next(
        "POST",
        "/sell/inventory/v1/offer",
        400,
        {
            "errors": [
                {
                    "errorId": 25005,
                    "domain": "API_INVENTORY",
                    "category": "REQUEST",
                    "message": "The category ID is invalid.",
                    "longMessage": "Category 11450 is not a leaf category.",
                }
            ]
        },
    )
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "failed"
    assert result["error"] == "eBay: Category 11450 is not a leaf category."
    assert job(db, job_id).retry_count == 0


async def test_rate_limit_429_is_waited_out_inside_the_job(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.fail_next(
        "POST",
        "/sell/inventory/v1/offer",
        429,
        {"errors": [{"errorId": 2001, "message": "Too many requests."}]},
        {"Retry-After": "1"},
    )
    started = asyncio.get_running_loop().time()
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "completed", result
    assert asyncio.get_running_loop().time() - started >= 0.9
    assert job(db, job_id).attempts == 1
    assert fake_ebay.offers_created == 1


async def test_long_retry_after_goes_back_to_the_queue(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.fail_next(
        "PUT", "/sell/inventory/v1/inventory_item/.*", 429, {"errors": []}, {"Retry-After": "120"}
    )
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "pending" and result["will_retry"]
    stored = job(db, job_id)
    wait = (stored.run_at - datetime.now(UTC)).total_seconds()
    assert 100 < wait <= 120
    assert stored.retry_count == 1


async def test_daily_quota_parks_the_job_until_the_reset(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.daily_quota = fake_ebay.api_calls_today  # used up from now on
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "pending"
    assert "daily call limit" in str(result["error"])
    stored = job(db, job_id)
    assert stored.retry_count == 0  # parked, no retry spent
    expected = seconds_until_quota_reset()
    wait = (stored.run_at - datetime.now(UTC)).total_seconds()
    assert abs(wait - expected) < 30


async def test_server_error_then_success(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db)
    fake_ebay.fail_next("POST", r"/sell/inventory/v1/offer/[^/]+/publish", 503, {"errors": []})
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "pending" and result["will_retry"]
    assert "HTTP 503" in str(result["error"])

    make_due(db, job_id)
    processor = MarketplaceJobProcessor(db, marketplace="ebay", accounts=accounts)
    retried = await processor.process_next_job()
    await processor.close()
    assert retried is not None and retried["status"] == "completed", retried
    # the retry resumed at the publish step: one item write, one offer
    assert fake_ebay.calls_to("PUT", "/sell/inventory/v1/inventory_item/.*") == 1
    assert fake_ebay.offers_created == 1


async def test_lost_answer_after_offer_creation_reuses_the_offer(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    """eBay created the offer but the answer never came: the retry must not make another."""
    await connect_ebay(accounts, fake_ebay)
    product = add_product(db, sku="CRASH-1")
    fake_ebay.stall_next("POST", "/sell/inventory/v1/offer", 3.0)  # client timeout is 2 s
    job_id, result = await run_job(db, accounts, "ebay", "publish", product)
    assert result["status"] == "pending", result
    assert "did not answer in time" in str(result["error"])
    await asyncio.sleep(1.5)  # the fake finishes creating the offer
    assert fake_ebay.offers_created == 1

    make_due(db, job_id)
    processor = MarketplaceJobProcessor(db, marketplace="ebay", accounts=accounts)
    retried = await processor.process_next_job()
    await processor.close()
    assert retried is not None and retried["status"] == "completed", retried
    assert fake_ebay.offers_created == 1
    assert retried["result"]["offer_id"] == next(iter(fake_ebay.offers))
    assert len(fake_ebay.listings) == 1


async def test_expired_token_is_refreshed_once_for_concurrent_jobs(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    products = [add_product(db, sku=f"CONC-{i}", title=f"Item {i}") for i in range(4)]
    fake_ebay.expire_access_tokens()  # Marketdesk still believes its token valid
    service = MarketplaceJobService(db)
    for product in products:
        service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    processor = MarketplaceJobProcessor(db, marketplace="ebay", accounts=accounts)
    claimed = await processor.claim({"ebay": 4})
    results = await asyncio.gather(*(processor.run_claimed(c) for c in claimed))
    await processor.close()
    assert [r["status"] for r in results] == ["completed"] * 4
    assert fake_ebay.token_refreshes == 1


async def test_token_near_expiry_is_refreshed_before_the_call(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    minted = fake_ebay.issue_tokens(expires_in=60, scope=" ".join(EBAY_SCOPES))  # < 5 min left
    tokens = TokenSet.from_response(minted)
    refreshes = fake_ebay.token_refreshes
    await accounts.store_tokens("ebay", tokens)  # renewed at once, while asking who it is
    await publish(db, accounts, add_product(db))
    assert fake_ebay.token_refreshes == refreshes + 1
    assert fake_ebay.calls_to("*", "/sell/.*") == 3  # no 401 round trip


async def test_revoked_refresh_token_pauses_jobs_until_reconnected(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay
) -> None:
    await connect_ebay(accounts, fake_ebay)
    events: list[Event] = []
    db.events.subscribe(events.append)
    product = add_product(db)
    fake_ebay.revoke_refresh_tokens()
    fake_ebay.expire_access_tokens()

    job_id, result = await run_job(db, accounts, "ebay", "publish", product)

    assert result["status"] == "paused"
    assert "reconnect" in str(result["error"])
    status = await accounts.status("ebay")
    assert status.state == ConnectionState.RECONNECT_NEEDED
    assert any(
        isinstance(e, ConnectionChanged) and e.state == ConnectionState.RECONNECT_NEEDED
        for e in events
    )
    # a second job does not even try: there are no tokens left
    fake_ebay.reset_counters()
    second = add_product(db, title="Second")
    second_id, second_result = await run_job(db, accounts, "ebay", "publish", second)
    assert second_result["status"] == "paused"
    assert fake_ebay.calls == []

    # the seller reconnects: the paused jobs run again
    await connect_ebay(accounts, fake_ebay)
    assert job(db, job_id).status == "pending"
    assert job(db, second_id).status == "pending"
    processor = MarketplaceJobProcessor(db, marketplace="ebay", accounts=accounts)
    done = [await processor.process_next_job(), await processor.process_next_job()]
    await processor.close()
    assert [d["status"] for d in done if d] == ["completed", "completed"]


async def test_tokens_live_in_the_keyring_not_the_database(
    db: Database, accounts: AccountManager, fake_ebay: FakeEbay, db_path: Path
) -> None:
    await connect_ebay(accounts, fake_ebay)
    await publish(db, accounts, add_product(db))
    stored = accounts.secrets.get(next(k for k in _keys(accounts) if k.endswith("/tokens")))
    assert stored is not None
    token = TokenSet.from_json(stored)
    db.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert token.access_token.encode() not in raw
    assert token.refresh_token is not None and token.refresh_token.encode() not in raw
    assert fake_ebay.client_secret.encode() not in raw


def _keys(accounts: AccountManager) -> list[str]:
    backend = accounts.secrets.backend  # type: ignore[attr-defined]
    return [name for (_service, name) in backend.passwords]


async def test_not_configured_account_pauses_the_job(
    db: Database, accounts: AccountManager
) -> None:
    product = add_product(db)
    _, result = await run_job(db, accounts, "ebay", "publish", product, input_data=EBAY_DEFAULTS)
    assert result["status"] == "paused"
    assert result["error"] == "eBay is not set up: enter the app keys in Settings"
