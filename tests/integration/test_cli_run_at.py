"""``job create --run-at``: the accepted forms reach ``run_at``; bad or past times exit 2;
a worker leaves a job alone until its time."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cli.main import main
from app.db import Database
from app.marketplace import MarketplaceJobService
from app.models import Product
from tests.support.cli_worker import poll, running, start_worker, stop_worker

CREATE = ("job", "create", "--marketplace")


def create(capsys: pytest.CaptureFixture[str], d: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(d), *CREATE, "etsy", "--action", "sync", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def stored_run_at(d: Path, job_id: int) -> datetime:
    db = Database(f"sqlite:///{d / 'default.sqlite3'}")
    try:
        return MarketplaceJobService(db).get_job(job_id).run_at
    finally:
        db.close()


@pytest.fixture
def kathmandu() -> Iterator[None]:
    """Local time is UTC+05:45 (no daylight saving) while the test runs."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kathmandu"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.parametrize(
    ("text", "delta"),
    [("+30m", timedelta(minutes=30)), ("+2h", timedelta(hours=2)), ("+1d", timedelta(days=1))],
)
def test_relative_run_at_is_from_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, delta: timedelta
) -> None:
    before = datetime.now(UTC)
    code, out, err = create(capsys, tmp_path, "--run-at", text)
    after = datetime.now(UTC)
    assert (code, err) == (0, "")
    assert out.startswith("Job 1: sync on etsy, pending, runs at ")
    run_at = stored_run_at(tmp_path, 1)
    assert run_at.tzinfo is not None
    # SQLite keeps microseconds; allow the clock's step either side
    assert before + delta - timedelta(seconds=1) <= run_at <= after + delta + timedelta(seconds=1)


@pytest.mark.usefixtures("kathmandu")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # no offset: the seller's local time (UTC+05:45 here)
        ("2031-03-04T10:00", datetime(2031, 3, 4, 4, 15, tzinfo=UTC)),
        ("2031-03-04 10:00:30", datetime(2031, 3, 4, 4, 15, 30, tzinfo=UTC)),
        ("2031-03-04T10:00Z", datetime(2031, 3, 4, 10, 0, tzinfo=UTC)),
        ("2031-03-04T10:00+02:00", datetime(2031, 3, 4, 8, 0, tzinfo=UTC)),
        ("2031-03-04T10:00:00-05:00", datetime(2031, 3, 4, 15, 0, tzinfo=UTC)),
    ],
)
def test_iso_run_at_is_stored_in_utc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: datetime
) -> None:
    code, out, err = create(capsys, tmp_path, "--run-at", text)
    assert (code, err) == (0, "")
    shown = expected.astimezone().strftime("%Y-%m-%d %H:%M")  # local time, as the window shows
    assert out == f"Job 1: sync on etsy, pending, runs at {shown}\n"
    assert stored_run_at(tmp_path, 1) == expected


