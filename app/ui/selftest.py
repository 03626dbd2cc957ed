"""The window's part of ``marketdesk --self-test``: the core checks, then the whole window.

Runs in a qasync event loop like the program itself (offscreen when there is no display):
:func:`app.selftest.core_checks` (database, bridge, runner, a Vinted job), then the full
window is built on the migrated database with every page loaded, its bridge listening on a
free port, and closed again with nothing left running.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings

from app.secret_store import FileSecretStore
from app.selftest import Report, SelfTestError, core_checks, describe
from app.ui.boot import application
from app.ui.desktop import Desktop
from app.workbench import Workbench


async def _checks(folder: Path, report: Report) -> None:
    db = await core_checks(folder, report)
    try:
        settings = QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)
        workbench = Workbench(
            db, folder, secrets=FileSecretStore(folder / "secrets.json"), bridge_port=0
        )
        desktop = Desktop(db, folder, workbench=workbench, settings=settings)
        window = await desktop.open()
        for index in range(window.tabs.count()):  # every page is built when first shown
            window.tabs.setCurrentIndex(index)
        await window.refresh_all()
        if not window.isVisible() or workbench.bridge.status().state != "listening":
            raise SelfTestError("window: not shown, or its plugin bridge is not listening")
        pages = len(window.built_pages())
        await desktop.close()
        if workbench.processing:
            raise SelfTestError("window: processing still running after close")
        report(f"window: built with its {pages} pages, processing and bridge started and stopped")
    finally:
        db.close()


def run(report: Report = print) -> int:
    """Every check; the exit code (0 when all passed)."""
    report(describe())
    app = application()
    report(f"Qt: {app.platformName()} platform")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory(prefix="marketdesk-selftest-") as folder, loop:
        try:
            loop.run_until_complete(_checks(Path(folder), report))
        except Exception as exc:  # every failure is reported, whatever it is
            report(f"FAILED: {exc}")
            return 1
    report("self-test passed")
    return 0
