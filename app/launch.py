"""What ``python main.py`` starts, decided before anything heavy is imported.

Without a sub-command Marketdesk opens its window (:mod:`app.cli.window`), which is shown
before the database layer, the HTTP clients and the other pages are imported and the
database is migrated, so the seller sees Marketdesk at once. Sub-commands and ``--help``
go to the command line, which never loads Qt. ``--version`` prints the version;
``--self-test`` checks the installation (:mod:`app.selftest`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

#: The command line's sub-commands (app.cli.parser) and its help flags.
COMMANDS = frozenset({"worker", "migrate", "job", "seller", "account", "stats", "bridge"})
HELP = frozenset({"-h", "--help"})


def wants_window(argv: Sequence[str]) -> bool:
    """True when ``argv`` names no sub-command (only global options): open the window."""
    return not any(arg in COMMANDS or arg in HELP for arg in argv)


def has_display() -> bool:
    """False on a Linux box without X, Wayland or a chosen Qt platform (a server, SSH)."""
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def version() -> str:
    """``Marketdesk <version>`` (read without importing the program)."""
    from app import __version__

    return f"Marketdesk {__version__}"


def self_test() -> int:
    """``--self-test``: the installation's checks, offscreen when there is no display."""
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from app.ui.selftest import run
    except ImportError as exc:
        from app.selftest import run_headless

        return run_headless(why=str(exc))
    return run()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the window or the command line (or print the version, or test the install);
    ``argv`` defaults to the process's arguments (the ``marketdesk`` console script)."""
    if argv is None:
        argv = sys.argv[1:]
    if "--version" in argv:
        print(version())
        return 0
    if "--self-test" in argv:
        return self_test()
    if wants_window(argv) and not has_display():
        sys.stderr.write(
            "marketdesk: no display to open the window on (no DISPLAY or WAYLAND_DISPLAY); "
            "the commands work without one, see 'marketdesk --help'\n"
        )
        return 1
    if wants_window(argv):
        from app.cli.window import main as window_main

        return window_main(argv)  # without Qt, it says what works without the window
    from app.cli.main import main as cli_main

    return cli_main(argv)
