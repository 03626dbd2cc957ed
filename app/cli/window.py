"""``main.py`` without a sub-command: open the desktop window.

Loaded without the database layer, the HTTP clients or the command line's commands: the
arguments are checked with the global options only (:func:`app.cli.parser.window_parser`),
and the database is handed to the window as a function that opens it, so the window is on
screen before SQLAlchemy is imported (:class:`app.ui.desktop.Desktop` opens the database
after the window's first paint).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.parser import PROG, window_parser
from app.db.errors import DatabaseError
from app.db.location import default_data_dir, resolve_database_url

if TYPE_CHECKING:
    from app.db import Database

USAGE_HINT = """Without a window, use the commands:
  {prog} worker                 run queued jobs until Ctrl-C
  {prog} bridge show            the browser plugin's port and pairing token
  {prog} job create --marketplace ebay --action publish --product 12
  {prog} job list               show the queue
  {prog} stats                  outcomes per marketplace
  {prog} account status         eBay and Etsy connections
Run '{prog} --help' for every option.
"""


def configure_logging(verbose: int) -> None:
    """Warnings by default; ``-v`` adds information, ``-vv`` debugging."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def fail(message: str) -> int:
    """Print one line of error and return the failure exit code."""
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return 1


def data_dir(args: argparse.Namespace) -> Path:
    """The folder of the seller's files (photos, and secrets when there is no keyring)."""
    return Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()


def main(argv: Sequence[str]) -> int:
    """Check the window's options (bad ones: one line, exit 2), then open the window."""
    args = window_parser().parse_args(list(argv))
    configure_logging(args.verbose)
    return run_window(args)


def run_window(args: argparse.Namespace) -> int:
    """Open the desktop window until it is closed; its exit code."""
    try:
        url = resolve_database_url(args.data_dir, args.profile)
    except DatabaseError as exc:
        return fail(str(exc))
    try:
        from app.ui.desktop import run_desktop
    except ImportError as exc:
        sys.stdout.write(USAGE_HINT.format(prog=PROG))
        return fail(f"the window cannot start ({exc}); the commands above work without it")

    def open_database() -> Database:
        from app.db import Database

        return Database(url)

    return run_desktop(open_database, data_dir(args), args.seller)
