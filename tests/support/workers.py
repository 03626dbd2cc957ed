"""Worker processes for multi-process tests, and checks of what they left in the database."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from app.db import Database
from app.models.user.marketplace_batch import MarketplaceBatch
from app.models.user.marketplace_job import MarketplaceJob
from app.models.user.marketplace_job_stats import MarketplaceJobStats

ROOT = Path(__file__).parents[2]
WORKER_MODULE = "tests.support.worker_proc"
RUN_TIMEOUT = 90.0  # seconds a group of --until-empty workers may take before the test fails
FORBIDDEN_IN_STDERR = ("database is locked", "Traceback")


# -- worker processes ---------------------------------------------------------------------
@dataclass
class Worker:
    """One worker process and the files its output goes to."""

    worker_id: str
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def output(self) -> str:
        """What the worker wrote to stdout and stderr so far."""
        out = self.stdout.read_text(errors="replace")
        err = self.stderr.read_text(errors="replace")
        return f"--- {self.worker_id} stdout ---\n{out}--- {self.worker_id} stderr ---\n{err}"


class Workers:
    """Starts worker processes and makes sure none outlives the test."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.dir = tmp_path
        self.url = url
        self.log = tmp_path / "starts.log"
        self.started: list[Worker] = []

    def start(self, worker_id: str, *options: str) -> Worker:
        """Start a worker process named ``worker_id`` with extra command-line options."""
        stdout = self.dir / f"{worker_id}.out"
        stderr = self.dir / f"{worker_id}.err"
        command = [
            sys.executable,
            "-m",
            WORKER_MODULE,
            "--db",
            self.url,
            "--worker-id",
            worker_id,
            "--log",
            str(self.log),
            *options,
        ]
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        worker = Worker(worker_id, proc, stdout, stderr)
        self.started.append(worker)
        return worker

    def wait(self, workers: list[Worker], timeout: float = RUN_TIMEOUT) -> None:
        """Wait for ``workers`` to exit; fail (with their output) when they take too long."""
        deadline = time.monotonic() + timeout
        for worker in workers:
            try:
                worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                outputs = "\n".join(w.output() for w in workers)
                pytest.fail(f"worker {worker.worker_id} still running after {timeout} s\n{outputs}")

    def check_clean_exit(self, workers: list[Worker]) -> None:
        """Every worker exited 0 and wrote no lock error and no traceback."""
        for worker in workers:
            assert worker.proc.returncode == 0, worker.output()
            err = worker.stderr.read_text(errors="replace")
            for text in FORBIDDEN_IN_STDERR:
                assert text not in err, worker.output()

    def starts(self) -> list[tuple[int, str]]:
        """The (job id, worker id) pairs of the log, in order."""
        if not self.log.exists():
            return []
        pairs = []
        for line in self.log.read_text().splitlines():
            job_id, worker_id = line.split(" ")
            pairs.append((int(job_id), worker_id))
        return pairs

    def kill_leftovers(self) -> None:
        """SIGKILL every worker still running and reap it."""
        for worker in self.started:
            if worker.proc.poll() is None:
                worker.proc.kill()
            worker.proc.wait(timeout=10)


def all_jobs(db: Database, user_id: int = 1) -> list[MarketplaceJob]:
    """Every job of the seller, oldest first."""
    with db.session(user_id, readonly=True) as session:
        return list(session.scalars(select(MarketplaceJob).order_by(MarketplaceJob.id)).all())


def all_stats(db: Database, user_id: int = 1) -> list[MarketplaceJobStats]:
    """Every stats row of the seller."""
    with db.session(user_id, readonly=True) as session:
        return list(session.scalars(select(MarketplaceJobStats)).all())


def all_batches(db: Database, user_id: int = 1) -> list[MarketplaceBatch]:
    """Every batch of the seller."""
    with db.session(user_id, readonly=True) as session:
        return list(session.scalars(select(MarketplaceBatch)).all())


def check_stats_match_jobs(db: Database, jobs: list[MarketplaceJob], user_id: int = 1) -> None:
    """Per (action type, marketplace) the stats count each completed job once, with its duration."""
    by_key: dict[tuple[int, str], list[MarketplaceJob]] = defaultdict(list)
    for job in jobs:
        by_key[(job.action_type_id, job.marketplace)].append(job)
    rows_by_key: dict[tuple[int, str], list[MarketplaceJobStats]] = defaultdict(list)
    for row in all_stats(db, user_id):
        rows_by_key[(row.action_type_id, row.marketplace)].append(row)
    assert set(rows_by_key) == set(by_key)
    for key, key_jobs in by_key.items():
        rows = rows_by_key[key]  # one row per UTC day: more than one only across midnight
        durations = [job.duration_ms for job in key_jobs]
        assert None not in durations, key
        total = sum(row.total_jobs for row in rows)
        assert total == len(key_jobs), key
        assert sum(row.success_count for row in rows) == len(key_jobs), key
        assert sum(row.failure_count for row in rows) == 0, key
        assert sum(row.total_duration_ms for row in rows) == sum(durations), key
        for row in rows:
            assert row.avg_duration_ms == pytest.approx(
                row.total_duration_ms / row.total_jobs, abs=1e-6
            )
        combined_avg = sum(row.avg_duration_ms * row.total_jobs for row in rows) / total
        assert combined_avg == pytest.approx(sum(durations) / len(durations), abs=1e-6), key
    assert sum(row.total_jobs for rows in rows_by_key.values() for row in rows) == len(jobs)