def test_a_batch_gets_the_run_at_of_each_job(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_coat(tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
    with db.session() as session, session.begin():
        session.add(Product(title="Boots", price=45))
    db.close()
    capsys.readouterr()
    batch = ("ebay", "--action", "publish", "--product", "1", "--product", "2")
    code = main(["--data-dir", str(tmp_path), *CREATE, *batch, "--run-at", "2031-03-04T10:00Z"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("Batch 1: 2 new job(s) 1, 2, runs at ")
    expected = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    assert [stored_run_at(tmp_path, job_id) for job_id in (1, 2)] == [expected, expected]


def test_without_run_at_the_job_runs_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    code, out, _ = create(capsys, tmp_path)
    assert code == 0 and out == "Job 1: sync on etsy, pending\n"
    assert before - timedelta(seconds=1) <= stored_run_at(tmp_path, 1) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tomorrow", "'tomorrow' is not a date-time like 2026-12-01T09:30 (local time)"),
        ("+5x", "'+5x' is not a date-time"),
        ("+1.5h", "'+1.5h' is not a date-time"),
        ("30m", "'30m' is not a date-time"),
        ("2031-13-01T10:00", "'2031-13-01T10:00' is not a date-time"),
        ("", "'' is not a date-time"),
        ("+0m", "'+0m': the amount must be at least 1"),
        ("+99999999999d", "'+99999999999d' is too far ahead"),
        ("2020-01-01T00:00", "'2020-01-01T00:00' is in the past (2020-01-01 "),
        ("2020-01-01T00:00Z", "'2020-01-01T00:00Z' is in the past"),
    ],
)
def test_bad_or_past_run_at_exits_2_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        create(capsys, tmp_path, "--run-at", text)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"marketdesk job create: error: argument --run-at: {message}")
    assert not (tmp_path / "default.sqlite3").exists()  # refused before anything was stored


def test_a_minute_ago_is_in_the_past(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    moment = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds")
    with pytest.raises(SystemExit) as exited:
        create(capsys, tmp_path, "--run-at", moment)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"argument --run-at: {moment!r} is in the past" in err
    assert "give a time to come" in err


def test_the_worker_leaves_a_job_until_its_run_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = str(tmp_path)
    later, now = 1, 2
    assert (
        main(["--data-dir", d, *CREATE, "ebay", "--action", "sync_orders", "--run-at", "+1h"]) == 0
    )
    assert main(["--data-dir", d, *CREATE, "etsy", "--action", "sync"]) == 0
    capsys.readouterr()
    with running(start_worker("--data-dir", d, "worker", "--lease", "5", "--no-bridge")) as worker:
        assert worker.stdout is not None
        assert "running; press Ctrl-C to stop" in worker.stdout.readline()
        db = Database(f"sqlite:///{tmp_path / 'default.sqlite3'}")
        service = MarketplaceJobService(db)
        poll(lambda: service.get_job(now).status not in ("pending", "running"))
        ran, waiting = service.get_job(now), service.get_job(later)
        db.close()
        # the job due now was claimed (and waits for Etsy's keys), the later one was not
        assert (ran.status, ran.attempts) == ("paused", 1)
        assert (waiting.status, waiting.attempts, waiting.lease_owner) == ("pending", 0, None)
        stop_worker(worker)


def add_coat(d: Path) -> None:
    """A migrated database holding product 1."""
    assert main(["--data-dir", str(d), "migrate"]) == 0
    db = Database(f"sqlite:///{d / 'default.sqlite3'}")
    with db.session() as session, session.begin():
        session.add(Product(title="Coat", price=30))
    db.close()


def test_job_list_shows_when_a_waiting_job_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(capsys, tmp_path, "--run-at", "2031-03-04T10:00Z")[0] == 0
    assert main(["--data-dir", str(tmp_path), *CREATE, "ebay", "--action", "sync"]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(tmp_path), "job", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "RUN AT" in lines[0]
    later = datetime(2031, 3, 4, 10, 0, tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    by_id = {line.split()[0]: line for line in lines[1:]}
    assert f"pending        0  {later}" in by_id["1"]
    assert "pending        0  -" in by_id["2"]  # it may run now


def test_the_same_job_already_waiting_keeps_its_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_coat(tmp_path)
    capsys.readouterr()
    publish = ("ebay", "--action", "publish", "--product", "1")
    first = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    shown = first.astimezone().strftime("%Y-%m-%d %H:%M")
    assert (
        main(["--data-dir", str(tmp_path), *CREATE, *publish, "--run-at", "2031-03-04T10:00Z"]) == 0
    )
    assert capsys.readouterr().out == f"Job 1: publish on ebay, pending, runs at {shown}\n"
    assert (
        main(["--data-dir", str(tmp_path), *CREATE, *publish, "--run-at", "2031-05-01T08:00Z"]) == 0
    )
    assert capsys.readouterr().out == (
        f"Job 1: publish on ebay, pending, runs at {shown}"
        " (the same job was already waiting: it keeps its time)\n"
    )
    assert stored_run_at(tmp_path, 1) == first
