"""What the command line and its window path share: logging, the error line, the data folder.

Light on purpose (no database layer): :mod:`app.cli.window` uses it before the window shows.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.cli.parser import PROG
from app.db.location import default_data_dir


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
