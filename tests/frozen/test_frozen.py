"""The installer's build: PyInstaller from build.spec, then the frozen program itself.

Builds once per run (``scripts/build.py`` into a temporary folder: the one-folder build and
its archive), then runs the frozen ``Marketdesk --version`` and ``--self-test`` without a
display (offscreen), failing on any line on stderr that is not a known harmless Qt message.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.build

#: stderr lines a correct frozen run may print (Qt's offscreen platform talking).
HARMLESS = (
    re.compile(r"^This plugin does not support propagateSizeHints\(\)$"),
    re.compile(r"^This plugin does not support raise\(\)$"),
    re.compile(r"^QStandardPaths: XDG_RUNTIME_DIR not set.*$"),
    re.compile(r"^qt\.qpa\.\w+: .*offscreen.*$"),
)
MAX_FOLDER_MB = 300


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The built folder (dist/Marketdesk) of this run."""
    base = tmp_path_factory.mktemp("build")
    done = subprocess.run(
        [
            sys.executable,
            "scripts/build.py",
            "--dist",
            str(base / "dist"),
            "--work",
            str(base / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    yield base / "dist" / "Marketdesk"


def run_frozen(folder: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
        and not key.startswith(("MARKETDESK_", "PYTHON"))
    }
    env["HOME"] = str(home)
    return subprocess.run(
        [str(folder / "Marketdesk"), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def unexpected(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if line.strip() and not any(p.match(line) for p in HARMLESS)
    ]


def test_the_build_is_complete_and_small_enough(built: Path) -> None:
    internal = built / "_internal"
    assert (internal / "migrations" / "env.py").exists()
    assert (internal / "migrations" / "versions").is_dir()
    assert (internal / "resources" / "plugin" / "manifest.json").exists()
    assert (internal / "resources" / "icons" / "marketdesk.png").exists()
    assert not (internal / "resources" / "plugin" / "tests").exists()
    size = sum(p.lstat().st_size for p in built.rglob("*") if p.is_file() or p.is_symlink())
    assert size / 1e6 < MAX_FOLDER_MB
    archives = list(built.parent.glob(f"Marketdesk-{__version__}-*.tar.gz"))
    assert len(archives) == 1 and archives[0].stat().st_size > 10e6


def test_frozen_version(built: Path, tmp_path: Path) -> None:
    done = run_frozen(built, "--version", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"Marketdesk {__version__}"
    assert unexpected(done.stderr) == []


def test_frozen_self_test_offscreen(built: Path, tmp_path: Path) -> None:
    done = run_frozen(built, "--self-test", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "(frozen build)" in out
    assert "Qt: offscreen platform" in out
    for check in ("database:", "plugin:", "bridge:", "runner:", "window:"):
        assert check in out, out
    assert out.strip().endswith("self-test passed")
    assert unexpected(done.stderr) == [], done.stderr
