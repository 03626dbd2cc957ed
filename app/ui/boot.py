"""The window's first frame, shown before the rest of Marketdesk is loaded.

Importing the database layer, the migrations, the HTTP clients and every page, then
migrating, takes about a second; a seller double-clicking Marketdesk should see it at once.
:func:`run` creates the QApplication, shows a first frame (the window's title, a short
"opening your catalog" line and a busy bar) and paints it, then loads and starts the
real program, which takes the first frame's place on screen.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.paths import app_root


class FirstFrame(QMainWindow):
    """What the seller sees while Marketdesk loads."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Marketdesk")
        self.setObjectName("firstFrame")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addStretch(1)
        title = QLabel("Marketdesk")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = title.font()
        font.setPointSize(font.pointSize() * 2)
        title.setFont(font)
        self.message = QLabel("Opening your catalog…")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        busy = QProgressBar()
        busy.setRange(0, 0)
        busy.setMaximumWidth(320)
        layout.addWidget(title)
        layout.addWidget(self.message)
        layout.addWidget(busy, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        self.setCentralWidget(body)
        self.resize(1100, 720)


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


def show_first_frame() -> tuple[QApplication, FirstFrame]:
    """The QApplication and its painted first frame."""
    app = application()
    frame = FirstFrame()
    frame.show()
    app.processEvents()
    return app, frame


def close_first_frame() -> None:
    """The real window is up: the first frame goes (called by the desktop start-up)."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, FirstFrame):
            widget.close()
            widget.deleteLater()


def run(argv: Sequence[str]) -> int:
    """Show the first frame, then run the command line's window path (it opens the window)."""
    show_first_frame()
    from app.cli.main import main as cli_main

    code = cli_main(list(argv))
    close_first_frame()  # the start-up failed before the window (a bad --data-dir...)
    return code
