"""The first-run welcome: shown on the first start, its three steps, never shown again.

Every program here is the real one (:class:`app.ui.desktop.Desktop` over a workbench
whose bridge listens on a free loopback port); the plugin is
:class:`tests.support.plugin_client.ScriptedPlugin`, a real client that pairs with the
token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.bridge.config import PORT_ENV
from app.db import Database
from app.ui.desktop import Desktop
from app.ui.first_run import DONE_KEY, welcome_done
from app.ui.main_window import MainWindow
from app.ui.settings_page import AccountBox
from app.ui.welcome import WelcomeDialog
from app.workbench import Workbench
from tests.fakes import FakeEbay
from tests.support.plugin_client import ScriptedPlugin
from tests.support.waiting import wait_until

Program = tuple[Desktop, MainWindow]


@pytest.fixture(autouse=True)
def no_port_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bridge listens on the port the test gives it, not the environment's."""
    monkeypatch.delenv(PORT_ENV, raising=False)


@asynccontextmanager
async def program(
    db: Database,
    tmp_path: Path,
    workbench: Workbench,
    settings: QSettings,
    *,
    show_welcome: bool = True,
) -> AsyncIterator[Program]:
    """The program started (without processing jobs), quit and closed at the end."""
    desktop = Desktop(
        db,
        tmp_path,
        workbench=workbench,
        settings=settings,
        start_processing=False,
        show_welcome=show_welcome,
    )
    window = await desktop.open()
    try:
        yield desktop, window
        assert window.findChildren(QMessageBox, "errorDialog") == []
    finally:
        window.request_quit()
        await asyncio.wait_for(desktop.close(), 15)


def shown_welcome(desktop: Desktop) -> WelcomeDialog:
    """The welcome this start opened; it is on screen."""
    welcome = desktop.welcome
    assert welcome is not None and welcome.isVisible()
    return welcome


async def test_first_start_shows_the_welcome_and_next_back_move_through_it(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
) -> None:
    assert not welcome_done(settings)
    async with program(db, tmp_path, new_workbench(), settings) as (desktop, window):
        welcome = shown_welcome(desktop)
        assert not welcome.isModal() and welcome.parent() is window
        assert window.isVisible()  # the program is usable beside it
        assert welcome.step == 0 and welcome.heading.text() == "Welcome to Marketdesk"
        assert welcome.step_label.text() == "Step 1 of 3"
        intro = welcome.stack.widget(0).findChildren(type(welcome.heading))
        text = " ".join(label.text() for label in intro)
        assert "Vinted" in text and "eBay" in text and "Etsy" in text and "Settings" in text
        assert not welcome.back_button.isEnabled() and welcome.next_button.isVisible()
        assert not welcome.finish_button.isVisible()

        welcome.next_button.click()
        assert welcome.step == 1 and welcome.heading.text() == "Pair the Vinted plugin"
        assert welcome.back_button.isEnabled() and welcome.step_label.text() == "Step 2 of 3"
        welcome.next_button.click()
        assert welcome.step == 2 and welcome.heading.text() == "Connect eBay and Etsy"
        assert not welcome.next_button.isVisible() and welcome.finish_button.isVisible()
        welcome.back_button.click()
        assert welcome.step == 1 and welcome.next_button.isVisible()
        assert not welcome.finish_button.isVisible()
        welcome.back_button.click()
        assert welcome.step == 0 and not welcome.back_button.isEnabled()
        # moving around is not being done with it
        assert not welcome_done(settings)


async def test_plugin_step_shows_the_token_and_follows_a_real_pairing(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
) -> None:
    workbench = new_workbench()
    async with program(db, tmp_path, workbench, settings) as (desktop, window):
        welcome = shown_welcome(desktop)
        welcome.next_button.click()
        box = welcome.bridge_box
        assert welcome.stack.currentWidget().isAncestorOf(box) and box.isVisible()
        port, token = workbench.bridge.server.port, workbench.bridge.token
        assert token
        await wait_until(lambda: box.token.text() == token)
        waiting = f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{port})"
        await wait_until(lambda: box.state.text() == waiting)
        help_text = welcome.findChild(type(box.state), "welcomePluginHelp").text()
        for words in ("chrome://extensions", "Developer mode", "Load unpacked"):
            assert words in help_text
        # the short steps stand for the Settings page's long paragraph
        long_steps = box.findChild(type(box.state), "bridgeInstructions")
        assert long_steps is not None and not long_steps.isVisible()

        QGuiApplication.clipboard().setText("something else")
        box.copy_button.click()
        assert QGuiApplication.clipboard().text() == token

        box.write_button.click()
        await wait_until(box.open_button.isEnabled)
        folder = tmp_path / "browser-plugin"
        assert box.folder.text() == str(folder)
        provision = json.loads((folder / "provision.json").read_text(encoding="utf-8"))
        assert provision == {"bridgePort": port, "pairingToken": token}

        async with ScriptedPlugin(port=port, token=token):
            await wait_until(lambda: "plugin connected" in box.state.text())
            assert box.state.text() == (
                "Vinted: plugin connected (Scripted/1, plugin 1.0.0), "
                "logged in to Vinted as anna_resale"
            )
            # the same words as the dashboard's
            await wait_until(lambda: window.dashboard.vinted_label.text() == box.state.text())
        await wait_until(lambda: "disconnected" in box.state.text())


