"""``python main.py worker`` as a child process, for the command-line tests.

The worker finds no OS keyring (its secrets go to the data folder's private file, where
the tests put them), runs from the project root, and is killed at the end of
:func:`running` if the test did not stop it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILE_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def start_worker(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python main.py ARGS`` (a command line that runs ``worker``), output piped."""
    return subprocess.Popen(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env={**os.environ, **FILE_KEYRING, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def running(worker: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """``worker``, killed (and its pipes drained) at the end if it still runs."""
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()


def stop_worker(worker: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    """Stop ``worker`` with ``sig``: it must end with status 0 and no traceback."""
    worker.send_signal(sig)
    _, err = worker.communicate(timeout=15)
    assert worker.returncode == 0, err
    assert "Traceback" not in err


def poll(check: Callable[[], bool], seconds: float = 15) -> None:
    """Check every 0.1 s until ``check`` is true or ``seconds`` passed (the test's own
    asserts then say what is wrong)."""
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)
