"""The whole program: start-up, the dashboard, settings, and closing with jobs running."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.db import Database
from app.marketplace import MarketplaceJobService
from app.ui.desktop import Desktop
from app.workbench import Workbench
from tests.fakes import FakeEbay
from tests.support.waiting import wait_until


async def test_start_process_and_close_leaves_nothing_running(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    threads_before = {t.name for t in threading.enumerate()}
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings)
    window = await desktop.open()
    assert window.isVisible() and workbench.processing
    # the plugin bridge listens from the start
    assert workbench.bridge.status().state == "listening"
    bridge_port = workbench.bridge.server.port
    service = MarketplaceJobService(db)
    quick = service.create_job(marketplace="ebay", action_code="sync", input_data={})
    await wait_until(lambda: service.get_job(quick.id).status == "completed")
    # the dashboard follows the queue
    label = window.dashboard.count_labels[("ebay", "completed")]
    await wait_until(lambda: label.text() == "1")

    slow = service.create_job(
        marketplace="etsy", action_code="sync", input_data={"sleep": 30, "ignore_cancel": True}
    )
    await wait_until(lambda: service.get_job(slow.id).status == "running")
    window.request_quit()
    assert desktop.closed.is_set()
    await asyncio.wait_for(desktop.close(), 15)

    # the job that could not finish was released, not left running
    assert service.get_job(slow.id).status == "pending"
    assert service.count_by_status()["running"] == 0
    assert not workbench.processing
    assert settings.value("window/geometry") is not None
    # nothing listens for the plugin any more
    assert workbench.bridge.status().state == "stopped"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", bridge_port), timeout=2).close()
    # nothing of the window or the runner is left behind (the database's own executor
    # thread belongs to the test's database, closed by its fixture)
    leftover = {t.name for t in threading.enumerate()} - threads_before
    assert not {n for n in leftover if "marketdesk" in n.lower() and "-db" not in n}
    # and no timer of the window keeps firing
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    active = []
    for obj in gc.get_objects():
        if isinstance(obj, QTimer):
            try:
                if obj.isActive():
                    active.append(obj.objectName() or repr(obj))
            except RuntimeError:  # its C++ side is already gone
                continue
    assert active == []


async def test_pause_toggle_stops_claiming(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings)
    window = await desktop.open()
    try:
        window.dashboard.processing_button.click()  # pause
        await wait_until(lambda: not workbench.processing)
        assert window.dashboard.processing_label.text() == "Paused: jobs wait in the queue"
        service = MarketplaceJobService(db)
        job = service.create_job(marketplace="ebay", action_code="sync")
        await asyncio.sleep(0.5)
        assert service.get_job(job.id).status == "pending"
        window.dashboard.processing_button.click()  # resume
        await wait_until(lambda: service.get_job(job.id).status == "completed")
    finally:
        window.request_quit()
        await desktop.close()


async def test_settings_connect_ebay_by_paste(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    workbench: Workbench,
    settings: QSettings,
    fake_ebay: FakeEbay,
) -> None:
    import httpx

    opened: list[str] = []
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, start_processing=False)
    window = await desktop.open()
    try:
        box = window.settings_page.boxes["ebay"]
        box.open_url = opened.append
        box.environment.setCurrentIndex(box.environment.findData("local"))
        box.base_url.setText(fake_ebay.url)
        box.client_id.setText(fake_ebay.client_id)
        box.redirect.setText(fake_ebay.ru_name)
        box.secret.setText(fake_ebay.client_secret)
        await box.save()
        assert box.secret.text() == ""
        assert box.status.text() == "Not connected"
        await box.connect_account()
        assert box.finish_button.isEnabled() and len(opened) == 1
        async with httpx.AsyncClient() as browser:
            landed = (await browser.get(opened[0])).headers["Location"]
        box.paste.setText(landed)
        await box.finish()
        assert box.status.text().startswith("Connected as fake_seller until ")
        label = window.dashboard.connection_labels["ebay"]
        await wait_until(lambda: label.text() == "eBay: connected as fake_seller")
        box.paste.setText("garbage")
        await box.disconnect_account()
        assert box.status.text() == "Not connected"
    finally:
        window.request_quit()
        await desktop.close()


async def test_alert_threshold_persists(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, start_processing=False)
    window = await desktop.open()
    try:
        window.settings_page.threshold.setValue(40)
        window.tabs.setCurrentIndex(4)
    finally:
        window.request_quit()
        await desktop.close()
    assert float(settings.value("alerts/failure_rate")) == pytest.approx(0.4)  # type: ignore[arg-type]
    assert int(settings.value("window/tab")) == 4  # type: ignore[call-overload]


async def test_the_window_follows_what_another_process_does(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    """A teammate's worker (another process on the same queue) creates and ends jobs:
    the jobs table and the dashboard show it without a Refresh."""
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, start_processing=False)
    window = await desktop.open()
    elsewhere = Database(db.url.render_as_string(hide_password=False))
    try:
        model = window.jobs.model
        await desktop.ctx.drain()
        theirs = MarketplaceJobService(elsewhere)
        job = theirs.create_job(marketplace="etsy", action_code="sync", input_data={})
        await wait_until(lambda: model.row_of(job.id) is not None)
        theirs.cancel_job(job.id)

        def shown_status() -> str | None:
            row = model.row_of(job.id)
            found = model.job(row) if row is not None else None
            return found.status if found is not None else None

        await wait_until(lambda: shown_status() == "cancelled")
        label = window.dashboard.count_labels[("etsy", "cancelled")]
        await wait_until(lambda: label.text() == "1")
    finally:
        elsewhere.close()
        window.request_quit()
        await asyncio.wait_for(desktop.close(), 15)
    assert desktop.feed is None  # stopped with the window
