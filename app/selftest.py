"""``marketdesk --self-test``: prove an installation works, without a display or network.

The checks run in a temporary folder: the database is created and migrated to the newest
revision, the plugin bridge listens on a free loopback port, a built-in stand-in for the
browser plugin pairs with it over a real WebSocket, and the job runner takes a Vinted sync
job through the real handler, the bridge and the stand-in, which answers with one item;
the item must land in the listings table. The window's part (:mod:`app.ui.selftest`) adds
the Qt checks. Each check prints one line; any failure ends the run with exit code 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from app import __version__
from app.bridge.config import PLUGIN_ORIGIN, plugin_source_dir, write_plugin_copy
from app.bridge.protocol import new_pairing_token
from app.bridge.server import BridgeServer
from app.db import Database
from app.marketplace.marketplace_job_processor import MarketplaceJobProcessor
from app.marketplace.marketplace_job_service import MarketplaceJobService
from app.marketplace.runner import JobRunner
from app.models.user.marketplace_listing import MarketplaceListing

log = logging.getLogger("marketdesk.selftest")

Report = Callable[[str], None]
ITEM = {
    "id": "1001",
    "title": "Self-test item",
    "price": "12.50",
    "currency": "EUR",
    "url": "https://www.vinted.fr/items/1001-self-test",
    "state": "active",
    "photo_ids": [],
}


class SelfTestError(Exception):
    """A check of the self-test failed; the message says which and why."""


def describe() -> str:
    """What is being tested: version, Python, platform, frozen or not."""
    frozen = "frozen build" if getattr(sys, "frozen", False) else "from source"
    return (
        f"Marketdesk {__version__} ({frozen}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


async def _stand_in_plugin(port: int, token: str) -> tuple[ClientConnection, asyncio.Task[None]]:
    """A minimal plugin: pairs, then answers ``wardrobe`` with :data:`ITEM`."""
    ws = await connect(f"ws://127.0.0.1:{port}/", origin=PLUGIN_ORIGIN)  # type: ignore[arg-type]
    await ws.send(json.dumps({"v": 1, "type": "hello", "token": token, "plugin_version": "self"}))
    welcome = json.loads(await ws.recv())
    if welcome.get("type") != "welcome":
        raise SelfTestError(f"bridge: the stand-in plugin was not welcomed: {welcome}")

    async def answer() -> None:
        async for message in ws:
            call: dict[str, Any] = json.loads(message)
            if call.get("type") != "call":
                continue
            data = {"items": [ITEM], "page": 1, "total_pages": 1}
            reply = {"v": 1, "type": "result", "id": call["id"], "ok": True, "data": data}
            await ws.send(json.dumps(reply))

    return ws, asyncio.create_task(answer())


async def core_checks(folder: Path, report: Report) -> Database:
    """Database, bridge, runner and a Vinted job; the migrated database (left open)."""
    db = Database(f"sqlite:///{folder / 'selftest.sqlite3'}")
    await asyncio.to_thread(db.migrate)
    report(f"database: created and migrated to revision {db.current_revision()}")
    copy = await asyncio.to_thread(write_plugin_copy, folder / "plugin", 47615, "check")
    if not (copy / "manifest.json").exists() or not (copy / "provision.json").exists():
        raise SelfTestError(f"plugin: the shipped plugin could not be written to {copy}")
    report(f"plugin: shipped with the program ({plugin_source_dir()}), a pre-paired copy written")
    token = new_pairing_token()
    bridge = BridgeServer(token, port=0)
    await bridge.start()
    ws, answering = await _stand_in_plugin(bridge.port, token)
    if bridge.status().state != "connected":
        raise SelfTestError("bridge: the stand-in plugin did not pair")
    report(f"bridge: listening on 127.0.0.1:{bridge.port}, a plugin paired with the token")
    processor = MarketplaceJobProcessor(db, plugin=bridge, photos_dir=folder / "photos")
    runner = JobRunner(processor, poll_seconds=0.1, apply_rate_limits=False)
    service = MarketplaceJobService(db)
    try:
        job = await db.run(lambda: service.create_job(marketplace="vinted", action_code="sync"))
        running = asyncio.create_task(runner.run())
        for _ in range(200):
            done = await db.run(service.get_job, job.id)
            if done.status not in ("pending", "running"):
                break
            await asyncio.sleep(0.05)
        runner.stop()
        await running
        if done.status != "completed":
            raise SelfTestError(f"runner: the job ended {done.status}: {done.error_message}")

        def listing_ids() -> list[str | None]:
            with db.session(readonly=True) as session:
                return [row.listing_id for row in session.query(MarketplaceListing).all()]

        if await db.run(listing_ids) != [ITEM["id"]]:
            raise SelfTestError("runner: the synced item is not in the listings table")
        report("runner: a Vinted sync job ran through the bridge and stored its listing")
    finally:
        await processor.close()
        await ws.close()
        await answering
        await bridge.stop()
    return db


def run_headless(report: Report = print, why: str = "Qt is not installed") -> int:
    """The core checks alone (the window's part could not be loaded: ``why``); exit 1."""
    report(describe())
    with tempfile.TemporaryDirectory(prefix="marketdesk-selftest-") as folder:
        try:
            db = asyncio.run(core_checks(Path(folder), report))
            db.close()
        except Exception as exc:  # every failure is reported, whatever it is
            report(f"FAILED: {exc}")
            return 1
    report(f"window: not checked ({why})")
    return 1
