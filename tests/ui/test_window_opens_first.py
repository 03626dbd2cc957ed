"""The window is on screen before the database is open.

``python main.py`` shows the window (the page the seller left open) before SQLAlchemy is
imported, then opens and migrates the database in a worker thread; meanwhile the pages
hold their input and wait for their data. A database that cannot be opened is explained
in the window, and closing that message ends the program with exit code 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.db import Database
from app.marketplace import MarketplaceJobService
from app.ui.dashboard_page import STARTING, UNREAD
from app.ui.desktop import Desktop
from app.ui.main_window import OPENING_MESSAGE, PAGES, TAB_KEY, MainWindow
from app.ui.products_page import ProductsPage
from app.ui.settings_page import SettingsPage
from tests.support.keyring import MemoryKeyring
from tests.support.pg import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bridge_port(monkeypatch: pytest.MonkeyPatch) -> int:
    """The bridge of a desktop that makes its own workbench listens here (not the default)."""
    port = free_port()
    monkeypatch.setenv("MARKETDESK_BRIDGE_PORT", str(port))
    return port


def gated_opener(url: str) -> tuple[Callable[[], Database], threading.Event, dict[str, object]]:
    """Opens ``url`` once ``gate`` is set; notes the thread it ran on, the database, and
    whether it was closed."""
    gate = threading.Event()
    seen: dict[str, object] = {}

    def opener() -> Database:
        seen["on_main_thread"] = threading.current_thread() is threading.main_thread()
        assert gate.wait(20), "the test never let the database open"
        db = Database(url)
        seen["db"] = db
        close = db.close

        def closing() -> None:
            seen["closed"] = True
            close()

        db.close = closing  # type: ignore[method-assign]
        return db

    return opener, gate, seen


def shortcut(window: MainWindow, title: str) -> QAction:
    """The window's Ctrl+N action that shows the page ``title``."""
    found = [action for action in window.actions() if action.text() == title]
    assert len(found) == 1 and found[0].shortcut().toString().startswith("Ctrl+")
    return found[0]


async def while_opening(desktop: Desktop) -> MainWindow:
    """The window, once it is on screen and the database is opening."""
    await wait_until(lambda: desktop.window is not None and desktop.window.opening)
    assert desktop.window is not None
    return desktop.window


async def cannot_start_dialog(desktop: Desktop) -> QMessageBox:
    """The "Marketdesk could not start" message, once the window shows it."""

    def dialog() -> QMessageBox | None:
        window = desktop.window
        return None if window is None else window.findChild(QMessageBox, "cannotStartDialog")

    await wait_until(lambda: dialog() is not None)
    box = dialog()
    assert box is not None and box.isVisible()
    return box


def seeded(folder: Path) -> str:
    """A migrated SQLite database holding one pending eBay job; its URL."""
    url = f"sqlite:///{folder / 'marketdesk.sqlite3'}"
    db = Database(url)
    db.migrate()
    MarketplaceJobService(db).create_job(marketplace="ebay", action_code="sync", input_data={})
    db.close()
    return url


