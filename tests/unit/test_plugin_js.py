"""The browser plugin's JavaScript unit tests (``resources/plugin/tests``), run by node.

They use node's built-in test runner and no npm packages: ``node --test`` over
``resources/plugin/tests/*.test.mjs`` (protocol frames, the Vinted endpoints and error
mapping, the pacer, the actions with a fake ``chrome``, the bridge, settings and the page
function). Node is required: without it this test fails (it never skips), because
``tests/run.sh`` installs Debian's ``nodejs``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_TESTS = ROOT / "resources" / "plugin" / "tests"
TIMEOUT_S = 120


def node_binary() -> str:
    """The ``node`` on PATH; a failure that says how to get one when there is none."""
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        pytest.fail(
            "node is not installed, so the plugin's JavaScript tests cannot run: "
            "run tests/run.sh as root (it installs Debian's nodejs)",
            pytrace=False,
        )
    return found


def test_plugin_javascript_unit_tests_pass() -> None:
    node = node_binary()
    files = sorted(PLUGIN_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs files in {PLUGIN_TESTS}"
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, check=False, timeout=30
    ).stdout.strip()
    # explicit files, not the folder: node 21+ reads --test arguments as glob patterns
    command = [
        node,
        "--test",
        "--test-reporter=tap",
        *(str(path.relative_to(ROOT)) for path in files),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=TIMEOUT_S
    )
    output = f"{done.stdout}\n{done.stderr}".strip()
    assert done.returncode == 0, (
        f"node {version} --test failed with exit code {done.returncode}:\n{output}"
    )
    counts = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", done.stdout, re.MULTILINE))
    assert int(counts.get("tests", "0")) > 0, f"node {version} ran no tests:\n{output}"
    assert counts.get("fail") == "0", f"node {version} reported failures:\n{output}"
