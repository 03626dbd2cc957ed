"""Sales in the window: the dashboard's list, the tray's alarm, the order-sync intervals,
and the new-job form's "Run at"."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, QSettings, QTime
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from app.db import Database
from app.events import SaleAlert
from app.inventory.schedule import load_schedules, save_interval
from app.marketplace import MarketplaceJobService
from app.models import Product, Sale
from app.ui.context import UiContext
from app.ui.dashboard_page import DashboardPage
from app.ui.desktop import Desktop
from app.ui.new_job_page import NewJobPage
from app.ui.order_sync_box import OrderSyncBox
from app.workbench import Workbench
from tests.support.waiting import wait_until


def add_sales(db: Database) -> tuple[int, int]:
    """A product with an oversold sale, a failed delist and a sale that went fine."""
    now = datetime.now(UTC)
    with db.session() as session, session.begin():
        product = Product(title="Denim jacket", price=Decimal("45.00"), quantity=0)
        session.add(product)
        session.flush()
        rows = [
            Sale(
                marketplace=marketplace,
                order_id=order,
                line_id=order,
                product_id=product.id,
                quantity=1,
                sold_at=now,
                detected_at=now,
                quantity_before=before,
                quantity_after=0,
                oversell=oversell,
                status=status,
                message=message,
                actions=[],
            )
            for marketplace, order, before, oversell, status, message in (
                ("etsy", "E-1", 1, False, "done", None),
                ("ebay", "B-1", 1, False, "delist_failed", "could not take it off Vinted"),
                ("vinted", "V-1", 0, True, "delisting", "sold twice"),
            )
        ]
        session.add_all(rows)
        session.flush()
        return rows[1].id, rows[2].id


async def test_dashboard_lists_sales_needing_attention(ctx: UiContext, db: Database) -> None:
    _failed, oversold = add_sales(db)
    page = DashboardPage(ctx)
    box = page.sales
    assert box.empty.isVisibleTo(page)
    await page.refresh()

    assert box.texts() == [
        "Oversold — Vinted order V-1: sold twice",
        "Delist failed — eBay order B-1: could not take it off Vinted",
    ]
    assert not box.empty.isVisibleTo(page)

    # live: a new alert goes on top, an alert about a listed sale replaces its line
    db.events.publish(SaleAlert(99, None, "etsy", "oversell", "sold on Etsy and eBay"))
    db.events.publish(SaleAlert(oversold, None, "vinted", "delist_failed", "eBay said no"))
    await wait_until(lambda: len(box.texts()) == 3 and "eBay said no" in box.texts()[1])
    assert box.texts() == [
        "Oversold — Etsy: sold on Etsy and eBay",
        "Delist failed — Vinted: eBay said no",
        "Delist failed — eBay order B-1: could not take it off Vinted",
    ]
    db.events.publish(SaleAlert(5, None, "etsy", "oversell", "another seller's", user_id=2))
    await asyncio.sleep(0.05)
    assert len(box.texts()) == 3  # not this seller's


async def test_tray_alarms_about_sales_and_the_schedule_runs_with_processing(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, show_welcome=False)
    window = await desktop.open()
    notified: list[tuple[str, str, bool]] = []
    window.tray.notify = lambda title, text, critical=False: notified.append(  # type: ignore[method-assign]
        (title, text, critical)
    )
    try:
        assert workbench.scheduler.running and workbench.sales.running
        db.events.publish(SaleAlert(1, 7, "etsy", "oversell", "Oversold: Etsy order 1 …"))
        db.events.publish(SaleAlert(2, 7, "ebay", "oversell", "Oversold: eBay order 2 …"))
        await wait_until(lambda: bool(notified))
        assert notified == [("Sold twice!", "2 sales need attention: see the dashboard", True)]
        message = "“Denim jacket” sold on Etsy … End the listing on eBay by hand"
        db.events.publish(SaleAlert(3, 7, "etsy", "delist_failed", message))
        await wait_until(lambda: len(notified) == 2)
        assert notified[1] == ("Could not end a sold listing", message, True)
        assert window.dashboard.sales.texts()[0].endswith(message)
        undone = "eBay order 2 was cancelled: “Denim jacket” is back to 1 in stock."
        db.events.publish(SaleAlert(2, 7, "ebay", "voided", undone))
        await wait_until(lambda: len(notified) == 3)
        # good news, told plainly (not as an alarm)
        assert notified[2] == ("A sold order was cancelled or refunded", undone, False)
        window.dashboard.processing_button.click()  # pause: the schedule stops too
        await wait_until(lambda: not workbench.scheduler.running)
        assert not workbench.sales.running
    finally:
        window.request_quit()
        await desktop.close()
    assert not workbench.scheduler.running


async def test_order_sync_intervals_are_saved(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, show_welcome=False)
    window = await desktop.open()
    try:
        box: OrderSyncBox = window.settings_page.order_sync  # built now: it loads itself
        await desktop.ctx.drain()
        assert [box.minutes[m].value() for m in ("vinted", "ebay", "etsy")] == [5, 5, 5]
        assert box.status.text().startswith("Next: Vinted ")
        assert box.minutes["ebay"].minimum() == 1
        box.minutes["ebay"].setValue(2)
        box.minutes["etsy"].setValue(30)
        box.enabled["vinted"].setChecked(False)
        box.save_button.click()
        await desktop.ctx.drain()
        assert "Vinted" not in box.status.text() and "eBay" in box.status.text()
    finally:
        window.request_quit()
        await desktop.close()
    saved = {s.marketplace: s for s in load_schedules(db)}
    assert {m: s.interval_seconds for m, s in saved.items()} == {
        "vinted": 300,
        "ebay": 120,
        "etsy": 1800,
    }
    assert [saved[m].enabled for m in ("vinted", "ebay", "etsy")] == [False, True, True]


async def test_order_sync_box_shows_saved_intervals(ctx: UiContext, db: Database) -> None:
    save_interval(db, 1, "etsy", 30 * 60)
    save_interval(db, 1, "vinted", 90, enabled=False)  # shown in whole minutes, rounded up
    box = OrderSyncBox(ctx)
    await box.load()
    assert [box.minutes[m].value() for m in ("vinted", "ebay", "etsy")] == [2, 5, 30]
    assert [box.enabled[m].isChecked() for m in ("vinted", "ebay", "etsy")] == [False, True, True]


async def test_a_job_can_be_scheduled_with_run_at(ctx: UiContext, db: Database) -> None:
    add_sales(db)  # product 1
    with db.session() as session, session.begin():
        session.add(Product(title="Scarf", price=Decimal("12.00")))  # product 2
    page = NewJobPage(ctx)
    await page.refresh()
    form = page.forms["vinted"]
    form.set_action("delete")
    assert not form.run_at.isEnabled()
    form.later.setChecked(True)
    assert form.run_at.isEnabled()
    tomorrow = QDateTime(QDate.currentDate().addDays(1), QTime(9, 30))
    form.run_at.setDateTime(tomorrow)
    expected = datetime.fromtimestamp(tomorrow.toSecsSinceEpoch(), UTC)
    form.select_products([1])
    await form.create_job()
    (job,) = MarketplaceJobService(db).list_jobs()
    assert job.run_at == expected
    local = expected.astimezone()
    assert form.result.text() == (
        f"Job {job.id}: delete on Vinted, pending, runs at {local:%Y-%m-%d} 09:30"
    )

    form.select_products([1, 2])  # a batch, scheduled as well
    await form.create_job()
    batch_jobs = [j for j in MarketplaceJobService(db).list_jobs() if j.batch_id is not None]
    assert len(batch_jobs) == 1  # product 1's delete was already waiting
    assert batch_jobs[0].run_at == expected

    form.later.setChecked(False)  # back to "as soon as possible"
    form.set_action("sync")
    await form.create_job()
    newest = MarketplaceJobService(db).list_jobs()[0]
    assert abs(newest.run_at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_dashboard_lists_recent_sales_with_their_jobs(ctx: UiContext, db: Database) -> None:
    add_sales(db)
    with db.session() as session, session.begin():
        sale = session.scalars(select(Sale).where(Sale.order_id == "E-1")).one()
        product_id = sale.product_id
    job = MarketplaceJobService(db).create_job("ebay", "delete", product_id, priority=1)
    with db.session() as session, session.begin():
        sale = session.scalars(select(Sale).where(Sale.order_id == "E-1")).one()
        sale.actions = [{"job_id": job.id, "marketplace": "ebay", "action": "delete"}]
    page = DashboardPage(ctx)
    await page.refresh()
    lines = page.recent_sales.texts()
    assert len(lines) == 3
    assert lines[0].startswith("Vinted order V-1: Denim jacket, 1 sold (0 \u2192 0)")
    assert lines[-1] == (
        f"Etsy order E-1: Denim jacket, 1 sold (1 \u2192 0) \u2014 eBay delete #{job.id} "
        "pending [done]"
    )


async def test_a_voided_sale_needs_no_attention_and_says_so(ctx: UiContext, db: Database) -> None:
    _failed, oversold = add_sales(db)
    message = "Vinted order V-1 was cancelled: it had sold “Denim jacket” with none left"
    with db.session() as session, session.begin():
        sale = session.get_one(Sale, oversold)
        sale.status, sale.message = "voided", message
    page = DashboardPage(ctx)
    await page.refresh()

    # the oversold sale was cancelled: no longer a double sale to deal with
    assert page.sales.texts() == [
        "Delist failed — eBay order B-1: could not take it off Vinted",
    ]
    assert page.recent_sales.texts()[0] == (
        "Vinted order V-1: Denim jacket, 1 sold (0 \u2192 0) \u2014 nothing else to do [voided]"
    )
    db.events.publish(SaleAlert(oversold, None, "vinted", "voided", message))
    await wait_until(lambda: len(page.sales.texts()) == 2)
    assert page.sales.texts()[0] == f"Cancelled or refunded — Vinted: {message}"
