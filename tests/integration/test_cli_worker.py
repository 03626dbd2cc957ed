"""``marketdesk worker`` runs a :class:`app.workbench.Workbench`: its options reach the
processor, the runner and the order-sync schedule; the window's workbench is unchanged."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.cli.main import main
from app.db import Database
from app.inventory.schedule import schedules
from app.marketplace import MarketplaceJobService
from app.marketplace.runner import JobRunner
from app.secret_store import KeyringSecretStore
from app.workbench import Workbench
from tests.support.cli_worker import poll, running, start_worker, stop_worker
from tests.support.keyring import MemoryKeyring


def workbench(db: Database, folder: Path, **options: Any) -> Workbench:
    return Workbench(
        db,
        folder,
        secrets=KeyringSecretStore(MemoryKeyring()),
        bridge_port=0,
        poll_seconds=0.2,
        stop_timeout=2.0,
        **options,
    )


async def test_the_windows_workbench_serves_every_marketplace(
    sqlite_db: Database, tmp_path: Path
) -> None:
    wb = workbench(sqlite_db, tmp_path)  # the bridge is not started: Vinted still runs here
    await wb.start()
    try:
        runner = wb.runner
        assert runner is not None
        assert wb.worker_id == runner.processor.worker_id
        assert runner.processor.marketplace is None
        assert runner.processor.lease_seconds == 30.0
        assert runner.concurrency == {"vinted": 1, "ebay": 4, "etsy": 4}
        assert wb.scheduler.marketplaces == ("vinted", "ebay", "etsy")
        await wb.pause()
        assert wb.worker_id is None
    finally:
        await wb.stop()


async def test_the_workers_options_reach_processor_runner_and_schedule(
    sqlite_db: Database, tmp_path: Path
) -> None:
    wb = workbench(
        sqlite_db,
        tmp_path,
        marketplace="etsy",
        lease_seconds=7,
        concurrency={"etsy": 2},
        vinted_needs_bridge=True,
    )
    await wb.start()
    try:
        runner = wb.runner
        assert runner is not None
        assert (runner.processor.marketplace, runner.processor.lease_seconds) == ("etsy", 7)
        assert runner.concurrency["etsy"] == 2
        assert wb.scheduler.marketplaces == ("etsy",)
    finally:
        await wb.stop()


async def test_vinted_needs_the_bridge_only_when_asked(sqlite_db: Database, tmp_path: Path) -> None:
    wb = workbench(sqlite_db, tmp_path, vinted_needs_bridge=True)
    await wb.start()
    try:
        assert wb.runner is not None and wb.runner.concurrency["vinted"] == 0
        assert wb.scheduler.marketplaces == ("ebay", "etsy")
        await wb.pause()
        assert await wb.start_bridge()
        await wb.start()  # the bridge listens now: Vinted is served again
        assert wb.runner is not None and wb.runner.concurrency["vinted"] == 1
        assert wb.scheduler.marketplaces == ("vinted", "ebay", "etsy")
    finally:
        await wb.stop()
    assert not wb.bridge.server.listening


async def test_serve_until_told_then_stop_winds_down(sqlite_db: Database, tmp_path: Path) -> None:
    wb = workbench(sqlite_db, tmp_path)
    assert await wb.start_bridge()
    await wb.start()
    stopping = asyncio.Event()
    asyncio.get_running_loop().call_later(0.2, stopping.set)
    await asyncio.wait_for(wb.serve_until(stopping), timeout=5)
    assert wb.runner is not None and wb.runner.stopping and not wb.processing
    assert wb.scheduler.running and wb.bridge.server.listening  # until stop()
    await wb.stop()
    assert wb.runner is None and not wb.scheduler.running and not wb.sales.running
    assert not wb.bridge.server.listening


async def test_a_failing_runner_ends_serving_and_stop_still_closes(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: JobRunner) -> None:
        raise RuntimeError("runner broke")

    monkeypatch.setattr(JobRunner, "run", broken)
    wb = workbench(sqlite_db, tmp_path)
    assert await wb.start_bridge()
    await wb.start()
    await asyncio.wait_for(wb.serve_until(asyncio.Event()), timeout=5)  # never set
    with pytest.raises(RuntimeError, match="runner broke"):
        await wb.stop()
    assert not wb.bridge.server.listening and not wb.scheduler.running


def schedule_names(db: Database) -> list[str]:
    with db.bind(1).connect() as conn:
        return sorted(conn.execute(select(schedules.c.name)).scalars())


def start(d: str, *extra: str) -> subprocess.Popen[str]:
    return start_worker("--data-dir", d, "worker", "--lease", "5", *extra)


def test_worker_for_one_marketplace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    assert main(["--data-dir", d, "migrate"]) == 0
    capsys.readouterr()
    with running(start(d, "--marketplace", "etsy", "--no-bridge")) as worker:
        assert worker.stdout is not None
        assert worker.stdout.readline().startswith("Worker ")
        assert worker.stdout.readline() == (
            "Plugin bridge off (--no-bridge); Vinted jobs are left to another worker.\n"
        )
        db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
        service = MarketplaceJobService(db)
        ebay = service.create_job(marketplace="ebay", action_code="sync_orders")
        etsy = service.create_job(marketplace="etsy", action_code="sync_orders")
        poll(lambda: service.get_job(etsy.id).status not in ("pending", "running"))
        poll(lambda: schedule_names(db) != [])
        done, left, names = service.get_job(etsy.id), service.get_job(ebay.id), schedule_names(db)
        db.close()
        assert done.status == "paused"  # Etsy was never set up
        assert (left.status, left.attempts) == ("pending", 0)  # not this worker's marketplace
        assert names == ["order_sync:etsy"]
        stop_worker(worker, signal.SIGINT)


def test_worker_whose_bridge_port_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        assert main(["--data-dir", d, "bridge", "port", str(port)]) == 0
        capsys.readouterr()
        with running(start(d)) as worker:
            assert worker.stdout is not None
            assert "running; press Ctrl-C to stop." in worker.stdout.readline()
            line = worker.stdout.readline()
            assert line.startswith("Plugin bridge not started: ")
            assert line.endswith("; Vinted jobs are left to another worker.\n")
            db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
            service = MarketplaceJobService(db)
            vinted = service.create_job(marketplace="vinted", action_code="sync")
            etsy = service.create_job(marketplace="etsy", action_code="sync_orders")
            poll(lambda: service.get_job(etsy.id).status not in ("pending", "running"))
            poll(lambda: len(schedule_names(db)) == 2)
            left, names = service.get_job(vinted.id), schedule_names(db)
            db.close()
            assert (left.status, left.attempts) == ("pending", 0)
            assert names == ["order_sync:ebay", "order_sync:etsy"]
            stop_worker(worker)