async def test_the_window_is_on_screen_and_holds_input_until_the_database_is_open(
    qapp: QApplication,
    tmp_path: Path,
    settings: QSettings,
    keyring_backend: MemoryKeyring,
    bridge_port: int,
) -> None:
    opener, gate, seen = gated_opener(seeded(tmp_path))
    desktop = Desktop(
        opener, tmp_path, settings=settings, start_processing=False, show_welcome=False
    )
    opening = asyncio.ensure_future(desktop.open())
    try:
        window = await while_opening(desktop)
        assert window is not None and window.isVisible()
        assert [title for title, _page in window.built_pages()] == ["Dashboard"]
        assert window.statusBar().currentMessage() == OPENING_MESSAGE
        assert QApplication.overrideCursor() is not None
        assert not desktop.ctx.is_open and desktop.workbench is None
        # nothing to switch yet, and the counts are not read yet
        dashboard = window.dashboard
        assert not dashboard.processing_button.isEnabled()
        assert dashboard.processing_label.text() == STARTING
        assert dashboard.count_labels[("ebay", "pending")].text() == UNREAD
        # a click meanwhile does nothing: there is nothing to act on yet
        bar = window.tabs.tabBar()
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
        assert window.tabs.currentIndex() == 0

        gate.set()
        await asyncio.wait_for(opening, 20)
        assert seen["on_main_thread"] is False  # opened and migrated off the window's thread
        assert desktop.ctx.is_open and desktop.db is seen["db"]
        assert not window.opening and QApplication.overrideCursor() is None
        workbench = desktop.workbench
        assert workbench is not None and workbench.bridge.status().port == bridge_port
        await desktop.ctx.drain()
        assert dashboard.count_labels[("ebay", "pending")].text() == "1"
        assert dashboard.processing_button.isEnabled()  # paused: start_processing=False
        assert dashboard.processing_label.text() == "Paused: jobs wait in the queue"
        # input reaches the window again
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
        assert window.tabs.currentIndex() == 1
    finally:
        gate.set()
        if not opening.done():
            await asyncio.wait_for(opening, 20)
        if desktop.window is not None:
            desktop.window.request_quit()
        await asyncio.wait_for(desktop.close(), 15)
    assert seen["closed"] is True  # the desktop closed the database it opened


