"""The Vinted browser plugin in the window: the bridge's state in words, its settings box.

:func:`bridge_summary` turns a :class:`app.events.BridgeStateChanged` (live, from the
relay) or the bridge's current status (:func:`current_state`) into one line a seller
understands; the dashboard and the settings page both show it. :class:`BridgeBox` is
the "Vinted browser plugin" group of the settings page: the port the bridge listens on,
the pairing token (copy, regenerate), how to install the plugin, and a pre-paired copy
of the plugin written to a folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.bridge.config import PLUGIN_ID, check_port, pairing_token
from app.bridge.host import PLUGIN_FOLDER, BridgeHost
from app.events import BridgeStateChanged
from app.ui.context import ERROR_STYLE, UiContext

#: Asks the seller ``(parent, title, text, then)`` and calls ``then()`` on yes.
Confirm = Callable[[QWidget, str, str, Callable[[], None]], None]
BRIDGE_HOST = "127.0.0.1"
UNAVAILABLE = "Vinted: the browser plugin bridge is not available here"


def current_state(bridge: BridgeHost) -> BridgeStateChanged:
    """The bridge's status now, as the event the bridge publishes when it changes."""
    status = bridge.status()
    vinted = status.vinted
    return BridgeStateChanged(
        state=status.state,
        port=status.port,
        plugin_version=status.plugin_version,
        browser=status.browser,
        vinted_logged_in=vinted.logged_in if vinted is not None else None,
        vinted_login=vinted.login if vinted is not None and vinted.logged_in else None,
        message=bridge.problem if status.state == "stopped" else None,
        user_id=bridge.user_id,
    )


def bridge_summary(event: BridgeStateChanged) -> str:
    """One line for the seller: is the plugin there, and is it logged in to Vinted."""
    if event.state == "connected":
        details = [part for part in (event.browser, _version(event.plugin_version)) if part]
        plugin = f"plugin connected ({', '.join(details)})" if details else "plugin connected"
        if event.vinted_logged_in is False:
            return "Vinted: plugin connected, but logged out of Vinted in the browser"
        if event.vinted_logged_in:
            who = f" as {event.vinted_login}" if event.vinted_login else ""
            return f"Vinted: {plugin}, logged in to Vinted{who}"
        return f"Vinted: {plugin}, Vinted login not seen yet"
    address = f"{BRIDGE_HOST}:{event.port}"
    if event.state == "listening":
        if event.message:
            return (
                f"Vinted: {_sentence(event.message)}; waiting for it to come back "
                f"(bridge on {address})"
            )
        return f"Vinted: waiting for the browser plugin (bridge on {address})"
    if event.message:
        return f"Vinted: bridge not running — {event.message}"
    return "Vinted: bridge not running"


def _version(version: str | None) -> str | None:
    return f"plugin {version}" if version else None


def _sentence(message: str) -> str:
    """``message`` to follow "Vinted: " (first letter lower-cased)."""
    return message[:1].lower() + message[1:]


