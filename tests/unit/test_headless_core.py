"""The core never imports Qt: checked on the source and in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QT_MODULES = ("PySide6", "pyqtgraph", "qasync", "shiboken6")


def test_no_qt_import_outside_app_ui() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        if (ROOT / "app" / "ui") in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in QT_MODULES
            ]
    assert offenders == []


def test_core_and_cli_load_without_qt() -> None:
    code = (
        "import sys, app.marketplace, app.marketplace.runner, app.cli.main, app.vinted.vinted_job_processor;"
        f"bad=[m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}];"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