@pytest.mark.parametrize(("key", "kind"), [("settings", SettingsPage), ("products", ProductsPage)])
async def test_a_page_that_works_on_the_database_is_built_once_it_is_open(
    qapp: QApplication,
    tmp_path: Path,
    settings: QSettings,
    keyring_backend: MemoryKeyring,
    bridge_port: int,
    key: str,
    kind: type[QWidget],
) -> None:
    """Left open by the seller, or chosen while Marketdesk opens (Ctrl+3: Jobs, Ctrl+5:
    Stats; the keyboard shortcuts are not held)."""
    keys = [page_key for _title, page_key in PAGES]
    settings.setValue(TAB_KEY, keys.index(key))
    opener, gate, _seen = gated_opener(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    desktop = Desktop(
        opener, tmp_path, settings=settings, start_processing=False, show_welcome=False
    )
    opening = asyncio.ensure_future(desktop.open())
    try:
        window = await while_opening(desktop)
        assert window is not None and window.built_pages() == []
        for title in ("Jobs", "Stats", PAGES[keys.index(key)][0]):  # the seller goes on
            shortcut(window, title).trigger()
        assert window.built_pages() == []
        gate.set()
        await asyncio.wait_for(opening, 20)
        built = dict(window.built_pages())
        assert sorted(built) == sorted(["Jobs", "Stats", PAGES[keys.index(key)][0]])
        page = window.page(key)
        assert isinstance(page, kind) and page.isVisible()
        await desktop.ctx.drain()
        assert window.findChild(QMessageBox, "errorDialog") is None  # nothing went wrong
    finally:
        gate.set()
        if not opening.done():
            await asyncio.wait_for(opening, 20)
        if desktop.window is not None:
            desktop.window.request_quit()
        await asyncio.wait_for(desktop.close(), 15)


async def test_a_database_that_cannot_be_opened_is_explained_and_the_program_ends_with_1(
    qapp: QApplication, tmp_path: Path, settings: QSettings, keyring_backend: MemoryKeyring
) -> None:
    not_a_folder = tmp_path / "not-a-folder"
    not_a_folder.write_text("a file where the data folder should be")
    url = f"sqlite:///{not_a_folder / 'marketdesk.sqlite3'}"
    desktop = Desktop(lambda: Database(url), tmp_path, settings=settings, show_welcome=False)
    running = asyncio.ensure_future(desktop.run())

    box = await cannot_start_dialog(desktop)
    assert box is not None and box.isVisible()
    assert box.windowTitle() == "Marketdesk could not start"
    assert box.text().startswith("Marketdesk could not open its database: ")
    assert "unable to open database file" in box.text()
    window = desktop.window
    assert window is not None and not window.opening
    # the dashboard's load ended quietly: one message, no crash dialog
    await asyncio.wait_for(desktop.ctx.drain(), 5)
    assert window.findChild(QMessageBox, "errorDialog") is None
    box.button(QMessageBox.StandardButton.Close).click()
    assert await asyncio.wait_for(running, 15) == 1
    assert desktop.workbench is None and desktop.db is None


@pytest.mark.parametrize("left_open", ["dashboard", "stats"])
def test_main_py_paints_the_window_before_loading_sqlalchemy(
    tmp_path: Path, left_open: str
) -> None:
    """``python main.py`` as a seller starts it, in a fresh interpreter (offscreen), with
    the dashboard or the Stats page (pyqtgraph, the stats queries) left open."""
    tab = [key for _title, key in PAGES].index(left_open)
    config = tmp_path / "config"
    (config / "Marketdesk").mkdir(parents=True)
    (config / "Marketdesk" / "Marketdesk.conf").write_text(
        f"[welcome]\ndone=true\n[window]\ntab={tab}\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        "XDG_CONFIG_HOME": str(config),
        "MARKETDESK_BRIDGE_PORT": str(free_port()),
        # no keyring: the pairing token goes to a private file in the data folder
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.window_probe", str(time.time()), str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    assert marks["sqlalchemy_at_paint"] is False
    # nor did the window's thread import any of it while the database was opening
    assert marks["main_thread_imports"] == []
    assert marks["opened"] is True and marks["exit"] == 0
    assert 0 < marks["shown"] < marks["ready"]
    migrated = Database(f"sqlite:///{data / 'default.sqlite3'}")
    try:
        assert migrated.at_head()
    finally:
        migrated.close()
    assert "Traceback" not in done.stderr


async def test_quitting_while_the_database_opens_starts_nothing_and_closes_it(
    qapp: QApplication,
    tmp_path: Path,
    settings: QSettings,
    keyring_backend: MemoryKeyring,
    bridge_port: int,
) -> None:
    opener, gate, seen = gated_opener(seeded(tmp_path))
    desktop = Desktop(opener, tmp_path, settings=settings, show_welcome=False)
    running = asyncio.ensure_future(desktop.run())
    try:
        window = await while_opening(desktop)
        assert window is not None
        window.request_quit()  # Quit, before the database is open
    finally:
        gate.set()  # the opening ends (a thread cannot be stopped), then the program
    assert await asyncio.wait_for(running, 20) == 0
    assert desktop.workbench is None  # no runner, no bridge was made, let alone started
    assert QApplication.overrideCursor() is None
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", bridge_port), timeout=2).close()
    assert seen["closed"] is True


async def test_settings_that_stop_marketdesk_after_the_database_opened_are_explained(
    qapp: QApplication,
    tmp_path: Path,
    settings: QSettings,
    keyring_backend: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MARKETDESK_BRIDGE_PORT", "80")  # the workbench refuses it
    opener, gate, seen = gated_opener(seeded(tmp_path))
    gate.set()
    desktop = Desktop(opener, tmp_path, settings=settings, show_welcome=False)
    running = asyncio.ensure_future(desktop.run())

    box = await cannot_start_dialog(desktop)
    assert box is not None
    assert box.text().startswith(
        "Marketdesk could not start: Bridge port must be between 1024 and 65535, not 80"
    )
    assert QApplication.overrideCursor() is None
    await asyncio.wait_for(desktop.ctx.drain(), 5)  # the dashboard's load ended
    box.button(QMessageBox.StandardButton.Close).click()
    assert await asyncio.wait_for(running, 15) == 1
    assert desktop.workbench is None
    assert seen["closed"] is True


def test_a_workbench_needs_an_open_database(tmp_path: Path, settings: QSettings) -> None:
    with pytest.raises(ValueError, match="needs an open database"):
        Desktop(lambda: Database("sqlite://"), tmp_path, workbench=object(), settings=settings)  # type: ignore[arg-type]
