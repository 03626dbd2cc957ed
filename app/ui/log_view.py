"""The log page: Marketdesk's own log lines, newest last, from any thread."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

MAX_LINES = 5000
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Emitter(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """A logging handler whose records become a Qt signal (queued to the GUI thread)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.emitter = _Emitter()
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the window is already gone
            self.emitter.line.emit(self.format(record))


class LogPage(QWidget):
    """A read-only, bounded view of the log."""

    def __init__(self, handler: QtLogHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setObjectName("logText")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.text.setFont(QFont("monospace"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        handler.emitter.line.connect(self.text.appendPlainText)
