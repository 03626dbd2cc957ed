"""First run: a welcome dialog that walks the seller through the plugin and the accounts.

:class:`WelcomeDialog` is a non-modal dialog of three steps, Back/Next between them:

1. what Marketdesk does and what the next two steps are;
2. the Vinted browser plugin: its live state (the dashboard's words), the pairing token,
   the pre-paired plugin folder and how to load it: the Settings page's
   :class:`app.ui.bridge_box.BridgeBox` itself;
3. eBay and Etsy: the Settings page's :class:`app.ui.settings_page.AccountBox` for each,
   to enter the app keys and Connect.

The seller leaves it with Skip, Finish, the dialog's close button or Escape; each of
these marks it done in the window settings (:data:`DONE_KEY`), and it is never shown
again: a seller who closes it has seen it and does not want it back, and everything in
it stays on the Settings page. Only quitting the program while it is open
(:meth:`WelcomeDialog.close_quietly`) leaves it to be shown at the next start.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.events import ConnectionChanged
from app.ui.bridge_box import BridgeBox, Confirm, ask_first
from app.ui.context import UiContext
from app.ui.first_run import DONE_KEY
from app.ui.settings_page import AccountBox, open_in_browser
from app.workbench import Workbench

MARKETPLACES = ("ebay", "etsy")
TITLES = ("Welcome to Marketdesk", "Pair the Vinted plugin", "Connect eBay and Etsy")

INTRO = (
    "Marketdesk keeps your second-hand stock in one catalog and does the marketplace work "
    "for you on <b>Vinted</b>, <b>eBay</b> and <b>Etsy</b>: publishing, updating and "
    "removing listings, fetching orders and messages. Every such task is a job in a queue "
    "that runs in the background while you work; the Dashboard, Jobs and Stats pages show "
    "how it goes."
)
NEXT_STEPS = (
    "Two things to set up, a few minutes each:"
    "<ol>"
    "<li><b>Vinted</b>: install the Marketdesk browser plugin, already paired with this "
    "program. Vinted jobs run in your own browser, logged in to Vinted as you.</li>"
    "<li><b>eBay and Etsy</b>: enter your apps' keys and connect your seller accounts. "
    "Marketdesk then uses their official APIs.</li>"
    "</ol>"
    "You can skip this now and do it later: everything here is also on the Settings page "
    "(Ctrl+6)."
)
PLUGIN_HELP = (
    "Install the Marketdesk plugin in Chrome, Chromium or Edge:"
    "<ol>"
    "<li>press <b>Write pre-paired plugin folder</b> below;</li>"
    "<li>open <b>chrome://extensions</b> (in Edge: edge://extensions) \u203a switch on "
    "<b>Developer mode</b> \u203a <b>Load unpacked</b> and choose that folder;</li>"
    "<li>the plugin pairs by itself: the state below says \u201cplugin connected\u201d. "
    "Log in to Vinted in the same browser.</li>"
    "</ol>"
)
ACCOUNTS_HELP = (
    "Each marketplace needs an app of your own: create it on developer.ebay.com (App ID, "
    "Cert ID and RuName) and on etsy.com/developers (keystring and shared secret). Enter "
    "the keys, press Save app keys, then Connect\u2026 and agree in your browser."
)


def _label(text: str, name: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    if name:
        label.setObjectName(name)
    return label


def _scrolled(content: QWidget) -> QScrollArea:
    """``content`` in a frameless scroll area (small screens, large fonts)."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(content)
    return scroll


