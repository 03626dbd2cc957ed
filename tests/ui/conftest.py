"""Window tests: offscreen Qt, a qasync event loop per test, a migrated database, a context.

``pytest_asyncio_loop_factories`` makes every async test here run on a qasync loop, so
that Qt signals, timers and widgets work while the test awaits. Do not use
``qtbot.waitSignal`` inside an async test (it spins a nested Qt loop under qasync and
hangs); await :func:`signal_future` instead.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSettings, SignalInstance
from PySide6.QtWidgets import QApplication

from app.db import Database
from app.secret_store import KeyringSecretStore
from app.ui.context import UiContext
from app.ui.relay import EventRelay
from app.workbench import Workbench
from tests.support.handlers import scripted_registry
from tests.support.keyring import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _qasync_loop() -> asyncio.AbstractEventLoop:
    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every async test of the window runs on a qasync loop."""
    return {"qasync": _qasync_loop}


def signal_future(signal: SignalInstance) -> asyncio.Future[tuple[Any, ...]]:
    """A future resolved with the arguments of the next emission of ``signal``."""
    future: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

    def fire(*args: Any) -> None:
        if not future.done():
            future.set_result(args)
        signal.disconnect(fire)

    signal.connect(fire)
    return future


@pytest.fixture(autouse=True)
def collect_on_the_gui_thread() -> Iterator[None]:
    """As in the program: no garbage collection in other threads while Qt objects live."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture
def backend() -> str:
    """Window tests run on SQLite (the desktop's database)."""
    return "sqlite"


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """Window settings in a file of the test's own."""
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def errors() -> list[tuple[str, BaseException]]:
    """Unexpected errors reported by pages (tests assert it stays empty)."""
    return []


@pytest.fixture
def ctx(
    qapp: QApplication, db: Database, settings: QSettings, errors: list[tuple[str, BaseException]]
) -> Iterator[UiContext]:
    """A context over the test database, without a running workbench."""
    relay = EventRelay(db.events)
    context = UiContext(db, relay, settings, on_error=lambda what, exc: errors.append((what, exc)))
    yield context
    relay.close()


@pytest.fixture
def new_workbench(
    db: Database, tmp_path: Path, keyring_backend: MemoryKeyring
) -> Callable[[], Workbench]:
    """Makes a workbench per start of the program (same data folder, same keyring), with
    scripted handlers and its bridge on a free port (never the default one)."""

    def make() -> Workbench:
        return Workbench(
            db,
            tmp_path,
            secrets=KeyringSecretStore(keyring_backend),
            handlers=scripted_registry(),
            poll_seconds=0.2,
            stop_timeout=2.0,
            bridge_port=0,
        )

    return make


@pytest.fixture
def workbench(new_workbench: Callable[[], Workbench]) -> Workbench:
    """A workbench for the test (see :func:`new_workbench`)."""
    return new_workbench()
