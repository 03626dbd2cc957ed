"""The Vinted browser plugin in the window: settings box, dashboard line, tray, start-up.

Every bridge here is real (a WebSocket server on a free loopback port) and the plugin is
:class:`tests.support.plugin_client.ScriptedPlugin`, a real client that pairs with the
token.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.bridge.config import PLUGIN_ID, PORT_ENV, TOKEN_SECRET, BridgeSettings
from app.db import Database
from app.secret_store import KeyringSecretStore
from app.ui.bridge_box import UNAVAILABLE, BridgeBox, ask_first
from app.ui.context import ERROR_STYLE, UiContext
from app.ui.dashboard_page import DashboardPage
from app.ui.desktop import Desktop
from app.ui.relay import EventRelay
from app.ui.settings_page import SettingsPage
from app.workbench import Workbench
from tests.support.keyring import MemoryKeyring
from tests.support.plugin_client import ScriptedPlugin
from tests.support.waiting import wait_until

Errors = list[tuple[str, BaseException]]
LOGGED_OUT = {"logged_in": False, "user_id": None, "login": None, "domain": "www.vinted.fr"}


@pytest.fixture(autouse=True)
def no_port_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved settings decide the port, not the environment of the test run."""
    monkeypatch.delenv(PORT_ENV, raising=False)


@pytest.fixture
def bench_ctx(
    qapp: QApplication, db: Database, settings: QSettings, errors: Errors, workbench: Workbench
) -> Iterator[UiContext]:
    """A context with the workbench (its bridge not started yet)."""
    relay = EventRelay(db.events)
    context = UiContext(
        db, relay, settings, workbench, on_error=lambda what, exc: errors.append((what, exc))
    )
    yield context
    relay.close()


