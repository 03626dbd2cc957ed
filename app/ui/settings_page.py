"""Settings and connections: where the data lives, eBay and Etsy apps, alerts, order sync
(:class:`app.ui.order_sync_box.OrderSyncBox`), plugin.

App keys are saved through :class:`app.accounts.AccountManager` (secrets in the keyring);
Connect runs the marketplace's flow: eBay opens the consent page and waits for the seller
to paste back the address of the page eBay shows next; Etsy opens the consent page and
receives the redirect on its loopback port by itself. The Vinted browser plugin's group
(bridge port, pairing token, installing the plugin) is :class:`app.ui.bridge_box.BridgeBox`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.accounts import AccountManager
from app.accounts.manager import PendingConsent
from app.accounts.settings import ENVIRONMENTS, AccountSettings
from app.bridge.host import BridgeHost
from app.etsy.oauth import DEFAULT_REDIRECT_URI
from app.events import ConnectionChanged
from app.marketplace.job_forms import DISPLAY
from app.ui.bridge_box import BridgeBox, Confirm, ask_first
from app.ui.context import UiContext
from app.ui.failure_alert import ALERT_KEY, DEFAULT_ALERT
from app.ui.order_sync_box import OrderSyncBox


def open_in_browser(url: str) -> None:
    """Open ``url`` in the seller's browser."""
    QDesktopServices.openUrl(QUrl(url))


