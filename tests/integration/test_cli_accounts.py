"""``marketdesk account ...`` and an eBay job run by the ``worker`` command end to end."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from keyring.backends import fail

from app.accounts import AccountManager
from app.cli import accounts as cli_accounts
from app.cli.main import main
from app.db import Database
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.models import MarketplaceListing
from app.secret_store import open_secret_store
from tests.fakes import FakeEbay
from tests.support.cli_worker import poll, running, start_worker
from tests.support.marketplaces import add_product, make_due


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


EBAY_FIELDS = {
    "marketplace_id": "EBAY_GB",
    "category_id": "11450",
    "condition": "USED_GOOD",
    "fulfillment_policy_id": "F",
    "payment_policy_id": "P",
    "return_policy_id": "R",
    "merchant_location_key": "home",
}


def connect_through_cli(
    d: str, fake: FakeEbay, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """Set up and connect eBay with the CLI, secrets in the private file (no keyring)."""
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("MARKETDESK_APP_SECRET", fake.client_secret)
    setup_ebay(d, fake, capsys)
    pairs = [f"{k}={v}" for k, v in EBAY_FIELDS.items()]
    assert run(capsys, "--data-dir", d, "account", "defaults", "ebay", *pairs)[0] == 0

    def seller_pastes(prompt: str) -> str:
        printed = capsys.readouterr().out
        url = next(line for line in printed.splitlines() if line.startswith("http"))
        return httpx.get(url).headers["Location"]

    monkeypatch.setattr(cli_accounts, "read_line", seller_pastes)
    code, out, err = run(capsys, "--data-dir", d, "account", "connect", "ebay")
    assert code == 0, err
    return out


def start(d: str, *extra: str) -> subprocess.Popen[str]:
    return start_worker("--data-dir", d, "worker", *extra)


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
    with running(start(d)) as worker:
        service = MarketplaceJobService(db)
        poll(lambda: service.get_job(job.id).status not in ("pending", "running"), 20)
        final = service.get_job(job.id)
        assert final.status == "completed", final.error_message
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=15)
        assert worker.returncode == 0, err
    with db.session(readonly=True) as session:
        listing = session.query(MarketplaceListing).one()
    db.close()
    assert listing.sku == "CLI-1" and listing.data["marketplace_id"] == "EBAY_GB"
    assert fake_ebay.inventory["CLI-1"]["product"]["title"] == "Vintage denim jacket"

    code, out, _ = run(capsys, "--data-dir", d, "account", "disconnect", "ebay")
    assert (code, out) == (0, "ebay: disconnected\n")


def test_worker_killed_after_the_offer_step_resumes_without_a_second_offer(
    tmp_path: Path,
    fake_ebay: FakeEbay,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = str(tmp_path)
    connect_through_cli(d, fake_ebay, capsys, monkeypatch)
    db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
    product = add_product(db, sku="KILL-1")
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    publish_path = r"/sell/inventory/v1/offer/[^/]+/publish"
    fake_ebay.stall_next("POST", publish_path, 20.0)
    with running(start(d, "--lease", "2")) as worker:
        poll(lambda: fake_ebay.calls_to("POST", publish_path) != 0, 20)
        assert fake_ebay.offers_created == 1
        worker.kill()  # the program dies while eBay is publishing
        worker.communicate(timeout=10)
    assert service.get_job(job.id).status == "running"

    time.sleep(2.5)  # the dead worker's lease runs out

    async def another_worker() -> dict[str, Any] | None:
        manager = AccountManager(db, open_secret_store(tmp_path))
        processor = MarketplaceJobProcessor(db, accounts=manager)
        try:
            reaped = await processor.housekeeping()
            assert [(t.job_id, t.status) for t in reaped] == [(job.id, "pending")]
            make_due(db, job.id)
            return await processor.process_next_job()
        finally:
            await processor.close()
            await manager.aclose()

    result = asyncio.run(another_worker())
    assert result is not None and result["status"] == "completed", result
    assert fake_ebay.offers_created == 1
    assert fake_ebay.calls_to("POST", "/sell/inventory/v1/offer") == 1
    assert len(fake_ebay.listings) == 1
    db.close()
