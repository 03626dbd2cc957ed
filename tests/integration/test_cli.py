"""The command line: sub-commands on a real database, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli.main import main
from app.db import Database
from app.marketplace import MarketplaceJobService
from app.models import Product
from tests.support.cli_worker import poll, running, start_worker, stop_worker


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("worker", "migrate", "job", "account", "seller", "stats"):
        assert command in out


def test_job_lifecycle_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    assert run(capsys, "--data-dir", d, "migrate")[0] == 0
    db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
    with db.session() as session, session.begin():
        session.add_all([Product(title="Coat", price=30), Product(title="Boots", price=45)])
    db.close()
    code, out, _ = run(
        capsys,
        "--data-dir",
        d,
        "job",
        "create",
        "--marketplace",
        "ebay",
        "--action",
        "publish",
        "--product",
        "1",
    )
    assert code == 0 and out.startswith("Job 1: publish on ebay, pending")
    code, out, _ = run(
        capsys,
        "--data-dir",
        d,
        "job",
        "create",
        "--marketplace",
        "etsy",
        "--action",
        "publish",
        "--product",
        "1",
        "--product",
        "2",
    )
    assert code == 0 and out.startswith("Batch 1: 2 new job(s)")
    code, out, _ = run(capsys, "--data-dir", d, "job", "cancel", "1")
    assert code == 0 and "Job 1 is cancelled" in out
    code, _, err = run(capsys, "--data-dir", d, "job", "cancel", "1")
    assert code == 1 and err == "marketdesk: error: Job 1 is cancelled and cannot be cancelled\n"
    code, out, _ = run(capsys, "--data-dir", d, "job", "retry", "1")
    assert code == 0 and "Job 1 is pending" in out
    code, out, _ = run(capsys, "--data-dir", d, "job", "list", "--marketplace", "etsy")
    assert code == 0 and out.count(" etsy ") == 2
    code, out, _ = run(capsys, "--data-dir", d, "stats")
    assert code == 0 and "No finished jobs" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["job", "create", "--marketplace", "ebay", "--action", "publush", "--product", "1"],
            "marketdesk: error: Invalid action code: publush for marketplace: ebay\n",
        ),
        (
            ["job", "create", "--marketplace", "ebay", "--action", "publish", "--product", "7"],
            "marketdesk: error: Unknown product: 7\n",
        ),
        (["job", "retry", "42"], "marketdesk: error: Job 42 does not exist\n"),
    ],
)
def test_domain_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--data-dir", str(tmp_path), *argv)
    assert (code, err) == (1, message)


@pytest.mark.parametrize(
    "argv",
    [
        ["job", "create", "--marketplace", "amazon", "--action", "sync"],
        ["job", "create", "--marketplace", "ebay", "--action", "sync", "--input", "{oops"],
        ["job", "cancel", "abc"],
        ["worker", "--concurrency", "ebay=x"],
        ["stats", "--days", "0"],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    _, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and "error:" in err


def test_worker_runs_until_sigterm(tmp_path: Path) -> None:
    env = {"MARKETDESK_DB_URL": f"sqlite:///{tmp_path / 'team.sqlite3'}"}
    with running(start_worker("worker", "--lease", "5", "--no-bridge", env=env)) as worker:
        assert worker.stdout is not None
        assert "running; press Ctrl-C to stop" in worker.stdout.readline()
        db = Database(env["MARKETDESK_DB_URL"])
        service = MarketplaceJobService(db)
        vinted = service.create_job(marketplace="vinted", action_code="sync")
        job = service.create_job(marketplace="etsy", action_code="sync_orders")
        poll(lambda: service.get_job(job.id).status not in ("pending", "running"))
        final = service.get_job(job.id)
        # without its bridge the worker leaves Vinted jobs to one that has the plugin
        left = service.get_job(vinted.id)
        db.close()
        assert (left.status, left.attempts) == ("pending", 0)
        # Etsy was never set up: the job waits for the seller instead of failing.
        assert (final.status, final.error_message) == (
            "paused",
            "Etsy is not set up: enter the app keys in Settings",
        )
        stop_worker(worker)


def test_sellers_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(tmp_path)
    code, out, _ = run(capsys, "--data-dir", d, "seller", "list")
    assert (code, out) == (0, "1\n")
    code, _, err = run(capsys, "--data-dir", d, "seller", "add", "Shop B")
    assert code == 1 and "One SQLite file holds one seller" in err
    code, _, err = run(capsys, "--data-dir", d, "--seller", "2", "job", "list")
    assert (code, err) == (
        1,
        "marketdesk: error: Unknown seller: 2 (see 'marketdesk seller list')\n",
    )


def test_sellers_on_postgres(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETDESK_DB_URL", pg_url)
    code, out, _ = run(capsys, "seller", "add", "Shop B")
    assert (code, out) == (0, "Seller 2 added: Shop B\n")
    code, out, _ = run(
        capsys, "--seller", "2", "job", "create", "--marketplace", "etsy", "--action", "sync"
    )
    assert code == 0 and out.startswith("Job 1: sync on etsy, pending")
    code, out, _ = run(capsys, "--seller", "1", "job", "list")
    assert code == 0 and "No jobs." in out
    assert run(capsys, "seller", "list")[1] == "1\n2\n"
