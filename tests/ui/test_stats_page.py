"""The stats page: charts match the counters, filters, live updates, failure-rate alerts."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QSettings, QTimer

from app.db import Database, utcnow
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.ui.context import UiContext
from app.ui.failure_alert import FailureAlert, failure_threshold
from app.ui.stats_page import StatsPage, day_seconds
from tests.support.stats import add_stats
from tests.support.waiting import wait_until
from tests.ui.conftest import signal_future

#: (marketplace, action, day, successes, failures, total duration in ms)
Row = tuple[str, str, date, int, int, int]
Errors = list[tuple[str, BaseException]]


@pytest.fixture
def page(ctx: UiContext) -> Iterator[StatsPage]:
    """A stats page; its pending refresh timer is stopped and it is deleted at the end."""
    stats = StatsPage(ctx)
    yield stats
    timer = stats.findChild(QTimer, "statsRefreshTimer")
    assert timer is not None
    timer.stop()
    shiboken6.delete(stats)


async def settle(page: StatsPage, ctx: UiContext) -> None:
    """Let a scheduled refresh run, then wait for every page task."""
    await asyncio.sleep(0.3)
    await ctx.drain()


def table_text(page: StatsPage) -> list[list[str]]:
    """The per-action table, row by row."""
    table = page.table
    texts = []
    for row in range(table.rowCount()):
        items = [table.item(row, column) for column in range(table.columnCount())]
        texts.append([item.text() if item is not None else "" for item in items])
    return texts


def xs(curve: object) -> list[float]:
    """A curve's x values (epoch seconds of UTC days); none for an empty curve."""
    x = curve.getData()[0]  # type: ignore[attr-defined]
    return [] if x is None else [float(v) for v in x]


def ys(curve: object) -> list[float]:
    """A curve's y values (NaN where a day had no jobs); none for an empty curve."""
    y = curve.getData()[1]  # type: ignore[attr-defined]
    return [] if y is None else [float(v) for v in y]


async def test_charts_and_table_show_the_counters(
    page: StatsPage, ctx: UiContext, db: Database, errors: Errors
) -> None:
    today = utcnow().date()
    days = [today - timedelta(days=n) for n in range(5, -1, -1)]  # six days, oldest first
    rows: list[Row] = []
    for i, day in enumerate(days):
        rows.append(("ebay", "publish", day, 8 + i, i % 3, 900 * (8 + i + i % 3)))
        rows.append(("ebay", "sync", day, 2, 1, 12_000))
        if i != 2:  # Vinted had a day off
            rows.append(("vinted", "message", day, 5, 5 - i if i < 5 else 0, 300 * 10))
        rows.append(("etsy", "update", day, i, 1, 2500 * (i + 1)))
    add_stats(db, rows)
    total: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    for mp, _code, day, ok, bad, ms in rows:
        total[(mp, day)][0] += ok
        total[(mp, day)][1] += ok + bad
        total[(mp, day)][2] += ms
    curves = dict(page.success_curves)
    items = len(page.success_chart.listDataItems())

    page.set_range(days[0], today)
    await page.refresh()
    page.resize(1100, 700)
    assert not page.grab().isNull()  # paints (gaps, dates, bars) without errors

    x = [day_seconds(day) for day in days]
    for mp in ("vinted", "ebay", "etsy"):
        sums = [total.get((mp, day)) for day in days]
        rates = [s[0] / s[1] * 100 if s else np.nan for s in sums]
        seconds = [s[2] / s[1] / 1000 if s else np.nan for s in sums]
        assert xs(page.success_curves[mp]) == x
        np.testing.assert_allclose(ys(page.success_curves[mp]), rates, equal_nan=True)
        np.testing.assert_allclose(ys(page.duration_curves[mp]), seconds, equal_nan=True)
    assert np.isnan(ys(page.success_curves["vinted"])[2])
    assert page.success_curves == curves  # the same items, new data
    assert len(page.success_chart.listDataItems()) == items

    # the table: one row per marketplace and action, in the page's marketplace order
    cells = table_text(page)
    publish = [r for r in rows if r[1] == "publish"]
    ok = sum(r[3] for r in publish)
    jobs = sum(r[3] + r[4] for r in publish)
    assert [c[:2] for c in cells] == [
        ["Vinted", "Respond to message"],
        ["eBay", "Publish product"],
        ["eBay", "Sync products"],
        ["Etsy", "Update product"],
    ]
    assert cells[1][2:5] == [str(jobs), str(ok), str(jobs - ok)]
    assert cells[1][5] == f"{ok / jobs * 100:.1f} %"
    assert cells[2][2:] == ["18", "12", "6", "66.7 %", "4.0 s"]
    # the bars: jobs per action, one bar per marketplace and action
    lengths = {mp: list(bars.opts["width"]) for mp, bars in page.action_bars.items()}
    assert lengths == {
        "vinted": [sum(r[3] + r[4] for r in rows if r[0] == "vinted")],
        "ebay": [jobs, 18.0],
        "etsy": [sum(r[3] + r[4] for r in rows if r[0] == "etsy")],
    }
    await settle(page, ctx)
    assert errors == []


