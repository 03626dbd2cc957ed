"""``python main.py`` decides between the window and the command line before importing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.launch import wants_window

ROOT = Path(__file__).resolve().parents[2]


def test_window_unless_a_command_or_help_is_given() -> None:
    assert wants_window([])
    assert wants_window(["--data-dir", "/tmp/x", "--profile", "shop", "-v"])
    assert not wants_window(["worker"])
    assert not wants_window(["bridge", "show"])
    assert not wants_window(["--data-dir", "/tmp/x", "job", "list"])
    assert not wants_window(["--help"])
    assert not wants_window(["-h"])


def test_commands_still_start_without_qt(tmp_path: Path) -> None:
    code = (
        "import sys, runpy; sys.argv=['main.py', '--data-dir', sys.argv[1], 'job', 'list'];"
        "import app.launch; rc = app.launch.main(sys.argv[1:]);"
        "bad=[m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'qasync'))];"
        "print(rc, bad)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_no_display_gives_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "main.py", "--data-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("marketdesk: no display to open the window on")


def test_version_needs_nothing_else() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    from app import __version__

    assert done.stdout == f"Marketdesk {__version__}\n"


def test_self_test_from_source_without_a_display(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "main.py", "--self-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "(from source)" in lines[0]
    assert lines[1] == "Qt: offscreen platform"
    assert [line.split(":")[0] for line in lines[2:7]] == [
        "database",
        "plugin",
        "bridge",
        "runner",
        "window",
    ]
    assert lines[-1] == "self-test passed"


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    """``python main.py ARGS`` with a display (offscreen), as a seller would type it."""
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_what_the_window_path_does_not_understand_goes_to_the_command_line() -> None:
    typo = run_main("jbo")
    assert typo.returncode == 2
    assert "invalid choice: 'jbo' (choose from 'worker'" in typo.stderr
    bad_value = run_main("--seller", "x")
    assert bad_value.returncode == 2
    assert bad_value.stderr == (
        "marketdesk: error: argument --seller: 'x' is not a whole number"
        " (see 'marketdesk --help')\n"
    )
    unknown = run_main("--bogus")
    assert unknown.returncode == 2
    assert "unrecognized arguments: --bogus" in unknown.stderr
    for asking in (["-vh"], ["--hel"]):  # help, however it is asked for: every command
        helped = run_main(*asking)
        assert helped.returncode == 0
        assert "COMMAND" in helped.stdout and "worker" in helped.stdout


def test_a_data_folder_that_is_a_file_is_refused_before_any_window(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    done = run_main("--data-dir", str(afile))
    assert done.returncode == 1
    assert (
        done.stderr == f"marketdesk: error: Data directory {afile} exists but is not a directory\n"
    )
