"""Starting the window: pages built when first shown, and nothing lost on the way.

The window shows the page the seller left open and builds the others when they are
opened; the log, the failure-rate alert and the start/pause switch must not depend on
which pages exist or on how fast the seller clicks.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.db import Database, utcnow
from app.ui.desktop import Desktop
from app.ui.main_window import PAGES, TAB_KEY, MainWindow
from app.workbench import Workbench
from tests.support.stats import add_stats
from tests.support.waiting import wait_until


def built(window: MainWindow) -> list[str]:
    return [title for title, _page in window.built_pages()]


async def open_window(
    db: Database, folder: Path, workbench: Workbench, settings: QSettings
) -> tuple[Desktop, MainWindow]:
    desktop = Desktop(
        db,
        folder,
        workbench=workbench,
        settings=settings,
        start_processing=False,
        show_welcome=False,
    )
    return desktop, await desktop.open()


async def close(desktop: Desktop) -> None:
    if desktop.window is not None:
        desktop.window.request_quit()
    await asyncio.wait_for(desktop.close(), 15)


async def test_only_the_page_left_open_is_built_then_each_as_it_is_opened(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    settings.setValue(TAB_KEY, 2)  # the seller left the Jobs page open
    desktop, window = await open_window(db, tmp_path, workbench, settings)
    try:
        assert window.tabs.currentIndex() == 2 and built(window) == ["Jobs"]
        assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
            title for title, _key in PAGES
        ]
        window.tabs.setCurrentIndex(4)
        assert built(window) == ["Jobs", "Stats"] and window.stats.isVisible()
        await desktop.ctx.drain()  # the new page loaded its data
        assert window.stats.table.rowCount() == 0
        window.show_processing(True)  # no dashboard yet: nothing to tell
        assert "Dashboard" not in built(window)
        assert window.dashboard is window.dashboard  # built once, on first use
        assert built(window) == ["Dashboard", "Jobs", "Stats"]
    finally:
        await close(desktop)


async def test_the_log_page_shows_what_was_logged_before_it_was_opened(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop, window = await open_window(db, tmp_path, workbench, settings)
    log = logging.getLogger("marketdesk.test")
    try:
        log.warning("before the Log page existed")
        window.tabs.setCurrentIndex([key for _t, key in PAGES].index("log"))
        text = window.log_page.text
        assert "before the Log page existed" in text.toPlainText()
        log.warning("after it was opened")
        await wait_until(lambda: "after it was opened" in text.toPlainText())
        lines = text.toPlainText().splitlines()
        assert sum("before the Log page existed" in line for line in lines) == 1
    finally:
        await close(desktop)


async def test_the_failure_alert_comes_at_start_without_the_stats_page(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    # failures of an earlier run (or of a worker process) today: 4 of 10 eBay jobs
    add_stats(db, [("ebay", "publish", utcnow().date(), 6, 4, 900)])
    settings.setValue("alerts/failure_rate", 0.3)
    desktop, window = await open_window(db, tmp_path, workbench, settings)
    notified: list[tuple[str, str, bool]] = []
    window.tray.notify = lambda title, text, critical=False: notified.append(  # type: ignore[method-assign]
        (title, text, critical)
    )
    try:
        await wait_until(lambda: bool(notified))
        ((title, text, critical),) = notified
        assert title == "Marketdesk alert" and critical
        assert text.startswith("eBay: 4 of 10 jobs failed since")
        assert "Stats" not in built(window)
    finally:
        await close(desktop)


async def test_pausing_or_quitting_while_processing_starts_leaves_it_off(
    qapp: QApplication, workbench: Workbench
) -> None:
    starting = asyncio.create_task(workbench.start())
    await asyncio.sleep(0)  # the start is under way (importing off the loop)
    await workbench.pause()
    await starting
    assert not workbench.processing
    assert not workbench.scheduler.running and not workbench.sales.running

    starting = asyncio.create_task(workbench.start())
    await asyncio.sleep(0)
    await workbench.stop()  # quit
    await starting
    assert not workbench.processing and not workbench.scheduler.running
    await workbench.start()  # nothing starts after the program stopped it
    assert not workbench.processing


async def test_a_new_port_while_the_bridge_starts_leaves_one_listener(
    qapp: QApplication, workbench: Workbench
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bridge = workbench.bridge
    starting = asyncio.create_task(bridge.start())
    await asyncio.sleep(0)
    assert await bridge.set_port(port)
    assert await starting
    assert bridge.status().state == "listening" and bridge.status().port == port
    assert bridge.settings.port == port
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    await bridge.close()
    assert bridge.status().state == "stopped"