async def test_filter_and_range_change_what_is_shown(
    page: StatsPage, ctx: UiContext, db: Database, errors: Errors
) -> None:
    today = utcnow().date()
    old = today - timedelta(days=100)
    add_stats(
        db,
        [
            ("ebay", "publish", today, 9, 1, 5000),
            ("etsy", "sync", today, 4, 0, 4000),
            ("vinted", "publish", old, 1, 1, 2000),
        ],
    )
    await page.refresh()
    assert len(xs(page.success_curves["ebay"])) == 30
    assert page.table.rowCount() == 2
    assert ys(page.success_curves["ebay"])[-1] == pytest.approx(90.0)
    assert xs(page.success_curves["vinted"]) == []  # nothing in 30 days

    shown = signal_future(page.refreshed)
    page.set_marketplace("etsy")
    await asyncio.wait_for(shown, 5)
    assert page.query().marketplace == "etsy"
    assert [row[0] for row in table_text(page)] == ["Etsy"]
    assert {mp for mp, c in page.success_curves.items() if c.isVisible()} == {"etsy"}
    assert {mp for mp, b in page.action_bars.items() if b.isVisible()} == {"etsy"}
    assert xs(page.duration_curves["ebay"]) == []
    assert ys(page.duration_curves["etsy"])[-1] == pytest.approx(1.0)

    shown = signal_future(page.refreshed)
    page.set_marketplace(None)
    page.preset_buttons[365].click()
    await asyncio.wait_for(shown, 5)
    x = xs(page.success_curves["vinted"])
    assert len(x) == 365 and x[0] == day_seconds(today - timedelta(days=364))
    assert not page.grab().isNull()
    assert ys(page.success_curves["vinted"])[-101] == pytest.approx(50.0)
    assert page.table.rowCount() == 3

    # a range typed into the date fields: only the old day; the end follows the start
    shown = signal_future(page.refreshed)
    page.to_edit.setDate(page.to_edit.date().addDays(-100))
    page.from_edit.setDate(page.to_edit.date().addDays(1))
    await asyncio.wait_for(shown, 5)
    assert (page.query().start, page.query().end) == (old + timedelta(days=1),) * 2
    assert page.table.rowCount() == 0
    shown = signal_future(page.refreshed)
    page.from_edit.setDate(page.from_edit.date().addDays(-1))
    await asyncio.wait_for(shown, 5)
    assert (page.query().start, page.query().end) == (old, old + timedelta(days=1))
    assert [table_text(page)[0][c] for c in (0, 2, 5)] == ["Vinted", "2", "50.0 %"]
    await settle(page, ctx)
    assert errors == []


async def test_finished_jobs_update_the_chart_live(
    page: StatsPage,
    ctx: UiContext,
    db: Database,
    errors: Errors,
    handlers: dict[str, type[BaseJobHandler]],
) -> None:
    await page.refresh()
    assert xs(page.success_curves["ebay"]) == []
    refreshes: list[None] = []
    page.refreshed.connect(lambda: refreshes.append(None))
    service = MarketplaceJobService(db)
    # actions of their own: each action has a minimum spacing between two starts
    service.create_job("ebay", "sync", input_data={})
    service.create_job("ebay", "sync_orders", input_data={"fail": "permanent"})
    service.create_job("etsy", "sync", input_data={})
    processor = MarketplaceJobProcessor(db, handlers=handlers)
    for _ in range(3):
        assert await processor.process_next_job() is not None
    await processor.close()

    # statsChanged -> coalesced refresh -> the existing curves get today's rates
    await wait_until(
        lambda: (
            ys(page.success_curves["ebay"])[-1:] == [50.0]
            and ys(page.success_curves["etsy"])[-1:] == [100.0]
        )
    )
    assert [row[:5] for row in table_text(page)] == [
        ["eBay", "Sync products", "1", "1", "0"],
        ["eBay", "Sync orders", "1", "0", "1"],
        ["Etsy", "Sync products", "1", "1", "0"],
    ]
    assert 1 <= len(refreshes) <= 3

    # a burst of events makes one refresh
    await settle(page, ctx)
    refreshes.clear()
    for _ in range(20):
        ctx.relay.statsChanged.emit("ebay")
    await settle(page, ctx)
    assert len(refreshes) == 1
    assert errors == []


