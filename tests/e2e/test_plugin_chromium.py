"""End to end in a real browser: Chromium + the plugin + the bridge + a fake Vinted site.

Debian's Chromium runs headless with an unpacked copy of ``resources/plugin`` whose
``provision.json`` (the plugin's test-only setting) holds the bridge's port and pairing
token and points it at :class:`tests.fakes.vinted.FakeVinted` on loopback. The plugin
pairs by itself; then publish, update, sync, orders and delete jobs run through the
processor, and the test checks what the fake site received: every API request made from
the page (same origin) with the page's CSRF token and the ``anon_id`` header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app.accounts import AccountManager
from app.bridge.config import write_plugin_copy
from app.bridge.server import BridgeServer
from app.db import Database
from app.events import BridgeStateChanged, Event, EventBus
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.order import Order
from app.models.user.product import Product
from tests.fakes.vinted import FakeVinted
from tests.support.chromium import Browser, launch
from tests.support.marketplaces import add_product, job, make_due, run_job

TOKEN = "e2e-pairing-token-0123456789"
FIELDS = {"catalog_id": 1206, "condition": "very_good", "package_size": "medium"}
PAIR_TIMEOUT = 45.0
#: Vinted actions' pace in these tests (the seeded 1-2.5 s would make them slow).
PACE_MS = 50


@dataclass
class Stage:
    """The running parts of one end-to-end test."""

    bridge: BridgeServer
    vinted: FakeVinted
    browser: Browser
    photos: Path


@pytest.fixture
def vinted() -> Iterator[FakeVinted]:
    with FakeVinted() as fake:
        yield fake


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The browser tests run on SQLite only (the bridge does not touch the database)."""
    return str(request.param)