class AccountBox(QGroupBox):
    """App keys, connection state and Connect/Disconnect of one marketplace."""

    def __init__(
        self,
        ctx: UiContext,
        accounts: AccountManager,
        marketplace: str,
        open_url: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(DISPLAY[marketplace], parent)
        self.ctx = ctx
        self.accounts = accounts
        self.marketplace = marketplace
        self.open_url = open_url
        self.pending: PendingConsent | None = None
        self.setObjectName(f"account_{marketplace}")
        form = QFormLayout(self)
        self.environment = QComboBox()
        self.environment.setObjectName("environment")
        for name in ENVIRONMENTS[marketplace]:
            self.environment.addItem(name, name)
        form.addRow("Environment", self.environment)
        self.base_url = QLineEdit()
        self.base_url.setObjectName("baseUrl")
        self.base_url.setPlaceholderText("only for the local environment")
        form.addRow("Base URL", self.base_url)
        self.client_id = QLineEdit()
        self.client_id.setObjectName("clientId")
        form.addRow("App ID" if marketplace == "ebay" else "Keystring", self.client_id)
        self.redirect = QLineEdit()
        self.redirect.setObjectName("redirect")
        self.redirect.setPlaceholderText(
            "RuName" if marketplace == "ebay" else DEFAULT_REDIRECT_URI
        )
        form.addRow("RuName" if marketplace == "ebay" else "Redirect URI", self.redirect)
        self.secret = QLineEdit()
        self.secret.setObjectName("secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("unchanged")
        form.addRow("Cert ID (secret)" if marketplace == "ebay" else "Shared secret", self.secret)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save app keys")
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(lambda: ctx.spawn(self.save(), "Saving app keys"))
        self.connect_button = QPushButton("Connect…")
        self.connect_button.setObjectName("connect")
        self.connect_button.clicked.connect(lambda: ctx.spawn(self.connect_account(), "Connecting"))
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.setObjectName("disconnect")
        self.disconnect_button.clicked.connect(
            lambda: ctx.spawn(self.disconnect_account(), "Disconnecting")
        )
        for button in (self.save_button, self.connect_button, self.disconnect_button):
            buttons.addWidget(button)
        form.addRow(buttons)

        self.paste = QLineEdit()
        self.paste.setObjectName("paste")
        self.paste.setPlaceholderText("Paste the address of the page eBay shows after you agree")
        self.finish_button = QPushButton("Finish connecting")
        self.finish_button.setObjectName("finish")
        self.finish_button.clicked.connect(lambda: ctx.spawn(self.finish(), "Connecting eBay"))
        if marketplace == "ebay":
            paste_row = QHBoxLayout()
            paste_row.addWidget(self.paste, 1)
            paste_row.addWidget(self.finish_button)
            form.addRow(paste_row)
        self.paste.setEnabled(False)
        self.finish_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setWordWrap(True)
        form.addRow(self.status)

    def settings_from_form(self, current: AccountSettings | None) -> AccountSettings:
        """The settings the form shows."""
        return AccountSettings(
            marketplace=self.marketplace,
            environment=str(self.environment.currentData()),
            base_url=self.base_url.text().strip() or None,
            client_id=self.client_id.text().strip(),
            redirect=self.redirect.text().strip(),
            requests_per_second=current.requests_per_second if current else None,
            defaults=current.defaults if current else {},
        )

    async def load(self) -> None:
        """Show the saved settings and state."""
        current = await self.accounts.settings(self.marketplace)
        if current is not None:
            self.environment.setCurrentIndex(self.environment.findData(current.environment))
            self.base_url.setText(current.base_url or "")
            self.client_id.setText(current.client_id or "")
            self.redirect.setText(current.redirect or "")
        await self.show_status()

    async def show_status(self) -> None:
        """The connection line."""
        status = await self.accounts.status(self.marketplace)
        if not status.configured:
            text = "Not set up: enter the app keys and save"
        elif status.state == "connected":
            until = f" until {status.until:%Y-%m-%d}" if status.until else ""
            text = f"Connected as {status.account}{until}"
        elif status.state == "reconnect_needed":
            text = f"Reconnect needed: {status.message}"
        else:
            text = status.message or "Not connected"
        self.status.setText(text)

    async def save(self) -> None:
        """Save the app keys (the secret only when typed)."""
        current = await self.accounts.settings(self.marketplace)
        secret = self.secret.text().strip() or None
        try:
            await self.accounts.configure(self.settings_from_form(current), secret=secret)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        self.secret.clear()
        await self.show_status()

    async def connect_account(self) -> None:
        """Start the connect flow."""
        try:
            if self.marketplace == "ebay":
                self.pending = await self.accounts.begin_ebay()
                self.open_url(self.pending.url)
                self.paste.setEnabled(True)
                self.finish_button.setEnabled(True)
                self.status.setText(
                    "Sign in to eBay in your browser, agree, then paste the address of the "
                    "page you land on here"
                )
                return
            self.status.setText("Sign in to Etsy in your browser and agree…")
            await self.accounts.connect_etsy(self.open_url)
        except Exception as exc:  # every failure of a connect flow is shown to the seller
            self.status.setText(str(exc))
            return
        await self.show_status()

    async def finish(self) -> None:
        """Finish the eBay flow with the pasted address."""
        if self.pending is None:
            return
        try:
            await self.accounts.finish_ebay(self.pending, self.paste.text())
        except Exception as exc:  # a wrong paste is the seller's to fix
            self.status.setText(str(exc))
            return
        self.pending = None
        self.paste.clear()
        self.paste.setEnabled(False)
        self.finish_button.setEnabled(False)
        await self.show_status()

    async def disconnect_account(self) -> None:
        """Forget the tokens."""
        try:
            await self.accounts.disconnect(self.marketplace)
        except Exception as exc:  # not set up, keyring refused...
            self.status.setText(str(exc))
            return
        await self.show_status()


class SettingsPage(QWidget):
    """Data, accounts, alerts and the plugin."""

    thresholdChanged = Signal(float)

    def __init__(
        self,
        ctx: UiContext,
        accounts: AccountManager,
        *,
        data_dir: str,
        bridge: BridgeHost | None = None,
        open_url: Callable[[str], None] = open_in_browser,
        confirm: Confirm = ask_first,
        parent: QWidget | None = None,
    ) -> None:
        """``bridge`` is the running plugin bridge (None: shown as not available)."""
        super().__init__(parent)
        self.ctx = ctx
        self.accounts = accounts
        content = QWidget()
        content.setObjectName("settingsContent")
        layout = QVBoxLayout(content)
        scroll = QScrollArea()
        scroll.setObjectName("settingsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        page_layout = QVBoxLayout(self)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(scroll)
        data = QGroupBox("Data")
        data_form = QFormLayout(data)
        url = ctx.db.engine.url.render_as_string(hide_password=True)
        for label, value in (("Data folder", data_dir), ("Database", url)):
            shown = QLabel(value)
            shown.setWordWrap(True)
            data_form.addRow(label, shown)
        #: Where secrets are kept: found out off the window's thread (see refresh).
        self.secrets_label = QLabel("…")
        self.secrets_label.setObjectName("secretsPlace")
        self.secrets_label.setWordWrap(True)
        data_form.addRow("Secrets", self.secrets_label)
        data_form.addRow(
            QLabel("Start with --data-dir DIR or MARKETDESK_DB_URL=... to use another place.")
        )
        layout.addWidget(data)

        self.boxes = {
            marketplace: AccountBox(ctx, accounts, marketplace, open_url)
            for marketplace in ("ebay", "etsy")
        }
        row = QHBoxLayout()
        for box in self.boxes.values():
            row.addWidget(box)
        layout.addLayout(row)

        alerts = QGroupBox("Alerts")
        alerts_form = QFormLayout(alerts)
        self.threshold = QDoubleSpinBox()
        self.threshold.setObjectName("alertThreshold")
        self.threshold.setRange(1, 100)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(float(ctx.settings.value(ALERT_KEY, DEFAULT_ALERT)) * 100)  # type: ignore[arg-type]
        self.threshold.valueChanged.connect(self._threshold_changed)
        alerts_form.addRow("Warn when a marketplace's failure rate passes", self.threshold)
        layout.addWidget(alerts)

        self.order_sync = OrderSyncBox(ctx)
        layout.addWidget(self.order_sync)

        self.bridge_box = BridgeBox(ctx, bridge, open_url, confirm)
        layout.addWidget(self.bridge_box)
        layout.addStretch(1)
        ctx.relay.connectionChanged.connect(self._connection_changed)

    def _threshold_changed(self, percent: float) -> None:
        self.ctx.settings.setValue(ALERT_KEY, percent / 100)
        self.thresholdChanged.emit(percent / 100)

    def _connection_changed(self, event: ConnectionChanged) -> None:
        box = self.boxes.get(event.marketplace)
        if box is not None:
            self.ctx.spawn(box.show_status(), "Showing the connection")

    async def refresh(self) -> None:
        """Load the saved settings."""
        where = await asyncio.to_thread(lambda: self.accounts.secrets.description)
        self.secrets_label.setText(where)
        for box in self.boxes.values():
            await box.load()
        await self.order_sync.load()
        await self.bridge_box.load()