def ask_first(parent: QWidget, title: str, text: str, then: Callable[[], None]) -> None:
    """A non-blocking Yes/Cancel question; ``then()`` runs when the seller says yes."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("confirmDialog")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(button: Any) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            then()

    box.buttonClicked.connect(answered)
    box.open()


class BridgeBox(QGroupBox):
    """The plugin bridge's settings: port, pairing token, installing the plugin."""

    def __init__(
        self,
        ctx: UiContext,
        bridge: BridgeHost | None,
        open_url: Callable[[str], None],
        confirm: Confirm = ask_first,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Vinted browser plugin", parent)
        self.ctx = ctx
        self.bridge = bridge
        self.open_url = open_url
        self.confirm = confirm
        self.plugin_folder: Path | None = None
        self.setObjectName("bridgeBox")
        form = QFormLayout(self)

        intro = QLabel(
            "Vinted jobs run in your own browser, logged in to Vinted as you, through the "
            "Marketdesk plugin. The plugin talks to this program on this computer only."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.state = QLabel("Vinted: …")
        self.state.setObjectName("bridgeState")
        self.state.setWordWrap(True)
        form.addRow("State", self.state)

        self.port = QSpinBox()
        self.port.setObjectName("bridgePort")
        self.port.setRange(1024, 65535)
        self.port.setPrefix(f"{BRIDGE_HOST} : ")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("bridgeApplyPort")
        self.apply_button.clicked.connect(
            lambda: ctx.spawn(self.apply_port(), "Changing the bridge port")
        )
        port_row = QHBoxLayout()
        port_row.addWidget(self.port, 1)
        port_row.addWidget(self.apply_button)
        form.addRow("Bridge address", port_row)

        self.token = QLineEdit()
        self.token.setObjectName("bridgeToken")
        self.token.setReadOnly(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("bridgeCopyToken")
        self.copy_button.clicked.connect(self.copy_token)
        self.regenerate_button = QPushButton("Regenerate…")
        self.regenerate_button.setObjectName("bridgeRegenerate")
        self.regenerate_button.clicked.connect(self.ask_regenerate)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.copy_button)
        token_row.addWidget(self.regenerate_button)
        form.addRow("Pairing token", token_row)

        steps = QLabel(
            "To install the plugin in Chrome, Chromium or Edge: 1. press \u201cWrite "
            "pre-paired plugin folder\u201d below; 2. open chrome://extensions (in Edge: "
            "edge://extensions) and switch on Developer mode; 3. press Load unpacked and "
            "choose that folder. The plugin (id "
            f"{PLUGIN_ID}) then connects by itself; log in to Vinted in the same browser. "
            "If you change the port or the token later, write the folder again and press "
            "the plugin's reload button in chrome://extensions, or enter them in the "
            "plugin's options."
        )
        steps.setObjectName("bridgeInstructions")
        #: The long install paragraph (the welcome shows its own short steps instead).
        self.instructions = steps
        steps.setWordWrap(True)
        steps.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(steps)

        self.write_button = QPushButton("Write pre-paired plugin folder")
        self.write_button.setObjectName("bridgeWritePlugin")
        self.write_button.clicked.connect(
            lambda: ctx.spawn(self.write_plugin(), "Writing the plugin folder")
        )
        self.open_button = QPushButton("Open folder")
        self.open_button.setObjectName("bridgeOpenFolder")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_folder)
        self.folder = QLabel("")
        self.folder.setObjectName("bridgePluginFolder")
        self.folder.setWordWrap(True)
        self.folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        write_row = QHBoxLayout()
        write_row.addWidget(self.write_button)
        write_row.addWidget(self.open_button)
        write_row.addStretch(1)
        form.addRow(write_row)
        form.addRow("Plugin folder", self.folder)

        self.message = QLabel("")
        self.message.setObjectName("bridgeMessage")
        self.message.setWordWrap(True)
        form.addRow(self.message)

        self.buttons = (
            self.apply_button,
            self.copy_button,
            self.regenerate_button,
            self.write_button,
        )
        if bridge is None:
            self.state.setText(UNAVAILABLE)
            self.folder.setText("not available")
            for widget in (*self.buttons, self.port, self.token):
                widget.setEnabled(False)
            return
        self.folder.setText(f"not written yet (it goes to {bridge.data_dir / PLUGIN_FOLDER})")
        ctx.relay.bridgeChanged.connect(self._bridge_changed)

    # -- showing --------------------------------------------------------------------------
    def _bridge_changed(self, event: BridgeStateChanged) -> None:
        self.state.setText(bridge_summary(event))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)

    @contextmanager
    def _busy(self) -> Iterator[None]:
        """The buttons are disabled while the bridge works."""
        for button in self.buttons:
            button.setEnabled(False)
        try:
            yield
        finally:
            for button in self.buttons:
                button.setEnabled(True)

    async def load(self) -> None:
        """Show the port, the token (from the secret store) and the bridge's state."""
        bridge = self.bridge
        if bridge is None:
            return
        self.port.setValue(bridge.status().port or bridge.settings.port)
        token = bridge.token
        if not token:
            try:
                token = await asyncio.to_thread(pairing_token, bridge.secrets)
            except Exception as exc:  # a keyring that refuses: the seller must know
                self._say(f"The pairing token cannot be read: {exc}", error=True)
                token = ""
        self.token.setText(token)
        self.state.setText(bridge_summary(current_state(bridge)))
        folder = bridge.data_dir / PLUGIN_FOLDER
        if await asyncio.to_thread((folder / "manifest.json").exists):
            self._show_folder(folder)

    def _show_folder(self, folder: Path) -> None:
        self.plugin_folder = folder
        self.folder.setText(str(folder))
        self.open_button.setEnabled(True)

    # -- port -----------------------------------------------------------------------------
    async def apply_port(self) -> bool:
        """Listen on the port in the box from now on (saved); False when it cannot."""
        bridge = self.bridge
        if bridge is None:
            return False
        port = check_port(self.port.value())
        status = bridge.status()
        if status.state != "stopped" and port == status.port == bridge.settings.port:
            self._say(f"The bridge already listens on {BRIDGE_HOST}:{port}")
            return True
        with self._busy():
            try:
                listening = await bridge.set_port(port)
            except Exception as exc:  # settings not writable, keyring refused...
                self._say(f"The port was not changed: {exc}", error=True)
                return False
        self.state.setText(bridge_summary(current_state(bridge)))
        if not listening:
            self._say(bridge.problem or f"The bridge cannot listen on port {port}", error=True)
            return False
        self._say(
            f"The bridge now listens on {BRIDGE_HOST}:{port}. Write the plugin folder again "
            "(and reload the plugin), or enter this port in the plugin's options."
        )
        return True

    # -- token ----------------------------------------------------------------------------
    def copy_token(self) -> None:
        """Put the pairing token on the clipboard."""
        if not self.token.text():
            return
        QGuiApplication.clipboard().setText(self.token.text())
        self._say("The pairing token is on the clipboard")

    def ask_regenerate(self) -> None:
        """Ask first, then make a new pairing token."""
        self.confirm(
            self,
            "New pairing token",
            "Make a new pairing token? The plugin in your browser is disconnected until it "
            "is given the new one (write the plugin folder again, or paste the token in "
            "the plugin's options).",
            self._start_regenerating,
        )

    def _start_regenerating(self) -> None:
        self.ctx.spawn(self.regenerate_token(), "Making a new pairing token")

    async def regenerate_token(self) -> str | None:
        """A new pairing token (no question asked), shown; None when it failed."""
        bridge = self.bridge
        if bridge is None:
            return None
        with self._busy():
            try:
                token = await bridge.regenerate_token()
            except Exception as exc:  # the keyring refused
                self._say(f"No new token was made: {exc}", error=True)
                return None
        self.token.setText(token)
        self._say(
            "New pairing token made. Give it to the plugin: write the plugin folder again "
            "and reload the plugin, or paste the token in the plugin's options."
        )
        return token

    # -- the plugin folder ----------------------------------------------------------------
    async def write_plugin(self) -> Path | None:
        """Write the pre-paired copy of the plugin; its folder, or None when it failed."""
        bridge = self.bridge
        if bridge is None:
            return None
        with self._busy():
            try:
                folder = await bridge.write_plugin()
            except Exception as exc:  # plugin missing from the installation, disk full...
                self._say(f"The plugin folder was not written: {exc}", error=True)
                return None
        self._show_folder(folder)
        self._say("Plugin folder written: load it with Load unpacked in chrome://extensions")
        return folder

    def open_folder(self) -> None:
        """Show the plugin folder in the file manager."""
        if self.plugin_folder is not None:
            self.open_url(QUrl.fromLocalFile(str(self.plugin_folder)).toString())