async def test_accounts_step_holds_the_settings_account_boxes(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
    fake_ebay: FakeEbay,
) -> None:
    async with program(db, tmp_path, new_workbench(), settings) as (desktop, window):
        welcome = shown_welcome(desktop)
        welcome.next_button.click()
        welcome.next_button.click()
        page = welcome.stack.currentWidget()
        assert set(welcome.boxes) == {"ebay", "etsy"}
        for marketplace, box in welcome.boxes.items():
            assert type(box) is AccountBox and box.marketplace == marketplace
            assert page.isAncestorOf(box) and box.isVisible()
            assert box.title() == {"ebay": "eBay", "etsy": "Etsy"}[marketplace]
        await wait_until(
            lambda: welcome.boxes["etsy"].status.text() == "Not set up: enter the app keys and save"
        )

        # the seller sets eBay up right here
        opened: list[str] = []
        box = welcome.boxes["ebay"]
        box.open_url = opened.append
        box.environment.setCurrentIndex(box.environment.findData("local"))
        box.base_url.setText(fake_ebay.url)
        box.client_id.setText(fake_ebay.client_id)
        box.redirect.setText(fake_ebay.ru_name)
        box.secret.setText(fake_ebay.client_secret)
        box.save_button.click()
        await wait_until(lambda: box.status.text() == "Not connected")
        box.connect_button.click()
        await wait_until(lambda: len(opened) == 1 and box.finish_button.isEnabled())
        async with httpx.AsyncClient() as browser:
            landed = (await browser.get(opened[0])).headers["Location"]
        box.paste.setText(landed)
        box.finish_button.click()
        await wait_until(lambda: box.status.text().startswith("Connected as fake_seller"))
        label = window.dashboard.connection_labels["ebay"]
        await wait_until(lambda: label.text() == "eBay: connected as fake_seller")

        # Finish: the Settings page shows what was entered
        welcome.finish_button.click()
        assert not welcome.isVisible() and welcome_done(settings)
        page_box = window.settings_page.boxes["ebay"]
        assert page_box is not box
        await wait_until(lambda: page_box.client_id.text() == fake_ebay.client_id)
        await wait_until(lambda: page_box.status.text().startswith("Connected as fake_seller"))


@pytest.mark.parametrize("how", ["skipped", "finished", "closed", "escape"])
async def test_leaving_marks_it_done_and_the_next_start_does_not_show_it(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
    how: str,
) -> None:
    said: list[str] = []
    async with program(db, tmp_path, new_workbench(), settings) as (desktop, _window):
        welcome = shown_welcome(desktop)
        welcome.dismissed.connect(said.append)
        if how == "skipped":
            welcome.skip_button.click()  # from the first step
        elif how == "finished":
            welcome.next_button.click()
            welcome.next_button.click()
            welcome.finish_button.click()
        elif how == "closed":
            welcome.next_button.click()
            welcome.close()  # the dialog's close button
        else:
            QTest.keyClick(welcome, Qt.Key.Key_Escape)
        assert not welcome.isVisible()
        assert said == ["closed" if how == "escape" else how]
        assert welcome_done(settings)
    # the file itself says so, as the next start reads it
    assert welcome_done(QSettings(settings.fileName(), QSettings.Format.IniFormat))

    async with program(db, tmp_path, new_workbench(), settings) as (desktop, window):
        assert desktop.welcome is None
        assert window.findChildren(WelcomeDialog) == []


async def test_quitting_while_it_is_open_shows_it_again_next_time(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
) -> None:
    desktop = Desktop(
        db, tmp_path, workbench=new_workbench(), settings=settings, start_processing=False
    )
    window = await desktop.open()
    welcome = shown_welcome(desktop)
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)  # as the program's application() does
    try:
        window.close()  # the main window's close button: the program quits
        assert desktop.closed.is_set() and not welcome.isVisible()
    finally:
        await asyncio.wait_for(desktop.close(), 15)
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    assert desktop.welcome is None and settings.value(DONE_KEY) is None

    async with program(db, tmp_path, new_workbench(), settings) as (desktop, _window):
        shown_welcome(desktop)


async def test_show_welcome_false_never_shows_it(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    new_workbench: Callable[[], Workbench],
    settings: QSettings,
) -> None:
    async with program(db, tmp_path, new_workbench(), settings, show_welcome=False) as (
        desktop,
        window,
    ):
        assert desktop.welcome is None and window.findChildren(WelcomeDialog) == []
    assert not welcome_done(settings)


def test_done_is_read_from_what_an_ini_file_gives_back(tmp_path: Path) -> None:
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    assert not welcome_done(settings)
    for stored, done in ((True, True), ("true", True), ("false", False), (False, False)):
        settings.setValue(DONE_KEY, stored)
        settings.sync()
        again = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
        assert welcome_done(again) is done and welcome_done(settings) is done
