"""Run ``main.py``'s window path once, timed, then quit: for the start-up benchmark and tests.

Run as a script in a fresh interpreter (the project root on ``PYTHONPATH``)::

    python -m tests.ui.window_probe T0 DATA_DIR

``T0`` is the ``time.time()`` of the caller just before it started the interpreter. The
program starts exactly as ``python main.py --data-dir DATA_DIR`` does
(:func:`app.launch.main`), watched from outside:

- **shown**: the main window's first paint pass is over (the page the seller left open is
  on screen);
- **ready**: the desktop is open (database migrated, bridge and runner started) and the
  page's data is in; then the probe quits as the seller would (the window's Quit).

It prints one JSON line: ``shown`` and ``ready`` in seconds since ``T0``, whether
SQLAlchemy was loaded when the window was first painted, and the exit code. The caller
chooses the environment (offscreen Qt, a bridge port, a keyring backend, ``XDG_CONFIG_HOME``).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

T0 = float(sys.argv[-2])
DATA_DIR = sys.argv[-1]

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402 (after T0 on purpose)

import app.ui.desktop as desktop_module  # noqa: E402
from app.launch import main  # noqa: E402
from app.ui import main_window  # noqa: E402

marks: dict[str, Any] = {}


class FirstPaint(QObject):
    """Notes the end of the window's first paint pass."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and "shown" not in marks:
            marks["shown"] = None
            marks["sqlalchemy_at_paint"] = "sqlalchemy" in sys.modules
            QTimer.singleShot(0, lambda: marks.__setitem__("shown", time.time() - T0))
        return False


watcher = FirstPaint()
build = main_window.MainWindow.__init__


def watched_build(self: main_window.MainWindow, *args: Any, **kwargs: Any) -> None:
    build(self, *args, **kwargs)
    self.installEventFilter(watcher)  # the window's own events only: cheap


main_window.MainWindow.__init__ = watched_build  # type: ignore[method-assign]
open_desktop = desktop_module.Desktop.open


async def open_then_quit(self: desktop_module.Desktop) -> main_window.MainWindow:
    window = await open_desktop(self)
    await self.ctx.drain()  # the page's numbers are in
    marks["ready"] = time.time() - T0
    marks["opened"] = getattr(self.ctx, "is_open", True)  # older code: open means opened
    window.request_quit()
    return window


desktop_module.Desktop.open = open_then_quit  # type: ignore[method-assign]
code = main(["--data-dir", DATA_DIR])
print(json.dumps({**marks, "exit": code}), flush=True)
