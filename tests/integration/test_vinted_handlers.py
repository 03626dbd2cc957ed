"""The 7 Vinted handlers through the processor and the real bridge, plugin scripted.

The browser itself is exercised by tests/e2e; here a scripted plugin client answers over
a real WebSocket, so the paths that a browser can hardly be made to take are covered:
timeouts with lost answers, disconnects, 403 challenges, 429s, Vinted's refusals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.accounts import AccountManager
from app.bridge.server import BridgeServer
from app.db import Database
from app.marketplace import MarketplaceJobService
from app.marketplace.tables import tasks
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job import JobStatus
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.order import Order
from tests.support.marketplaces import add_product, job, make_due, run_job
from tests.support.plugin_client import PluginAnswer, ScriptedPlugin, Silence
from tests.support.vinted_script import ScriptedVinted

TOKEN = "vinted-handler-tests"
FIELDS = {"catalog_id": 1206, "condition": "very_good"}


@pytest.fixture
async def bridge() -> AsyncIterator[BridgeServer]:
    server = BridgeServer(TOKEN, port=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def vinted() -> ScriptedVinted:
    return ScriptedVinted()


@pytest.fixture
async def plugin(bridge: BridgeServer, vinted: ScriptedVinted) -> AsyncIterator[ScriptedPlugin]:
    async with ScriptedPlugin(bridge.port, TOKEN, vinted.answers()) as client:
        yield client


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    return folder


async def vinted_job(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    action: str,
    product_id: int | None = None,
    photos: Path | None = None,
    **input_data: Any,
) -> tuple[int, dict[str, Any]]:
    return await run_job(
        db,
        accounts,
        "vinted",
        action,
        product_id,
        input_data=input_data or None,
        photos_dir=photos,
        plugin=bridge,
    )


async def rerun(db: Database, accounts: AccountManager, bridge: BridgeServer, job_id: int) -> Any:
    from app.marketplace import MarketplaceJobProcessor

    make_due(db, job_id)
    processor = MarketplaceJobProcessor(db, marketplace="vinted", accounts=accounts, plugin=bridge)
    try:
        return await processor.process_next_job()
    finally:
        await processor.close()


def set_timeout(db: Database, code: str, seconds: int) -> None:
    with db.session() as session, session.begin():
        session.execute(
            update(MarketplaceActionType)
            .where(
                MarketplaceActionType.marketplace == "vinted", MarketplaceActionType.code == code
            )
            .values(timeout_seconds=seconds)
        )


def listing(db: Database, product_id: int) -> MarketplaceListing | None:
    with db.session() as session:
        return session.scalars(
            select(MarketplaceListing).where(
                MarketplaceListing.product_id == product_id,
                MarketplaceListing.marketplace == "vinted",
            )
        ).first()


async def test_publish_update_delete(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos, brand="Levi's", size="M", condition="good")
    _, result = await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    assert result["status"] == "completed", result
    assert plugin.actions() == ["upload_photo", "create_item"]
    assert plugin.calls[0].pace_ms == 2500  # publish's rate_limit_ms reaches the plugin
    item_id = result["result"]["listing_id"]
    sent = vinted.items[item_id]["fields"]
    assert sent["catalog_id"] == 1206
    assert (sent["brand"], sent["size"], sent["condition"]) == ("Levi's", "M", "very_good")
    assert (sent["price"], sent["currency"], sent["package_size"]) == ("45.00", "USD", "small")
    photo = vinted.photos[sent["photo_ids"][0]]
    assert photo["filename"].endswith(".jpg") and photo["content_type"] == "image/jpeg"
    row = listing(db, product)
    assert row is not None and (row.listing_id, row.state) == (item_id, "active")

    _, again = await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    assert again["status"] == "failed"
    assert "already on Vinted" in again["error"]

    with db.session() as session, session.begin():
        from app.models.user.product import Product

        stored = session.get(Product, product)
        assert stored is not None
        stored.price = stored.price + 5
    _, updated = await vinted_job(db, accounts, bridge, "update", product, photos, **FIELDS)
    assert updated["status"] == "completed", updated
    assert vinted.items[item_id]["price"] == "50.00"

    _, deleted = await vinted_job(db, accounts, bridge, "delete", product)
    assert deleted["status"] == "completed"
    assert item_id not in vinted.items
    row = listing(db, product)
    assert row is not None and row.state == "deleted"


async def test_lost_create_answer_is_not_published_twice(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos)
    decoy = vinted.add_item("Vintage denim jacket")  # same title, another item: not ours
    create = vinted.create_item

    def create_then_lose_the_answer(payload: dict[str, Any]) -> dict[str, Any]:
        create(payload)  # Vinted made the item...
        raise Silence  # ...but the answer never comes back

    plugin.answers["create_item"] = create_then_lose_the_answer
    set_timeout(db, "publish", 1)  # the job's budget: 1 s, then the answer counts as lost
    service = MarketplaceJobService(db)
    created = service.create_job(
        marketplace="vinted", action_code="publish", product_id=product, input_data=FIELDS
    )
    from app.marketplace import MarketplaceJobProcessor

    processor = MarketplaceJobProcessor(db, marketplace="vinted", accounts=accounts, plugin=bridge)
    try:
        first = await processor.process_next_job()
    finally:
        await processor.close()
    assert first is not None and first["status"] == "pending", first
    assert "Timed out after 1 s" in first["error"]
    assert len(vinted.items) == 2

    plugin.answers["create_item"] = create
    second = await rerun(db, accounts, bridge, created.id)
    assert second["status"] == "completed", second
    assert len(vinted.items) == 2  # found in the wardrobe, not created again
    assert plugin.actions().count("upload_photo") == 1  # the photo step was not redone
    ours = next(i for i in vinted.items if i != decoy)
    assert second["result"]["listing_id"] == ours  # by its photos, not by its title


@pytest.mark.parametrize(
    ("answer", "status", "error", "retry_after_min"),
    [
        (PluginAnswer("rate_limited", "429", status=429, retry_after=600), "pending", "slow", 590),
        (PluginAnswer("challenge", "captcha", status=403), "pending", "security check", 1790),
        (PluginAnswer("not_logged_in", "401", status=401), "paused", "logged out", None),
        (PluginAnswer("server_error", "HTTP 502", status=502), "pending", "HTTP 502", None),
        (
            PluginAnswer(
                "rejected", "Validation failed", status=422, fields={"price": "is too low"}
            ),
            "failed",
            "price: is too low",
            None,
        ),
    ],
)
async def test_plugin_errors_become_job_outcomes(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    answer: PluginAnswer,
    status: str,
    error: str,
    retry_after_min: float | None,
) -> None:
    def refuse(payload: dict[str, Any]) -> dict[str, Any]:
        raise answer

    plugin.answers["wardrobe"] = refuse
    job_id, result = await vinted_job(db, accounts, bridge, "sync")
    assert result["status"] == status, result
    assert error in result["error"]
    stored = job(db, job_id)
    if retry_after_min is not None:
        assert stored.attempts == 1
        assert stored.run_at is not None
        wait = (stored.run_at.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
        assert wait >= retry_after_min
        assert stored.retry_count == 0  # a 429 or a challenge spends no retry


async def test_disconnect_mid_call_is_retried_and_no_plugin_waits(
    db: Database, accounts: AccountManager, bridge: BridgeServer, vinted: ScriptedVinted
) -> None:
    def hang(payload: dict[str, Any]) -> dict[str, Any]:
        raise Silence

    plugin = ScriptedPlugin(bridge.port, TOKEN, {"wardrobe": hang})
    await plugin.connect()
    running = asyncio.create_task(vinted_job(db, accounts, bridge, "sync"))
    while not plugin.calls:
        await asyncio.sleep(0.02)
    await plugin.close()
    job_id, result = await asyncio.wait_for(running, 10)
    assert result["status"] == "pending"
    assert "Plugin disconnected" in result["error"]

    result = await rerun(db, accounts, bridge, job_id)  # no plugin at all now
    assert result["status"] == "pending"
    assert "plugin is not connected" in result["error"]
    assert job(db, job_id).retry_count <= 1


async def test_validation_before_any_call(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    photos: Path,
) -> None:
    product = add_product(db, photos, title="Hat", description="")
    _, result = await vinted_job(db, accounts, bridge, "publish", product, photos)
    assert result["status"] == "failed"
    assert "title: Vinted titles need at least 5 characters" in result["error"]
    assert "description" in result["error"]
    fine = add_product(db, photos)
    _, result = await vinted_job(
        db, accounts, bridge, "publish", fine, photos, catalog_id="shoes", condition="mint"
    )
    assert result["status"] == "failed"
    assert "catalog_id" in result["error"] and "condition" in result["error"]
    _, result = await vinted_job(db, accounts, bridge, "message", conversation_id="77")
    assert result["status"] == "failed" and "body" in result["error"]
    assert plugin.calls == []


async def test_sync_links_known_items_and_keeps_others(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos)
    _, published = await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    for n in range(120):  # two wardrobe pages
        vinted.add_item(f"Only on Vinted {n}", state="sold" if n % 2 else "active")
    _, result = await vinted_job(db, accounts, bridge, "sync")
    assert result["status"] == "completed", result
    assert result["result"]["seen"] == 121
    assert result["result"]["linked"] == 1 and result["result"]["unmatched"] == 120
    assert [c.payload["page"] for c in plugin.calls if c.action == "wardrobe"] == [1, 2]
    _, again = await vinted_job(db, accounts, bridge, "sync")
    assert again["result"]["seen"] == 121
    with db.session() as session:
        rows = session.scalars(
            select(MarketplaceListing).where(MarketplaceListing.marketplace == "vinted")
        ).all()
    assert len(rows) == 121  # a second sync duplicates nothing
    vinted.items.pop(published["result"]["listing_id"])
    _, third = await vinted_job(db, accounts, bridge, "sync")
    assert third["result"]["ended"] == 1


async def test_orders_are_stored_once_and_linked(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos)
    _, published = await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    item_id = published["result"]["listing_id"]
    now = datetime.now(UTC)
    vinted.orders.append(
        {
            "order_id": "9001",
            "item_id": item_id,
            "title": "Vintage denim jacket",
            "price": "45.00",
            "currency": "EUR",
            "status": "paid",
            "sold_at": (now - timedelta(hours=2)).isoformat(),
            "buyer": "bob",
        }
    )
    vinted.orders.append(
        {
            **vinted.orders[0],
            "order_id": "9000",
            "item_id": "1",
            "sold_at": (now - timedelta(days=60)).isoformat(),
        }
    )
    _, first = await vinted_job(db, accounts, bridge, "orders")
    assert first["status"] == "completed", first
    assert first["result"]["new_lines"] == 2
    vinted.orders[0]["status"] = "shipped"
    _, second = await vinted_job(db, accounts, bridge, "orders")
    assert (second["result"]["new_lines"], second["result"]["updated_lines"]) == (0, 1)
    with db.session() as session:
        orders = {o.order_id: o for o in session.scalars(select(Order)).all()}
    assert orders["9001"].product_id == product and orders["9001"].status == "shipped"
    assert orders["9000"].product_id is None


async def test_message_and_link_product(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    _, sent = await vinted_job(db, accounts, bridge, "message", conversation_id="77", body="Hi!")
    assert sent["status"] == "completed", sent
    assert vinted.replies == [{"conversation_id": "77", "body": "Hi!"}]
    _, missing = await vinted_job(db, accounts, bridge, "message", conversation_id="78", body="x")
    assert missing["status"] == "failed" and "conversation not found" in missing["error"]

    item_id = vinted.add_item("Wool scarf, hand knitted", price="18.00")
    product = add_product(db, photos, title="Wool scarf")
    url = f"https://www.vinted.fr/items/{item_id}-wool-scarf?referrer=catalog"
    _, linked = await vinted_job(db, accounts, bridge, "link_product", product, url=url)
    assert linked["status"] == "completed", linked
    row = listing(db, product)
    assert row is not None and row.listing_id == item_id and str(row.price) == "18.00"
    other = add_product(db, photos, title="Another scarf")
    _, taken = await vinted_job(db, accounts, bridge, "link_product", other, item_id=item_id)
    assert taken["status"] == "failed" and f"already linked to product {product}" in taken["error"]
    _, bad = await vinted_job(db, accounts, bridge, "link_product", other, item_id="nope")
    assert bad["status"] == "failed" and "not a Vinted item" in bad["error"]


async def test_a_short_wardrobe_read_ends_nothing(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos)
    await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    vinted.items.clear()

    def no_page_count(payload: dict[str, Any]) -> dict[str, Any]:
        return {"items": [], "page": 1}  # a changed answer shape: no total_pages

    plugin.answers["wardrobe"] = no_page_count
    _, result = await vinted_job(db, accounts, bridge, "sync")
    assert result["status"] == "completed"
    assert (result["result"]["complete"], result["result"]["ended"]) == (False, 0)
    row = listing(db, product)
    assert row is not None and row.state == "active"


async def test_order_times_in_any_zone_and_the_first_sync_window(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
) -> None:
    now = datetime.now(UTC)
    base = {"item_id": "1", "title": "t", "price": "5.00", "currency": "EUR", "status": "paid"}
    vinted.orders += [
        {
            **base,
            "order_id": "1",
            "sold_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        {
            **base,
            "order_id": "2",
            "sold_at": (now - timedelta(hours=3)).replace(tzinfo=None).isoformat(),
        },
        {
            **base,
            "order_id": "3",
            "sold_at": (now - timedelta(days=5))
            .astimezone(timezone(timedelta(hours=2)))
            .isoformat(),
        },
        {**base, "order_id": "4", "sold_at": (now - timedelta(days=200)).isoformat()},
    ]
    _, first = await vinted_job(db, accounts, bridge, "orders")
    assert first["status"] == "completed", first
    assert first["result"]["new_lines"] == 3  # the 200-day-old sale is before the first window
    cursor = datetime.fromisoformat(first["result"]["cursor"])
    assert abs((cursor - (now - timedelta(hours=1))).total_seconds()) < 1
    vinted.orders.clear()
    _, second = await vinted_job(db, accounts, bridge, "orders")
    assert second["result"]["cursor"] == first["result"]["cursor"]  # never moves back
    with db.session() as session:
        times = [o.ordered_at for o in session.scalars(select(Order)).all()]
    assert all(t is not None and t.tzinfo is not None for t in times)


async def test_a_message_whose_answer_was_lost_is_not_sent_twice(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
) -> None:
    send = vinted.send_message

    def send_then_lose_the_answer(payload: dict[str, Any]) -> dict[str, Any]:
        send(payload)
        raise Silence

    plugin.answers["send_message"] = send_then_lose_the_answer
    set_timeout(db, "message", 1)
    job_id, first = await vinted_job(
        db, accounts, bridge, "message", conversation_id="77", body="Yes, still available"
    )
    assert first["status"] == "pending", first
    plugin.answers["send_message"] = send
    second = await rerun(db, accounts, bridge, job_id)
    assert second["status"] == "completed", second
    assert second["result"]["found_in_inbox"] is True
    assert len(vinted.replies) == 1


async def test_delete_of_an_item_already_gone_is_done(
    db: Database,
    accounts: AccountManager,
    bridge: BridgeServer,
    plugin: ScriptedPlugin,
    vinted: ScriptedVinted,
    photos: Path,
) -> None:
    product = add_product(db, photos)
    await vinted_job(db, accounts, bridge, "publish", product, photos, **FIELDS)
    vinted.items.clear()
    _, deleted = await vinted_job(db, accounts, bridge, "delete", product)
    assert deleted["status"] == "completed"
    assert deleted["result"]["already_gone"] is True
    with db.session() as session:
        done_steps = session.execute(select(tasks.c.name)).scalars().all()
    assert "create_item" in done_steps


async def test_logged_out_jobs_resume_when_the_plugin_sees_a_login(
    db: Database, accounts: AccountManager, tmp_path: Path, secrets: Any
) -> None:
    from app.bridge.host import BridgeHost

    host = BridgeHost(db, tmp_path, secrets)
    host.server.port = 0
    assert await host.start()
    vinted = ScriptedVinted()
    answers = vinted.answers()

    def logged_out(payload: dict[str, Any]) -> dict[str, Any]:
        raise PluginAnswer("not_logged_in", "log in", status=401)

    answers["wardrobe"] = logged_out
    plugin = ScriptedPlugin(host.server.port, host.token, answers, vinted={"logged_in": False})
    await plugin.connect()
    job_id, result = await vinted_job(db, accounts, host.server, "sync")
    assert result["status"] == "paused"
    await plugin.send({"v": 1, "type": "status", "vinted": {"logged_in": True, "login": "anna"}})
    for _ in range(100):
        if job(db, job_id).status == JobStatus.PENDING:
            break
        await asyncio.sleep(0.05)
    assert job(db, job_id).status == JobStatus.PENDING
    await plugin.close()
    await host.close()
