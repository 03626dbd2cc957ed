"""The program's QApplication: created once, with Marketdesk's names and icon.

The names decide where QSettings keeps the window's settings; closing the last window
does not quit (the tray stays until Quit, and start-up shows the window before anything
else is loaded: :mod:`app.ui.desktop`).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app.paths import app_root


def application() -> QApplication:
    """The program's QApplication (created once; closing windows does not quit it)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QCoreApplication.setOrganizationName("Marketdesk")
    QCoreApplication.setApplicationName("Marketdesk")
    app = QApplication([sys.argv[0] if sys.argv else "marketdesk"])
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(QIcon(str(app_root() / "resources" / "icons" / "marketdesk.png")))
    return app
