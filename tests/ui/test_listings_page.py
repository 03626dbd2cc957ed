"""The Listings page: rows and filters, Link / Create product / Dismiss / Unlink, refreshes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from app.db import Database
from app.events import JobChanged
from app.marketplace.listings import RemoteListing, reconcile
from app.models import MarketplaceListing, Product
from app.models.user.marketplace_listing import ListingState
from app.secret_store import KeyringSecretStore
from app.ui.context import UiContext
from app.ui.desktop import Desktop
from app.ui.listings_model import COLUMNS, listing_text
from app.ui.listings_page import ListingsPage
from app.ui.main_window import PAGES
from app.ui.products_page import ProductsPage
from app.workbench import Workbench
from tests.support.handlers import scripted_registry
from tests.support.keyring import MemoryKeyring
from tests.ui.conftest import signal_future

Errors = list[tuple[str, BaseException]]


def add(db: Database, title: str, price: str = "20.00") -> int:
    with db.session() as session, session.begin():
        product = Product(title=title, price=Decimal(price), currency="EUR", quantity=1)
        session.add(product)
        session.flush()
        return product.id


def sync(db: Database, marketplace: str, *items: tuple[str, str, str, str]) -> None:
    """Listings (listing id, title, price, state) as a sync of ``marketplace`` reads them."""
    remotes = [
        RemoteListing(
            listing_id=lid,
            title=title,
            price=Decimal(price),
            currency="EUR",
            quantity=1,
            state=state,
        )
        for lid, title, price, state in items
    ]
    with db.session() as session, session.begin():
        reconcile(session, marketplace, remotes, complete=True)


def row(db: Database, listing_id: str) -> MarketplaceListing:
    with db.session(readonly=True) as session:
        found = session.scalars(
            select(MarketplaceListing).where(MarketplaceListing.listing_id == listing_id)
        ).one()
    return found


def texts(page: ListingsPage) -> list[list[str]]:
    return [
        [
            listing_text(view, column)
            for column in range(len(COLUMNS))
            if COLUMNS[column] != "Last synced"
        ]
        for view in page.model.rows
    ]


def sample(db: Database) -> dict[str, int]:
    ids = {
        "jacket": add(db, "Denim jacket", "45.00"),
        "boots": add(db, "Chelsea boots", "60.00"),
        "boots2": add(db, "Chelsea boots", "60.00"),
        "scarf": add(db, "Wool scarf", "15.00"),
    }
    sync(
        db,
        "vinted",
        ("V1", "Denim jacket", "44.00", ListingState.ACTIVE),
        ("V2", "Chelsea boots", "60.00", ListingState.ACTIVE),
        ("V3", "Straw hat", "9.00", ListingState.SOLD_OUT),
    )
    sync(db, "ebay", ("E1", "Wool scarf", "15.00", ListingState.ACTIVE))
    return ids


async def test_rows_and_filters(ctx: UiContext, db: Database, errors: Errors) -> None:
    ids = sample(db)
    page = ListingsPage(ctx)
    await page.refresh()
    assert texts(page) == [
        [
            "eBay",
            "E1",
            "Wool scarf",
            "15.00 EUR",
            "1",
            "active",
            f"#{ids['scarf']} Wool scarf (by title)",
        ],
        [
            "Vinted",
            "V1",
            "Denim jacket",
            "44.00 EUR",
            "1",
            "active",
            f"#{ids['jacket']} Denim jacket (by title)",
        ],
        ["Vinted", "V2", "Chelsea boots", "60.00 EUR", "1", "active", "ambiguous: 2 candidates"],
        ["Vinted", "V3", "Straw hat", "9.00 EUR", "1", "sold out", "unmatched"],
    ]
    assert all(view.last_synced_at is not None for view in page.model.rows)
    assert page.count_label.text() == "4 listing(s), 2 to match"

    page.marketplace_filter.setCurrentIndex(page.marketplace_filter.findData("vinted"))
    await ctx.drain()
    assert [view.listing_id for view in page.model.rows] == ["V1", "V2", "V3"]
    page.unmatched_only.setChecked(True)
    await ctx.drain()
    assert [view.listing_id for view in page.model.rows] == ["V2", "V3"]
    page.marketplace_filter.setCurrentIndex(page.marketplace_filter.findData("ebay"))
    await ctx.drain()
    assert page.model.rows == []

    # the Products page says where each product is listed, and in which state
    products = ProductsPage(ctx, Path("unused"))
    await products.refresh()
    listed = {row.id: row.listed_on for row in products.model.rows}
    assert listed[ids["jacket"]] == "Vinted: active"
    assert listed[ids["scarf"]] == "eBay: active"
    assert listed[ids["boots"]] == ""
    assert errors == []


async def test_link_create_dismiss_and_unlink_reach_the_database(
    ctx: UiContext, db: Database, errors: Errors
) -> None:
    ids = sample(db)
    page = ListingsPage(ctx)
    page.show()
    await page.refresh()
    changed: list[bool] = []
    page.listingsChanged.connect(lambda: changed.append(True))

    # an ambiguous listing: its two candidates come first, the first is chosen
    page.select_ids([row(db, "V2").id])
    await ctx.drain()
    combo = page.product_combo
    assert [combo.itemData(i) for i in range(2)] == [ids["boots"], ids["boots2"]]
    assert combo.itemText(0).endswith("(candidate)")
    assert combo.currentData() == ids["boots"]
    combo.setCurrentIndex(1)
    assert page.link_button.isEnabled() and not page.unlink_button.isEnabled()
    page.link_button.click()
    await ctx.drain()
    assert row(db, "V2").product_id == ids["boots2"]
    assert row(db, "V2").data["decided"] == "linked"
    assert page.status.text() == f"Linked the listing to product #{ids['boots2']}"
    assert changed

    # an unmatched listing: nothing is chosen until the seller picks; Create product
    page.select_ids([row(db, "V3").id])
    await ctx.drain()
    assert combo.currentData() is None and not page.link_button.isEnabled()
    assert page.create_button.isEnabled()
    page.create_button.click()
    await ctx.drain()
    made = row(db, "V3").product_id
    assert made is not None
    with db.session(readonly=True) as session:
        product = session.get_one(Product, made)
    assert (product.title, product.price) == ("Straw hat", Decimal("9.00"))
    assert page.model.view(row(db, "V3").id).product_text == f"#{made} Straw hat"  # type: ignore[union-attr]

    products = ProductsPage(ctx, Path("unused"))
    await products.refresh()
    assert {r.id: r.listed_on for r in products.model.rows}[made] == "Vinted: sold out"

    # unlink, then dismiss: no longer among the unmatched ones
    page.select_ids([row(db, "V1").id])
    await ctx.drain()
    assert page.unlink_button.isEnabled() and not page.dismiss_button.isEnabled()
    page.unlink_button.click()
    await ctx.drain()
    assert row(db, "V1").product_id is None
    assert row(db, "V1").data["decided"] == "unlinked"
    assert page.dismiss_button.isEnabled()
    page.dismiss_button.click()
    await ctx.drain()
    assert row(db, "V1").data["decided"] == "dismissed"
    page.unmatched_only.setChecked(True)
    await ctx.drain()
    assert page.model.rows == []
    assert errors == []


async def test_linking_a_product_listed_there_asks_first(
    ctx: UiContext, db: Database, errors: Errors
) -> None:
    ids = sample(db)
    page = ListingsPage(ctx)
    page.show()
    await page.refresh()
    page.select_ids([row(db, "V3").id])
    await ctx.drain()
    assert await page.link_current(ids["jacket"]) is False  # jacket has V1 on Vinted
    box = page.confirm_box
    assert box is not None and box.isVisible()
    assert "already linked to listing V1 on Vinted" in box.text()
    box.button(QMessageBox.StandardButton.No).click()
    await ctx.drain()
    assert row(db, "V3").product_id is None

    assert await page.link_current(ids["jacket"]) is False
    box = page.confirm_box
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    await ctx.drain()
    assert row(db, "V3").product_id == ids["jacket"]
    assert row(db, "V1").product_id is None
    assert errors == []


async def test_finished_jobs_refresh_the_page(ctx: UiContext, db: Database, errors: Errors) -> None:
    page = ListingsPage(ctx)
    page.show()
    await page.refresh()
    assert page.model.rows == []
    sync(db, "etsy", ("T1", "Linen shirt", "25.00", ListingState.ACTIVE))
    refreshed = signal_future(page.refreshed)
    db.events.publish(JobChanged(job_id=1, marketplace="etsy", status="completed"))
    await asyncio.wait_for(refreshed, 5)
    assert [view.listing_id for view in page.model.rows] == ["T1"]
    await ctx.drain()
    assert errors == []


async def test_the_window_has_a_listings_page(
    db: Database, tmp_path: Path, settings: QSettings, keyring_backend: MemoryKeyring
) -> None:
    workbench = Workbench(
        db,
        tmp_path,
        secrets=KeyringSecretStore(keyring_backend),
        handlers=scripted_registry(),
        bridge_port=0,
    )
    desktop = Desktop(
        db,
        tmp_path,
        workbench=workbench,
        settings=settings,
        start_processing=False,
        show_welcome=False,
    )
    window = await desktop.open()
    try:
        number = [title for title, _key in PAGES].index("Listings") + 1
        assert window.tabs.tabText(number - 1) == "Listings"
        shortcut = QKeySequence(f"Ctrl+{number}")
        (action,) = [a for a in window.actions() if a.shortcut() == shortcut]
        action.trigger()
        assert window.tabs.currentIndex() == number - 1
        assert window.listings.isVisible()
    finally:
        window.request_quit()
        await asyncio.wait_for(desktop.close(), 15)
