"""A product listed on the fake eBay, the fake Etsy and a scripted Vinted, for sale tests.

:class:`Shop` holds the database, the accounts, the fakes, the bridge and its scripted
plugin; :meth:`Shop.list_everywhere` publishes one product on all three through the real
handlers, :meth:`Shop.sync` runs a marketplace's order sync and :meth:`Shop.drain`
every due job of a marketplace. :func:`open_shop` sets one up (connected accounts, a
bridge with its scripted plugin, the events collected).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.accounts import AccountManager
from app.bridge.server import BridgeServer
from app.db import Database
from app.events import Event, SaleAlert
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.product import Product
from app.models.user.sale import Sale
from tests.fakes import FakeEbay, FakeEtsy
from tests.support.marketplaces import add_product, connect_ebay, connect_etsy, run_job
from tests.support.plugin_client import ScriptedPlugin
from tests.support.vinted_script import ScriptedVinted

VINTED_FIELDS = {"catalog_id": 1206, "condition": "very_good"}
BRIDGE_TOKEN = "autodelist-tests"
PHOTO_URL = "https://img.example/jacket.jpg"


@dataclass
class Listed:
    """A product and its listing id on each marketplace."""

    product_id: int
    sku: str
    ebay: str
    etsy: str
    vinted: str


@dataclass
class Shop:
    """Everything a sale test needs."""

    db: Database
    accounts: AccountManager
    ebay: FakeEbay
    etsy: FakeEtsy
    bridge: BridgeServer
    vinted: ScriptedVinted
    plugin: ScriptedPlugin
    photos: Path
    events: list[Event] = field(default_factory=list)

    async def job(self, marketplace: str, action: str, product_id: int | None = None) -> Any:
        """Create one job and run it; its result dict."""
        data = VINTED_FIELDS if marketplace == "vinted" and action == "publish" else None
        _, result = await run_job(
            self.db,
            self.accounts,
            marketplace,
            action,
            product_id,
            input_data=data,
            photos_dir=self.photos,
            plugin=self.bridge,
        )
        return result

    async def list_everywhere(self, sku: str, quantity: int = 1) -> Listed:
        """A new product published on eBay, Etsy and Vinted."""
        photo = self.photos / f"{sku}.jpg"
        photo.write_bytes(b"\xff\xd8\xff\xe0" + b"jpeg" * 64)
        product = add_product(
            self.db, sku=sku, quantity=quantity, photos=[str(photo), PHOTO_URL], title=sku
        )
        ids = {}
        for marketplace in ("ebay", "etsy", "vinted"):
            result = await self.job(marketplace, "publish", product)
            assert result["status"] == "completed", result
            ids[marketplace] = str(result["result"]["listing_id"])
        return Listed(product, sku, ids["ebay"], ids["etsy"], ids["vinted"])

    async def sync(self, marketplace: str) -> dict[str, Any]:
        """Queue the marketplace's order sync and run its due jobs; the sync's result."""
        code = "orders" if marketplace == "vinted" else "sync_orders"
        created = MarketplaceJobService(self.db).create_job(marketplace, code)
        results = await self.drain(marketplace)
        (result,) = [r for r in results if r["job_id"] == created.id]
        assert result["status"] == "completed", result
        return dict(result["result"])

    async def drain(self, marketplace: str) -> list[dict[str, Any]]:
        """Run every due job of ``marketplace``; their results."""
        processor = MarketplaceJobProcessor(
            self.db,
            marketplace=marketplace,
            accounts=self.accounts,
            plugin=self.bridge,
            photos_dir=self.photos,
        )
        results = []
        try:
            while (result := await processor.process_next_job()) is not None:
                results.append(result)
        finally:
            await processor.close()
        return results

    def quantity(self, product_id: int) -> int:
        """The product's quantity in the catalog."""
        with self.db.session(readonly=True) as session:
            return session.get_one(Product, product_id).quantity

    def sales(self) -> list[Sale]:
        """Every recorded sale, oldest first."""
        with self.db.session(readonly=True) as session:
            return list(session.scalars(select(Sale).order_by(Sale.id)).all())

    def jobs(self, **where: Any) -> list[MarketplaceJob]:
        """Jobs matching column values, oldest first."""
        query = select(MarketplaceJob).order_by(MarketplaceJob.id)
        for column, value in where.items():
            query = query.where(getattr(MarketplaceJob, column) == value)
        with self.db.session(readonly=True) as session:
            return list(session.scalars(query).all())

    def listing_state(self, product_id: int, marketplace: str) -> str:
        """The state of the product's listing on ``marketplace``."""
        with self.db.session(readonly=True) as session:
            row = session.scalars(
                select(MarketplaceListing).where(
                    MarketplaceListing.product_id == product_id,
                    MarketplaceListing.marketplace == marketplace,
                )
            ).one()
            return row.state

    def alerts(self) -> list[SaleAlert]:
        """The sale alerts published so far."""
        return [event for event in self.events if isinstance(event, SaleAlert)]


@asynccontextmanager
async def open_shop(
    db: Database, accounts: AccountManager, ebay: FakeEbay, etsy: FakeEtsy, photos: Path
) -> AsyncIterator[Shop]:
    """eBay and Etsy connected, the bridge listening with the scripted plugin paired, and
    every event of the database collected in :attr:`Shop.events`."""
    await connect_ebay(accounts, ebay)
    await connect_etsy(accounts, etsy)
    bridge = BridgeServer(BRIDGE_TOKEN, port=0)
    await bridge.start()
    vinted = ScriptedVinted()
    plugin = ScriptedPlugin(bridge.port, BRIDGE_TOKEN, vinted.answers())
    await plugin.connect()
    stage = Shop(db, accounts, ebay, etsy, bridge, vinted, plugin, photos)
    unsubscribe = db.events.subscribe(stage.events.append)
    try:
        yield stage
    finally:
        unsubscribe()
        await plugin.close()
        await bridge.stop()


def vinted_sale(
    shop: Shop, listed: Listed, order_id: str, when: datetime | None = None
) -> dict[str, str]:
    """The scripted Vinted sells the product's item; the order as Vinted lists it."""
    shop.vinted.items[listed.vinted]["state"] = "sold"
    order = {
        "order_id": order_id,
        "item_id": listed.vinted,
        "title": listed.sku,
        "price": "45.00",
        "currency": "EUR",
        "status": "paid",
        "sold_at": (when or datetime.now(UTC)).isoformat(),
        "buyer": "bob",
    }
    shop.vinted.orders.append(order)
    return order
