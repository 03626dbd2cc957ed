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
SQLAlchemy was loaded when the window was first painted, the modules of the database layer
the window's thread imported before the database was open (none, or the window would stall
and race the opening's imports), and the exit code. The caller
chooses the environment (offscreen Qt, a bridge port, a keyring backend, ``XDG_CONFIG_HOME``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

T0 = float(sys.argv[-2])
DATA_DIR = sys.argv[-1]

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402 (after T0 on purpose)

import app.ui.desktop as desktop_module  # noqa: E402
from app.launch import main  # noqa: E402
from app.ui import main_window  # noqa: E402

marks: dict[str, Any] = {"main_thread_imports": []}
#: The database layer and what stands on it.
HEAVY = ("sqlalchemy", "alembic", "app.models", "app.db.base", "app.db.database", "app.workbench")
opened = threading.Event()


def audit(event: str, args: tuple[Any, ...]) -> None:
    """Notes each heavy module the window's thread imports before the database is open."""
    if event != "import" or opened.is_set():
        return
    name = str(args[0])
    on_main = threading.current_thread() is threading.main_thread()
    if on_main and name.startswith(HEAVY) and name not in marks["main_thread_imports"]:
        marks["main_thread_imports"].append(name)


sys.addaudithook(audit)


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
attach = getattr(desktop_module.UiContext, "attach", None)
if attach is not None:  # older code opened the database before the window

    def attached(self: Any, *args: Any) -> None:
        opened.set()
        attach(self, *args)

    desktop_module.UiContext.attach = attached  # type: ignore[method-assign]
code = main(["--data-dir", DATA_DIR])
print(json.dumps({**marks, "exit": code}), flush=True)