async def wait_for(condition: Any, timeout: float, what: str, browser: Browser) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if browser.process.poll() is not None:
            pytest.fail(f"Chromium exited ({browser.process.returncode}):\n{browser.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout:.0f} s; Chromium log:\n{browser.log_tail()}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def stage(db: Database, vinted: FakeVinted, tmp_path: Path) -> AsyncIterator[Stage]:
    with db.session() as session, session.begin():
        session.execute(
            update(MarketplaceActionType)
            .where(MarketplaceActionType.marketplace == "vinted")
            .values(rate_limit_ms=PACE_MS)
        )
    bridge = BridgeServer(TOKEN, port=0, events=EventBus())
    await bridge.start()
    extension = write_plugin_copy(
        tmp_path / "plugin",
        bridge.port,
        TOKEN,
        vinted_origin=vinted.url.rstrip("/"),
        min_pace_ms=0,  # test-only: the plugin's 1 s floor would make these tests slow
    )
    photos = tmp_path / "photos"
    photos.mkdir()
    try:
        with launch(extension, tmp_path / "chromium") as browser:
            await wait_for(
                lambda: bridge.status().state == "connected",
                PAIR_TIMEOUT,
                "the plugin did not pair",
                browser,
            )
            yield Stage(bridge, vinted, browser, photos)
    finally:
        await bridge.stop()


async def vinted_job(
    db: Database,
    accounts: AccountManager,
    stage: Stage,
    action: str,
    product_id: int | None = None,
    **input_data: Any,
) -> dict[str, Any]:
    _, result = await run_job(
        db,
        accounts,
        "vinted",
        action,
        product_id,
        input_data=input_data or None,
        photos_dir=stage.photos,
        plugin=stage.bridge,
    )
    if result["status"] != "completed":
        pytest.fail(f"{action}: {result}\nplugin log:\n" + "\n".join(stage.browser.plugin_lines()))
    return dict(result["result"])


async def test_jobs_run_in_the_browser_against_vinted(
    db: Database, accounts: AccountManager, stage: Stage
) -> None:
    vinted, bridge = stage.vinted, stage.bridge
    status = bridge.status()
    assert status.plugin_version == "1.0.0"

    photo = stage.photos / "jacket.jpg"
    photo_bytes = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    photo.write_bytes(photo_bytes)
    product = add_product(
        db,
        title="Veste en jean Levi's",
        description="Trucker jacket, 1990s, light wash.",
        price="45.00",
        currency="EUR",
        brand="Levi's",
        size="M",
        photos=[str(photo)],
    )

    published = await vinted_job(db, accounts, stage, "publish", product, **FIELDS)
    item_id = int(published["listing_id"])
    items = vinted.items
    assert list(items) == [item_id]
    fields = items[item_id].fields
    assert (fields.title, fields.price, fields.currency) == (
        "Veste en jean Levi's",
        Decimal("45.00"),
        "EUR",
    )
    assert (fields.catalog_id, fields.brand, fields.size) == (1206, "Levi's", "M")
    assert (fields.status_id, fields.package_size_id) == (2, 2)  # very_good, medium
    (uploaded,) = vinted.photos.values()
    assert uploaded.data == photo_bytes
    assert fields.photo_ids == (uploaded.id,)
    assert published["url"].startswith(vinted.url.rstrip("/") + "/items/")

    with db.session() as session, session.begin():
        stored = session.get(Product, product)
        assert stored is not None
        stored.price = Decimal("39.50")
    await vinted_job(db, accounts, stage, "update", product, **FIELDS)
    assert vinted.items[item_id].fields.price == Decimal("39.50")

    only_on_vinted = vinted.add_item("Pull marin en laine", 25)
    synced = await vinted_job(db, accounts, stage, "sync")
    assert (synced["seen"], synced["linked"], synced["unmatched"]) == (2, 1, 1)

    vinted.sell_item(only_on_vinted, buyer="marie_b")
    orders = await vinted_job(db, accounts, stage, "orders")
    assert orders["new_lines"] == 1
    with db.session() as session:
        (order,) = session.scalars(select(Order)).all()
        assert (order.listing_id, order.buyer) == (str(only_on_vinted), "marie_b")

    await vinted_job(db, accounts, stage, "delete", product)
    assert item_id in vinted.deleted_items and item_id not in vinted.items
    with db.session() as session:
        row = session.scalars(
            select(MarketplaceListing).where(MarketplaceListing.product_id == product)
        ).one()
        assert row.state == "deleted"

    requests = vinted.api_requests
    assert requests, "the plugin made no API request"
    assert all(r.same_origin for r in requests), requests
    writes = [r for r in requests if r.method in ("POST", "PUT")]
    assert writes and all(r.csrf_ok for r in writes), writes


async def test_logged_out_browser_pauses_the_job(
    db: Database, accounts: AccountManager, stage: Stage
) -> None:
    stage.vinted.log_out()
    _, result = await run_job(db, accounts, "vinted", "sync", plugin=stage.bridge)
    assert result["status"] == "paused", result
    assert "logged out" in result["error"]


async def test_vinted_429_and_challenge_back_off_in_the_plugin(
    db: Database, accounts: AccountManager, stage: Stage
) -> None:
    vinted = stage.vinted
    vinted.rate_limit_next(r"/api/v2/wardrobe/.*", retry_after=600)
    job_id, result = await run_job(db, accounts, "vinted", "sync", plugin=stage.bridge)
    assert result["status"] == "pending", result
    assert "slow down" in result["error"]
    stored = job(db, job_id)
    assert stored.retry_count == 0 and stored.run_at is not None
    wait = (stored.run_at.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 550 < wait <= 600
    # inside the back-off the plugin answers at once, without touching Vinted
    before = len(vinted.api_requests)
    make_due(db, job_id)
    _, again = await run_job(db, accounts, "vinted", "orders", plugin=stage.bridge)
    assert again["status"] == "pending" and "slow down" in again["error"]
    assert len(vinted.api_requests) == before


async def test_challenge_page_parks_the_job(
    db: Database, accounts: AccountManager, stage: Stage
) -> None:
    stage.vinted.challenge_next(r"/api/v2/my_orders")
    job_id, result = await run_job(db, accounts, "vinted", "orders", plugin=stage.bridge)
    assert result["status"] == "pending", result
    assert "security check" in result["error"]
    assert job(db, job_id).retry_count == 0


async def test_plugin_reconnects_after_the_program_restarts(stage: Stage) -> None:
    port = stage.bridge.port
    await stage.bridge.stop()
    assert stage.bridge.status().state == "stopped"
    restarted = BridgeServer(TOKEN, port=port)
    await restarted.start()
    try:
        await wait_for(
            lambda: restarted.status().state == "connected",
            30,
            "the plugin did not come back",
            stage.browser,
        )
        status = await restarted.call("session_status", {}, 20)
        assert status["logged_in"] is True and status["login"] == "anna_resale"
    finally:
        await restarted.stop()


async def test_a_plugin_with_a_wrong_token_is_refused_once(
    vinted: FakeVinted, tmp_path: Path
) -> None:
    events: list[Event] = []
    bus = EventBus()
    bus.subscribe(events.append)
    bridge = BridgeServer(TOKEN, port=0, events=bus)
    await bridge.start()
    extension = write_plugin_copy(tmp_path / "plugin", bridge.port, "not-the-token")
    try:
        with launch(extension, tmp_path / "chromium") as browser:
            await wait_for(
                lambda: any(isinstance(e, BridgeStateChanged) and e.message for e in events),
                PAIR_TIMEOUT,
                "the plugin was not refused",
                browser,
            )
            await asyncio.sleep(4)  # a plugin that retried would knock again within 1-2 s
            refusals = [e for e in events if isinstance(e, BridgeStateChanged) and e.message]
            assert len(refusals) == 1
            assert "pairing token" in (refusals[0].message or "")
            assert bridge.status().state == "listening"
    finally:
        await bridge.stop()
