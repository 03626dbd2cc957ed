"""The tray icon: notifications (failures, alerts) and a small menu."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon, QWidget


class Tray(QObject):
    """A tray icon when the desktop has a tray; notifications are recorded either way."""

    showRequested = Signal()
    quitRequested = Signal()

    def __init__(self, window: QWidget, icon: QIcon | None = None) -> None:
        super().__init__(window)
        self.notifications: list[tuple[str, str]] = []
        self.icon: QSystemTrayIcon | None = None
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        shown = icon or QApplication.windowIcon()
        if shown.isNull():
            shown = window.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
        self.icon = QSystemTrayIcon(shown, self)
        self.icon.setToolTip("Marketdesk")
        menu = QMenu(window)
        show = QAction("Show Marketdesk", menu)
        show.triggered.connect(self.showRequested.emit)
        leave = QAction("Quit", menu)
        leave.triggered.connect(self.quitRequested.emit)
        menu.addAction(show)
        menu.addAction(leave)
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(lambda *_: self.showRequested.emit())
        self.icon.show()

    def notify(self, title: str, text: str, *, critical: bool = False) -> None:
        """A desktop notification (kept in :attr:`notifications` too)."""
        self.notifications.append((title, text))
        if self.icon is not None:
            kind = (
                QSystemTrayIcon.MessageIcon.Critical
                if critical
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.icon.showMessage(title, text, kind, 10_000)

    def hide(self) -> None:
        """Remove the icon (closing)."""
        if self.icon is not None:
            self.icon.hide()
