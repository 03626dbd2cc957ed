"""The log page: Marketdesk's own log lines, newest last, from any thread.

:class:`QtLogHandler` is attached when the program starts and keeps the last
:data:`MAX_LINES` lines, so the page, built when the seller first opens it, shows what
was logged before too.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

MAX_LINES = 5000
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Emitter(QObject):
    line = Signal(str)


class QtLogHandler(logging.Handler):
    """A logging handler whose records become a Qt signal (queued to the GUI thread).

    The last :data:`MAX_LINES` lines are kept (:meth:`follow` hands them over).
    """

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.emitter = _Emitter()
        self.lines: deque[str] = deque(maxlen=MAX_LINES)
        self._following = threading.RLock()
        self.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._following, contextlib.suppress(RuntimeError):  # RuntimeError: window gone
            self.lines.append(line)
            self.emitter.line.emit(line)

    def follow(self, receive: Callable[[str], None]) -> list[str]:
        """The lines so far, and every later one to ``receive``: none lost, none twice."""
        with self._following:
            self.emitter.line.connect(receive)
            return list(self.lines)


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
        earlier = handler.follow(self.text.appendPlainText)
        if earlier:
            self.text.setPlainText("\n".join(earlier))
