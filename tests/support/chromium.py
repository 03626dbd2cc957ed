"""Debian's Chromium, headless, with the Marketdesk plugin loaded, for end-to-end tests.

:func:`launch` starts ``/usr/lib/chromium/chromium`` directly (the ``/usr/bin`` wrapper
script adds nothing a test needs) with a fresh profile and a private TMPDIR, the flags
that keep it off the network (FACTS.md), and an unpacked copy of the plugin whose
``provision.json`` points it at the test's bridge and fake Vinted site. Its log (the
plugin's console lines included) is kept in a file so a failing test can show it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--enable-logging=stderr",
    "--v=0",
)


class ChromiumMissingError(RuntimeError):
    """No Chromium binary on this machine (tests/run.sh installs Debian's)."""


def chromium_binary() -> str:
    """The Chromium to run: ``MARKETDESK_CHROMIUM``, else Debian's."""
    wanted = os.environ.get("MARKETDESK_CHROMIUM")
    for candidate in (wanted,) if wanted else CANDIDATES:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise ChromiumMissingError(
        "Chromium is not installed: run tests/run.sh as root (it installs Debian's chromium)"
    )


@dataclass
class Browser:
    """A running headless Chromium."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 80) -> str:
        """The end of Chromium's log (the plugin's console lines included)."""
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join(text[-lines:])
        return ""

    def plugin_lines(self) -> list[str]:
        """The plugin's own console lines."""
        with contextlib.suppress(OSError):
            return [
                line
                for line in self.log_path.read_text(errors="replace").splitlines()
                if "[marketdesk]" in line
            ]
        return []


@contextlib.contextmanager
def launch(extension: Path, workdir: Path, start_url: str = "about:blank") -> Iterator[Browser]:
    """Run Chromium with ``extension`` loaded until the block ends."""
    workdir.mkdir(parents=True)
    # Chromium's singleton socket lives under TMPDIR, whose path must stay short (< 108)
    short = Path(tempfile.mkdtemp(prefix="md-chromium-"))
    profile = short / "profile"
    tmp = short / "tmp"
    profile.mkdir()
    tmp.mkdir()
    log_path = workdir / "chromium.log"
    command = [
        chromium_binary(),
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--load-extension={extension}",
        f"--disable-extensions-except={extension}",
        start_url,
    ]
    env = {**os.environ, "TMPDIR": str(tmp), "HOME": str(workdir)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    browser = Browser(process, log_path)
    try:
        yield browser
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        shutil.rmtree(short, ignore_errors=True)
