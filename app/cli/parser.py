"""The argument parser of ``main.py``; bad arguments give one clear line and exit 2."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from app.marketplace.names import MARKETPLACE_VALUES, JobStatus

PROG = "marketdesk"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """A number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value


def json_object(text: str) -> dict[str, Any]:
    """A JSON object given on the command line."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"invalid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, like \'{"key": "value"}\'')
    return value


RELATIVE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def run_at(text: str) -> datetime:
    """When a job may run, as an aware UTC time: ISO 8601 (without an offset: local time)
    or ``+30m``, ``+2h``, ``+1d`` from now; never in the past."""
    now = datetime.now(UTC)
    value = text.strip()
    try:
        if relative := re.fullmatch(r"\+(\d+)([mhd])", value):
            if int(relative[1]) < 1:
                raise argparse.ArgumentTypeError(f"{text!r}: the amount must be at least 1")
            return now + timedelta(**{RELATIVE_UNITS[relative[2]]: int(relative[1])})
        moment = datetime.fromisoformat(value).astimezone(UTC)  # naive: local time
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date-time like 2026-12-01T09:30 (local time), "
            "2026-12-01T08:30Z or +30m, +2h, +1d"
        ) from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is too far ahead") from None
    if moment <= now:
        raise argparse.ArgumentTypeError(
            f"{text!r} is in the past ({moment.astimezone():%Y-%m-%d %H:%M %Z}); "
            "give a time to come"
        )
    return moment


def concurrency(text: str) -> dict[str, int]:
    """``vinted=1,ebay=4`` as a dict."""
    limits: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        if not sep or name not in MARKETPLACE_VALUES:
            raise argparse.ArgumentTypeError(
                f"{part!r}: expected MARKETPLACE=N with MARKETPLACE one of {', '.join(MARKETPLACE_VALUES)}"
            )
        try:
            limits[name] = int(number)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r}: {number!r} is not a whole number"
            ) from None
        if limits[name] < 0:
            raise argparse.ArgumentTypeError(f"{part!r}: a limit cannot be negative")
    return limits


def window_parser(*, add_help: bool = True) -> Parser:
    """The options of ``main.py`` without a sub-command (the window's): the global ones.

    It loads nothing of the program, so the window can show before the database layer is
    imported; :func:`build_parser` adds the sub-commands to the same options. Without
    ``add_help`` (the window's own parse) a bad value raises ``argparse.ArgumentError``
    and ``-h`` is left over: the full parser then answers.
    """
    parser = Parser(
        prog=PROG,
        description="Marketdesk: one catalog, one job queue for Vinted, eBay and Etsy.",
        add_help=add_help,
        exit_on_error=add_help,
    )
    parser.add_argument("--data-dir", help="folder of the database (default: the user data folder)")
    parser.add_argument(
        "--profile", default="default", help="seller profile (one database file each)"
    )
    parser.add_argument(
        "--seller", type=positive_int, default=1, help="seller id on a shared PostgreSQL queue"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    return parser


def build_parser() -> Parser:
    """The full parser with every sub-command."""
    from app.cli import accounts, bridge  # their sub-commands' options

    parser = window_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    worker = sub.add_parser("worker", help="run the job processor headless until Ctrl-C")
    worker.add_argument("--marketplace", choices=MARKETPLACE_VALUES, help="only this marketplace")
    worker.add_argument(
        "--concurrency", type=concurrency, default={}, help="e.g. vinted=1,ebay=4,etsy=4"
    )
    worker.add_argument("--lease", type=positive_int, default=30, help="lease length in seconds")
    worker.add_argument(
        "--no-bridge", action="store_true", help="do not listen for the browser plugin"
    )

    migrate = sub.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--revision", default="head", help="target revision (default head)")

    job = sub.add_parser("job", help="create, list, cancel or retry jobs")
    job_sub = job.add_subparsers(
        dest="job_command", metavar="ACTION", parser_class=Parser, required=True
    )
    create = job_sub.add_parser("create", help="queue a job (several products make a batch)")
    create.add_argument("--marketplace", required=True, choices=MARKETPLACE_VALUES)
    create.add_argument("--action", required=True, help="action code, e.g. publish, sync_orders")
    create.add_argument(
        "--product", type=positive_int, action="append", default=[], help="product id (repeatable)"
    )
    create.add_argument(
        "--priority", type=int, choices=range(1, 5), help="1 = most urgent, 4 = least"
    )
    create.add_argument("--input", type=json_object, help="extra input as a JSON object")
    create.add_argument(
        "--run-at",
        type=run_at,
        metavar="WHEN",
        help="not before this time: ISO 8601 (local time unless an offset is given, "
        "e.g. 2026-12-01T09:30) or from now (+30m, +2h, +1d)",
    )
    listing = job_sub.add_parser("list", help="show jobs, newest first")
    listing.add_argument("--status", choices=[s.value for s in JobStatus])
    listing.add_argument("--marketplace", choices=MARKETPLACE_VALUES)
    listing.add_argument("--limit", type=positive_int, default=50)
    for name, text in (
        ("cancel", "cancel a job"),
        ("retry", "queue a failed or cancelled job again"),
        ("pause", "hold a pending job"),
        ("resume", "release a paused job"),
    ):
        action = job_sub.add_parser(name, help=text)
        action.add_argument("job_id", type=positive_int)

    seller = sub.add_parser("seller", help="list or add sellers (PostgreSQL: a schema each)")
    seller_sub = seller.add_subparsers(
        dest="seller_command", metavar="ACTION", parser_class=Parser, required=True
    )
    seller_sub.add_parser("list", help="show the sellers")
    add = seller_sub.add_parser("add", help="add a seller with a schema of its own")
    add.add_argument("name", help="the seller's name")

    accounts.add_parser(sub, Parser, positive_float)
    bridge.add_parser(sub, Parser)

    stats = sub.add_parser("stats", help="job outcomes per marketplace and action")
    stats.add_argument("--days", type=positive_int, default=7)
    stats.add_argument("--marketplace", choices=MARKETPLACE_VALUES)
    return parser
