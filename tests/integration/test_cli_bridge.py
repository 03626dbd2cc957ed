"""``marketdesk bridge ...`` and a headless worker serving Vinted jobs over its bridge."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest

from app.cli.main import main
from app.db import Database
from app.marketplace import MarketplaceJobService
from tests.support.cli_worker import running, start_worker, stop_worker
from tests.support.plugin_client import ScriptedPlugin
from tests.support.vinted_script import ScriptedVinted


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shown_token(out: str) -> str:
    return next(line.split(": ", 1)[1] for line in out.splitlines() if "token" in line.lower())


def test_show_regenerate_port_and_plugin_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path)
    code, out, _ = run(capsys, "--data-dir", d, "bridge", "show")
    assert code == 0
    assert "ws://127.0.0.1:47615/" in out and "nggbgmffnjkfbingpahkmffmcokechho" in out
    token = shown_token(out)
    assert len(token) >= 30
    assert shown_token(run(capsys, "--data-dir", d, "bridge", "show")[1]) == token

    code, out, _ = run(capsys, "--data-dir", d, "bridge", "regenerate")
    assert code == 0
    new_token = shown_token(out)
    assert new_token != token
    assert shown_token(run(capsys, "--data-dir", d, "bridge", "show")[1]) == new_token

    assert run(capsys, "--data-dir", d, "bridge", "port", "48123")[0] == 0
    assert "ws://127.0.0.1:48123/" in run(capsys, "--data-dir", d, "bridge", "show")[1]
    with pytest.raises(SystemExit) as bad:
        main(["--data-dir", d, "bridge", "port", "80"])
    assert bad.value.code == 2
    assert "between 1024 and 65535" in capsys.readouterr().err

    folder = tmp_path / "plugin-copy"
    code, out, _ = run(capsys, "--data-dir", d, "bridge", "plugin", str(folder))
    assert code == 0 and str(folder) in out
    provision = json.loads((folder / "provision.json").read_text())
    assert provision == {"bridgePort": 48123, "pairingToken": new_token}
    assert (folder / "manifest.json").exists()
    assert (folder / "provision.json").stat().st_mode & 0o777 == 0o600


def test_plugin_copy_never_replaces_a_folder_of_the_sellers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    (desktop / "holiday.jpg").write_bytes(b"precious")
    code, out, _ = run(capsys, "--data-dir", str(tmp_path), "bridge", "plugin", str(desktop))
    assert code == 0
    assert (desktop / "holiday.jpg").read_bytes() == b"precious"
    assert (desktop / "marketdesk-plugin" / "manifest.json").exists()
    assert str(desktop / "marketdesk-plugin") in out
    # an older copy of the plugin is replaced in place
    code, out, _ = run(
        capsys, "--data-dir", str(tmp_path), "bridge", "plugin", str(desktop / "marketdesk-plugin")
    )
    assert code == 0 and not (desktop / "marketdesk-plugin" / "marketdesk-plugin").exists()
    manifest = json.loads((desktop / "marketdesk-plugin" / "manifest.json").read_text())
    assert "http://127.0.0.1/*" not in manifest["host_permissions"]  # sellers' copies: Vinted only


def test_broken_bridge_settings_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bridge.json").write_text("{not json")
    code, _, err = run(capsys, "--data-dir", str(tmp_path), "bridge", "show")
    assert code == 1
    assert err.count("\n") == 1 and "bridge.json is not readable bridge settings" in err


async def test_worker_runs_vinted_jobs_through_its_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    d = str(tmp_path)
    env = {"MARKETDESK_BRIDGE_PORT": str(port)}
    code, out, _ = run(capsys, "--data-dir", d, "bridge", "show")  # makes the token
    assert code == 0
    # the in-process CLI call used the test's in-memory keyring: write the token where the
    # worker (file keyring) reads it
    token = shown_token(out)
    (tmp_path / "secrets.json").write_text(json.dumps({"bridge/pairing_token": token}))
    (tmp_path / "secrets.json").chmod(0o600)
    with running(start_worker("--data-dir", d, "worker", "--lease", "5", env=env)) as worker:
        assert worker.stdout is not None
        assert "running" in worker.stdout.readline()
        assert f"listening on 127.0.0.1:{port}" in worker.stdout.readline()
        vinted = ScriptedVinted()
        vinted.add_item("Linen shirt, size L")
        async with ScriptedPlugin(port, token, vinted.answers()) as plugin:
            db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
            service = MarketplaceJobService(db)
            job = service.create_job(marketplace="vinted", action_code="sync")
            deadline = time.monotonic() + 20
            while service.get_job(job.id).status in ("pending", "running"):
                assert time.monotonic() < deadline, service.get_job(job.id).error_message
                await asyncio.sleep(0.1)
            final = service.get_job(job.id)
            db.close()
            assert final.status == "completed", final.error_message
            assert "wardrobe" in plugin.actions()  # (and maybe the scheduled order sync)
        stop_worker(worker)