def free_port() -> int:
    """A loopback port nobody listens on (bound, noted, closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def agree(_parent: object, _title: str, _text: str, then: Callable[[], None]) -> None:
    """The seller says yes to every question."""
    then()


@asynccontextmanager
async def plugin_settings(
    ctx: UiContext,
    workbench: Workbench,
    opened: list[str] | None = None,
    confirm: Callable[..., None] = agree,
) -> AsyncIterator[BridgeBox]:
    """The settings page over a listening bridge; its plugin box, loaded."""
    assert await workbench.start_bridge()
    page = SettingsPage(
        ctx,
        workbench.accounts,
        data_dir=str(workbench.data_dir),
        bridge=workbench.bridge,
        open_url=(opened if opened is not None else []).append,
        confirm=confirm,
    )
    try:
        await page.refresh()
        yield page.bridge_box
    finally:
        await ctx.drain()
        await workbench.bridge.close()
        await workbench.accounts.aclose()
        shiboken6.delete(page)


def connected(workbench: Workbench) -> bool:
    return workbench.bridge.status().state == "connected"


# -- the settings box -----------------------------------------------------------------------
async def test_shows_port_token_and_state(
    bench_ctx: UiContext, workbench: Workbench, errors: Errors
) -> None:
    workbench.secrets.set(TOKEN_SECRET, "token-from-the-keyring")
    async with plugin_settings(bench_ctx, workbench) as box:
        port = workbench.bridge.server.port
        assert box.port.value() == port
        assert box.token.text() == "token-from-the-keyring"
        assert box.token.isReadOnly()
        assert (
            box.state.text()
            == f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{port})"
        )
        steps = box.findChild(type(box.state), "bridgeInstructions")
        assert steps is not None
        assert PLUGIN_ID in steps.text()
        assert "chrome://extensions" in steps.text() and "Load unpacked" in steps.text()
        assert "Developer mode" in steps.text()
        # the state follows a plugin live
        async with ScriptedPlugin(port, workbench.bridge.token):
            await wait_until(lambda: "plugin connected" in box.state.text())
            assert box.state.text() == (
                "Vinted: plugin connected (Scripted/1, plugin 1.0.0), "
                "logged in to Vinted as anna_resale"
            )
    assert errors == []


async def test_copy_puts_the_token_on_the_clipboard(
    bench_ctx: UiContext, workbench: Workbench
) -> None:
    async with plugin_settings(bench_ctx, workbench) as box:
        QGuiApplication.clipboard().setText("something else")
        box.copy_button.click()
        assert QGuiApplication.clipboard().text() == workbench.bridge.token
        assert box.token.text() == workbench.bridge.token
        assert "clipboard" in box.message.text()


async def test_regenerate_replaces_the_token_and_drops_the_old_pairing(
    bench_ctx: UiContext, workbench: Workbench, errors: Errors
) -> None:
    async with plugin_settings(bench_ctx, workbench) as box:
        old = workbench.bridge.token
        async with ScriptedPlugin(workbench.bridge.server.port, old) as plugin:
            await wait_until(lambda: connected(workbench))
            box.regenerate_button.click()
            await wait_until(lambda: box.token.text() != old)
            await bench_ctx.drain()
            new = box.token.text()
            assert new and new == workbench.bridge.token
            assert workbench.secrets.get(TOKEN_SECRET) == new
            assert "New pairing token" in box.message.text()
            # the plugin paired with the old token is sent away
            await wait_until(lambda: workbench.bridge.status().state == "listening")
            assert plugin.connection is not None
            await wait_until(lambda: plugin.connection.close_code is not None)  # type: ignore[union-attr]
            assert plugin.connection.close_code == 4401
        # and one with the new token pairs
        async with ScriptedPlugin(workbench.bridge.server.port, new):
            await wait_until(lambda: connected(workbench))
    assert errors == []


async def test_regenerate_declined_keeps_the_token(
    bench_ctx: UiContext, workbench: Workbench
) -> None:
    asked: list[str] = []

    def decline(_parent: object, title: str, _text: str, _then: Callable[[], None]) -> None:
        asked.append(title)

    async with plugin_settings(bench_ctx, workbench, confirm=decline) as box:
        old = box.token.text()
        box.regenerate_button.click()
        await asyncio.sleep(0.1)
        await bench_ctx.drain()
        assert asked == ["New pairing token"]
        assert box.token.text() == old == workbench.secrets.get(TOKEN_SECRET)


async def test_regenerate_asks_in_a_message_box(bench_ctx: UiContext, workbench: Workbench) -> None:
    async with plugin_settings(bench_ctx, workbench, confirm=ask_first) as box:
        old = box.token.text()
        box.regenerate_button.click()
        question = box.findChild(QMessageBox, "confirmDialog")
        assert question is not None and question.isVisible()
        cancel = question.button(QMessageBox.StandardButton.Cancel)
        cancel.click()
        await asyncio.sleep(0.1)
        await bench_ctx.drain()
        assert box.token.text() == old
        box.regenerate_button.click()
        await wait_until(lambda: box.findChild(QMessageBox, "confirmDialog") is not None)
        question = box.findChild(QMessageBox, "confirmDialog")
        assert question is not None
        question.button(QMessageBox.StandardButton.Yes).click()
        await wait_until(lambda: box.token.text() != old)
        await bench_ctx.drain()
        assert workbench.secrets.get(TOKEN_SECRET) == box.token.text()


async def test_apply_port_saves_it_and_listens_there(
    bench_ctx: UiContext, workbench: Workbench, tmp_path: Path, errors: Errors
) -> None:
    async with plugin_settings(bench_ctx, workbench) as box:
        port = free_port()
        box.port.setValue(port)
        box.apply_button.click()
        await wait_until(lambda: "now listens" in box.message.text())
        await bench_ctx.drain()
        assert box.message.styleSheet() == ""
        assert BridgeSettings.load(tmp_path).port == port
        assert workbench.bridge.server.port == port
        assert workbench.bridge.status().state == "listening"
        assert (
            box.state.text()
            == f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{port})"
        )
        async with ScriptedPlugin(port, workbench.bridge.token):
            await wait_until(lambda: connected(workbench))
        # applying the same port again changes nothing
        await box.apply_port()
        assert "already listens" in box.message.text()
    assert errors == []


async def test_a_taken_port_is_shown_and_another_one_recovers(
    bench_ctx: UiContext, workbench: Workbench, errors: Errors
) -> None:
    async with plugin_settings(bench_ctx, workbench) as box:
        old = workbench.bridge.server.port
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            taken = blocker.getsockname()[1]
            box.port.setValue(taken)
            box.apply_button.click()
            await wait_until(lambda: box.message.styleSheet() == ERROR_STYLE)
            await bench_ctx.drain()
            assert f"cannot listen on 127.0.0.1:{taken}" in box.message.text()
            # the bridge went back to the port it had, and that one is kept
            assert workbench.bridge.status().state == "listening"
            assert workbench.bridge.server.port == old
            assert box.state.text() == (
                f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{old})"
            )
            assert all(button.isEnabled() for button in box.buttons)
            # trying the same taken port again says so again
            assert not await box.apply_port()
        port = free_port()
        box.port.setValue(port)
        assert await box.apply_port()
        assert box.message.styleSheet() == ""
        assert workbench.bridge.status().state == "listening"
    assert errors == []


async def test_write_plugin_folder_and_open_it(
    bench_ctx: UiContext, workbench: Workbench, tmp_path: Path, errors: Errors
) -> None:
    opened: list[str] = []
    async with plugin_settings(bench_ctx, workbench, opened) as box:
        assert not box.open_button.isEnabled()
        assert "not written yet" in box.folder.text()
        box.write_button.click()
        await wait_until(box.open_button.isEnabled)
        await bench_ctx.drain()
        folder = tmp_path / "browser-plugin"
        assert box.folder.text() == str(folder)
        assert (folder / "manifest.json").exists()
        provision = json.loads((folder / "provision.json").read_text(encoding="utf-8"))
        assert provision == {
            "bridgePort": workbench.bridge.server.port,
            "pairingToken": workbench.bridge.token,
        }
        box.open_button.click()
        assert len(opened) == 1 and opened[0].startswith("file://")
        assert QUrl(opened[0]).toLocalFile() == str(folder)
    # a page opened later finds the folder already written
    async with plugin_settings(bench_ctx, workbench, opened) as box:
        assert box.folder.text() == str(folder) and box.open_button.isEnabled()
    assert errors == []


async def test_buttons_wait_while_the_bridge_works(
    bench_ctx: UiContext, workbench: Workbench, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def slow_write(destination: Path | None = None) -> Path:
        await release.wait()
        return tmp_path

    async with plugin_settings(bench_ctx, workbench) as box:
        monkeypatch.setattr(workbench.bridge, "write_plugin", slow_write)
        box.write_button.click()
        await wait_until(lambda: not box.write_button.isEnabled())
        assert not any(button.isEnabled() for button in box.buttons)
        release.set()
        await wait_until(lambda: all(button.isEnabled() for button in box.buttons))


async def test_without_a_bridge_the_box_says_not_available(
    ctx: UiContext, workbench: Workbench, errors: Errors
) -> None:
    page = SettingsPage(ctx, workbench.accounts, data_dir=str(workbench.data_dir))
    try:
        await page.refresh()
        box = page.bridge_box
        assert box.state.text() == UNAVAILABLE
        assert "not available" in box.folder.text()
        assert not any(b.isEnabled() for b in box.findChildren(QPushButton))
        assert not await box.apply_port() and await box.write_plugin() is None
        dashboard = DashboardPage(ctx)
        await dashboard.refresh()
        assert dashboard.vinted_label.text() == UNAVAILABLE
        shiboken6.delete(dashboard)
    finally:
        await ctx.drain()
        await workbench.accounts.aclose()
        shiboken6.delete(page)
    assert errors == []


# -- the dashboard --------------------------------------------------------------------------
async def test_dashboard_follows_the_plugin(
    bench_ctx: UiContext, workbench: Workbench, errors: Errors
) -> None:
    page = DashboardPage(bench_ctx)
    label = page.vinted_label
    try:
        assert await workbench.start_bridge()
        port = workbench.bridge.server.port
        waiting = f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{port})"
        await page.refresh()
        assert label.text() == waiting
        async with ScriptedPlugin(port, workbench.bridge.token) as plugin:
            await wait_until(lambda: "plugin connected" in label.text())
            assert label.text() == (
                "Vinted: plugin connected (Scripted/1, plugin 1.0.0), "
                "logged in to Vinted as anna_resale"
            )
            await page.refresh()  # the same words from the bridge's status
            assert label.text().endswith("logged in to Vinted as anna_resale")
            await plugin.send({"v": 1, "type": "status", "vinted": LOGGED_OUT})
            await wait_until(lambda: "logged out" in label.text())
            assert (
                label.text() == "Vinted: plugin connected, but logged out of Vinted in the browser"
            )
            await page.refresh()
            assert (
                label.text() == "Vinted: plugin connected, but logged out of Vinted in the browser"
            )
        await wait_until(lambda: "disconnected" in label.text())
        assert label.text() == (
            f"Vinted: the plugin disconnected; waiting for it to come back (bridge on 127.0.0.1:{port})"
        )
        await page.refresh()
        assert label.text() == waiting
        await workbench.bridge.stop()
        assert label.text() == "Vinted: bridge not running"
    finally:
        await bench_ctx.drain()
        await workbench.bridge.close()
        await workbench.accounts.aclose()
        shiboken6.delete(page)
    assert errors == []


# -- the whole program ----------------------------------------------------------------------
async def test_tray_tells_when_the_plugin_leaves(
    qapp: QApplication, db: Database, tmp_path: Path, workbench: Workbench, settings: QSettings
) -> None:
    desktop = Desktop(db, tmp_path, workbench=workbench, settings=settings, start_processing=False)
    window = await desktop.open()
    notes = window.tray.notifications
    port, token = workbench.bridge.server.port, workbench.bridge.token
    try:
        assert workbench.bridge.status().state == "listening"
        # paired, then gone: one notification after a moment
        plugin = ScriptedPlugin(port, token)
        await plugin.connect()
        await wait_until(lambda: connected(workbench))
        await plugin.close()
        await wait_until(lambda: len(notes) == 1)
        title, text = notes[0]
        assert title == "Vinted plugin disconnected"
        assert text.startswith("The browser plugin disconnected;")
        # gone and back at once (its service worker restarted): no news
        await plugin.connect()
        await wait_until(lambda: connected(workbench))
        await plugin.close()
        await plugin.connect()
        await wait_until(lambda: connected(workbench))
        await asyncio.sleep(1.5)
        assert len(notes) == 1
        # two departures in a burst: one notification
        await plugin.close()
        await plugin.connect()
        await wait_until(lambda: connected(workbench))
        await plugin.close()
        await wait_until(lambda: len(notes) == 2)
        assert "disconnected 2 times" in notes[1][1]
        await asyncio.sleep(1.2)
        assert len(notes) == 2
        # quitting with a plugin connected is not a departure to tell about
        await plugin.connect()
        await wait_until(lambda: connected(workbench))
    finally:
        window.request_quit()
        await desktop.close()
        await plugin.close()
    await asyncio.sleep(1.2)
    assert len(notes) == 2


async def test_a_taken_port_at_start_does_not_stop_the_program(
    qapp: QApplication,
    db: Database,
    tmp_path: Path,
    keyring_backend: MemoryKeyring,
    settings: QSettings,
) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        workbench = Workbench(
            db, tmp_path, secrets=KeyringSecretStore(keyring_backend), bridge_port=taken
        )
        desktop = Desktop(
            db, tmp_path, workbench=workbench, settings=settings, start_processing=False
        )
        window = await desktop.open()
        try:
            assert window.isVisible()
            assert workbench.bridge.problem is not None
            label = window.dashboard.vinted_label
            box = window.settings_page.bridge_box
            expected = f"Vinted: bridge not running — {workbench.bridge.problem}"
            await wait_until(lambda: label.text() == expected and box.state.text() == expected)
            assert f"127.0.0.1:{taken}" in expected
            assert "not running" in window.statusBar().currentMessage()
            # another port in Settings, and the bridge runs
            port = free_port()
            box.port.setValue(port)
            assert await box.apply_port()
            assert (
                label.text()
                == f"Vinted: waiting for the browser plugin (bridge on 127.0.0.1:{port})"
            )
            assert window.findChildren(QMessageBox, "errorDialog") == []
        finally:
            window.request_quit()
            await desktop.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