async def test_alert_fires_once_above_the_threshold(
    page: StatsPage, ctx: UiContext, db: Database, settings: QSettings, errors: Errors
) -> None:
    """The tray alert (FailureAlert) and the page's list of today's alerts agree."""
    settings.setValue("alerts/failure_rate", 0.3)
    watcher = FailureAlert(ctx)
    alerts: list[str] = []
    watcher.alertRaised.connect(alerts.append)
    today = utcnow().date()
    add_stats(
        db,
        [
            ("ebay", "publish", today, 6, 3, 900),  # 33 % but only 9 jobs
            ("vinted", "publish", today, 18, 2, 900),  # 10 %
            ("etsy", "sync", today - timedelta(days=1), 0, 20, 900),  # yesterday
        ],
    )
    assert await watcher.check() == []
    await page.refresh()
    assert alerts == []
    assert not page.alert_label.isVisibleTo(page)

    service = MarketplaceJobService(db)
    job = service.create_job("ebay", "sync")
    await ctx.run(service.update_job_stats, job, False, 400, "ebay")  # 4 of 10 failed
    ebay = f"eBay: 4 of 10 jobs failed since {today} (40%), at or above the 30% alert threshold."
    # the stats event of a finished job reaches the watcher without anyone asking
    ctx.relay.statsChanged.emit("ebay")
    await wait_until(lambda: alerts == [ebay])
    await page.refresh()
    assert page.alert_label.isVisibleTo(page) and "eBay: 4 of 10" in page.alert_label.text()

    for _ in range(3):  # still failing: no second notification today
        await ctx.run(service.update_job_stats, job, False, 400, "ebay")
        assert await watcher.check() == []
        await page.refresh()
    assert len(alerts) == 1
    assert "eBay: 7 of 13" in page.alert_label.text()

    settings.setValue("alerts/failure_rate", "not a number")
    assert failure_threshold(settings) == 0.25
    settings.setValue("alerts/failure_rate", 0.05)
    raised = await watcher.check()  # Vinted (10 %) crosses the lower threshold
    assert len(alerts) == 2 and raised == alerts[1:]
    assert alerts[1].startswith("Vinted: 2 of 20 jobs failed")
    await page.refresh()
    assert "Vinted: 2 of 20" in page.alert_label.text()
    await settle(page, ctx)
    assert errors == []


async def test_long_lines_join_the_days_with_jobs_and_short_ones_keep_gaps(
    page: StatsPage, ctx: UiContext, db: Database, errors: Errors
) -> None:
    today = utcnow().date()
    # eBay: 90 days with jobs, every 3rd day off; Etsy: 3 days with jobs
    ebay = [today - timedelta(days=n) for n in range(135) if n % 3]
    add_stats(db, [("ebay", "sync", day, 3, 1, 400) for day in ebay])
    add_stats(db, [("etsy", "sync", today - timedelta(days=n), 1, 1, 400) for n in (0, 5, 9)])
    page.set_range(today - timedelta(days=179), today)
    await page.refresh()

    dense, sparse = page.success_curves["ebay"], page.success_curves["etsy"]
    assert xs(dense) == [day_seconds(day) for day in sorted(ebay)]  # no gaps: joined
    assert ys(dense) == [75.0] * len(ebay)
    assert dense.opts["symbol"] is None
    assert len(xs(sparse)) == 180 and sparse.opts["symbol"] == "o"
    assert [y for y in ys(sparse) if not np.isnan(y)] == [50.0] * 3
    assert not page.grab().isNull()
    await settle(page, ctx)
    assert errors == []