class WelcomeDialog(QDialog):
    """The first-run walk-through: what Marketdesk does, the plugin, eBay and Etsy."""

    #: The seller is through with it: ``"finished"``, ``"skipped"`` or ``"closed"``.
    dismissed = Signal(str)

    def __init__(
        self,
        ctx: UiContext,
        workbench: Workbench,
        open_url: Callable[[str], None] = open_in_browser,
        confirm: Confirm = ask_first,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to Marketdesk")
        self.setModal(False)
        self._quiet = False
        self._outcome = "closed"
        layout = QVBoxLayout(self)

        self.heading = QLabel("")
        self.heading.setObjectName("welcomeHeading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)

        self.stack = QStackedWidget()
        self.stack.setObjectName("welcomeSteps")
        self.bridge_box = BridgeBox(ctx, workbench.bridge, open_url, confirm)
        self.boxes = {
            marketplace: AccountBox(ctx, workbench.accounts, marketplace, open_url)
            for marketplace in MARKETPLACES
        }
        for page in (self._intro_page(), self._plugin_page(), self._accounts_page()):
            self.stack.addWidget(_scrolled(page))
        layout.addWidget(self.stack, 1)

        buttons = QHBoxLayout()
        self.skip_button = self._button("Skip", "welcomeSkip", self.skip)
        self.skip_button.setToolTip("Set this up later on the Settings page")
        self.step_label = QLabel("")
        self.step_label.setObjectName("welcomeStep")
        self.back_button = self._button("Back", "welcomeBack", self.previous_step)
        self.next_button = self._button("Next", "welcomeNext", self.next_step)
        self.finish_button = self._button("Finish", "welcomeFinish", self.finish)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(self.step_label)
        buttons.addSpacing(12)
        for button in (self.back_button, self.next_button, self.finish_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

        ctx.relay.connectionChanged.connect(self._connection_changed)
        self.resize(980, 560)
        self.show_step(0)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

    # -- the steps ----------------------------------------------------------------------
    def _intro_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("welcomeIntro")
        layout = QVBoxLayout(page)
        layout.addWidget(_label(INTRO))
        layout.addWidget(_label(NEXT_STEPS, "welcomeNextSteps"))
        layout.addStretch(1)
        return page

    def _plugin_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("welcomePlugin")
        layout = QVBoxLayout(page)
        layout.addWidget(_label(PLUGIN_HELP, "welcomePluginHelp"))
        box = self.bridge_box
        # the steps above stand for the box's long paragraph (still on the Settings page)
        form = box.layout()
        if isinstance(form, QFormLayout):
            form.setRowVisible(box.instructions, False)
        box.state.setStyleSheet("font-weight: bold;")
        layout.addWidget(box)
        layout.addStretch(1)
        return page

    def _accounts_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("welcomeAccounts")
        layout = QVBoxLayout(page)
        layout.addWidget(_label(ACCOUNTS_HELP, "welcomeAccountsHelp"))
        row = QHBoxLayout()
        for box in self.boxes.values():
            box.paste.setToolTip(box.paste.placeholderText())  # clipped in a narrow box
            row.addWidget(box, 1)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    @property
    def step(self) -> int:
        """The step shown, from 0."""
        return self.stack.currentIndex()

    def show_step(self, step: int) -> None:
        """Show step ``step`` (from 0, clamped) and the buttons that fit it."""
        step = max(0, min(step, self.stack.count() - 1))
        self.stack.setCurrentIndex(step)
        last = step == self.stack.count() - 1
        self.heading.setText(TITLES[step])
        self.step_label.setText(f"Step {step + 1} of {self.stack.count()}")
        self.back_button.setEnabled(step > 0)
        self.next_button.setVisible(not last)
        self.finish_button.setVisible(last)
        (self.finish_button if last else self.next_button).setDefault(True)

    def next_step(self) -> None:
        """The next step."""
        self.show_step(self.step + 1)

    def previous_step(self) -> None:
        """The step before."""
        self.show_step(self.step - 1)

    async def load(self) -> None:
        """Show the token, the plugin's state and the saved app keys."""
        await self.bridge_box.load()
        for box in self.boxes.values():
            await box.load()

    def _connection_changed(self, event: ConnectionChanged) -> None:
        box = self.boxes.get(event.marketplace)
        if box is not None:
            self.ctx.spawn(box.show_status(), "Showing the connection")

    # -- leaving ------------------------------------------------------------------------
    def skip(self) -> None:
        """Done for good without going through the steps (Settings has it all)."""
        self._outcome = "skipped"
        self.reject()

    def finish(self) -> None:
        """Done for good."""
        self._outcome = "finished"
        self.accept()

    def close_quietly(self) -> None:
        """Close without marking it done (the program quits): shown again next start."""
        self._quiet = True
        self.close()

    def done(self, result: int) -> None:
        """Every way out (Skip, Finish, close button, Escape) ends here: marked done."""
        if not self._quiet:
            self.ctx.settings.setValue(DONE_KEY, True)
            self.ctx.settings.sync()
        super().done(result)
        if not self._quiet:
            self.dismissed.emit(self._outcome)
