"""``main.py`` without a sub-command: open the desktop window.

Loaded without the database layer, the HTTP clients or the command line's commands: the
arguments are checked with the global options only (:func:`app.cli.parser.window_parser`),
and the database is handed to the window as a function that opens it, so the window is on
screen before SQLAlchemy is imported (:class:`app.ui.desktop.Desktop` opens the database
after the window's first paint).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.cli.common import configure_logging, data_dir, fail
from app.cli.parser import PROG, window_parser
from app.db.errors import DatabaseError
from app.db.location import resolve_database_url

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


def main(argv: Sequence[str]) -> int:
    """Open the window with the global options in ``argv``; anything else (help, a
    mistyped command, a bad value) goes to the full command line, which says what is
    wrong in one line (exit 2) or prints its help."""
    try:
        args, rest = window_parser(add_help=False).parse_known_args(list(argv))
    except argparse.ArgumentError:
        rest = list(argv)
    if rest:
        from app.cli.main import main as cli_main

        return cli_main(list(argv))
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
