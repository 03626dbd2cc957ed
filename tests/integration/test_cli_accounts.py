"""``marketdesk account ...`` and an eBay job run by the ``worker`` command end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import keyring
import pytest
from keyring.backends import fail

from app.cli import accounts as cli_accounts
from app.cli.main import main
from app.db import Database
from app.marketplace import MarketplaceJobService
from app.models import MarketplaceListing
from tests.fakes import FakeEbay
from tests.support.marketplaces import add_product

ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def setup_ebay(data: str, fake: FakeEbay, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "--data-dir",
        data,
        "account",
        "setup",
        "ebay",
        "--env",
        "local",
        "--base-url",
        fake.url,
        "--client-id",
        fake.client_id,
        "--redirect",
        fake.ru_name,
        "--rate",
        "20",
    )
    assert code == 0, err
    assert out.startswith("ebay: app keys saved (local); secrets in ")


def test_setup_defaults_and_status(
    tmp_path: Path,
    fake_ebay: FakeEbay,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = str(tmp_path)
    code, _, err = run(
        capsys, "--data-dir", d, "account", "setup", "ebay", "--client-id", "x", "--redirect", "y"
    )
    assert code == 1
    assert "eBay Cert ID (client secret) is required: set MARKETDESK_APP_SECRET" in err

    monkeypatch.setenv("MARKETDESK_APP_SECRET", fake_ebay.client_secret)
    setup_ebay(d, fake_ebay, capsys)
    code, out, _ = run(capsys, "--data-dir", d, "account", "status")
    assert code == 0
    assert out.splitlines()[:2] == ["ebay (local): disconnected", "etsy: not set up"]

    code, out, _ = run(
        capsys,
        "--data-dir",
        d,
        "account",
        "defaults",
        "ebay",
        "category_id=11450",
        "condition=USED_GOOD",
    )
    assert code == 0 and out == "category_id = 11450\ncondition = USED_GOOD\n"
    code, _, err = run(capsys, "--data-dir", d, "account", "defaults", "ebay", "condition=SHINY")
    assert code == 1 and "condition: Condition must be one of NEW" in err
    code, _, err = run(capsys, "--data-dir", d, "account", "defaults", "ebay", "colour=red")
    assert code == 1 and "'colour=red': expected NAME=VALUE with NAME one of marketplace_id" in err
    code, out, _ = run(capsys, "--data-dir", d, "account", "defaults", "ebay", "condition=")
    assert out == "category_id = 11450\n"
    code, _, err = run(capsys, "--data-dir", d, "account", "defaults", "etsy", "who_made=i_did")
    assert code == 1 and "etsy is not set up: run 'account setup etsy' first" in err
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "--data-dir",
                d,
                "account",
                "setup",
                "ebay",
                "--rate",
                "0",
                "--client-id",
                "a",
                "--redirect",
                "b",
            ]
        )
    assert exited.value.code == 2
    assert "argument --rate: 0 must be more than 0" in capsys.readouterr().err


def test_connect_ebay_then_the_worker_publishes(
    tmp_path: Path,
    fake_ebay: FakeEbay,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no OS keyring, as on a headless box: secrets go to the private file, which the
    # worker process below reads too
    keyring.set_keyring(fail.Keyring())
    d = str(tmp_path)
    monkeypatch.setenv("MARKETDESK_APP_SECRET", fake_ebay.client_secret)
    setup_ebay(d, fake_ebay, capsys)
    pairs = [
        f"{k}={v}"
        for k, v in {
            "marketplace_id": "EBAY_GB",
            "category_id": "11450",
            "condition": "USED_GOOD",
            "fulfillment_policy_id": "F",
            "payment_policy_id": "P",
            "return_policy_id": "R",
            "merchant_location_key": "home",
        }.items()
    ]
    assert run(capsys, "--data-dir", d, "account", "defaults", "ebay", *pairs)[0] == 0

    def seller_pastes(prompt: str) -> str:
        printed = capsys.readouterr().out
        url = next(line for line in printed.splitlines() if line.startswith("http"))
        return httpx.get(url).headers["Location"]

    monkeypatch.setattr(cli_accounts, "read_line", seller_pastes)
    code, out, err = run(capsys, "--data-dir", d, "account", "connect", "ebay")
    assert code == 0, err
    assert out.startswith("ebay: connected as fake_seller until ")
    assert (tmp_path / "secrets.json").exists()

    db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
    product = add_product(db, sku="CLI-1")
    job = MarketplaceJobService(db).create_job(
        marketplace="ebay", action_code="publish", product_id=product
    )
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    worker = subprocess.Popen(
        [sys.executable, "main.py", "--data-dir", d, "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        service = MarketplaceJobService(db)
        deadline = time.monotonic() + 20
        while (
            service.get_job(job.id).status in ("pending", "running") and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        final = service.get_job(job.id)
        assert final.status == "completed", final.error_message
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=15)
        assert worker.returncode == 0, err
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    with db.session(readonly=True) as session:
        listing = session.query(MarketplaceListing).one()
    db.close()
    assert listing.sku == "CLI-1" and listing.data["marketplace_id"] == "EBAY_GB"
    assert fake_ebay.inventory["CLI-1"]["product"]["title"] == "Vintage denim jacket"

    code, out, _ = run(capsys, "--data-dir", d, "account", "disconnect", "ebay")
    assert (code, out) == (0, "ebay: disconnected\n")
