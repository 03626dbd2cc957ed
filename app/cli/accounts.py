"""``marketdesk account ...``: set up, connect and inspect the eBay and Etsy accounts.

App secrets are never taken from the command line (other users can read it in the
process list): ``setup`` reads the secret from ``MARKETDESK_APP_SECRET``, or asks for it
without echo, or reads one line of standard input with ``--secret-stdin``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import webbrowser
from typing import Any

from app.accounts import AccountError, AccountManager
from app.accounts.settings import AccountSettings
from app.ebay.jobs.fields import EBAY_FIELDS
from app.etsy.jobs.fields import ETSY_FIELDS
from app.marketplace.fields import FieldSpec

SECRET_ENV = "MARKETDESK_APP_SECRET"
FIELDS: dict[str, tuple[FieldSpec, ...]] = {"ebay": EBAY_FIELDS, "etsy": ETSY_FIELDS}
SECRET_LABELS = {"ebay": "eBay Cert ID (client secret)", "etsy": "Etsy shared secret"}


def read_line(prompt: str) -> str:
    """One line typed or pasted by the seller."""
    return input(prompt)


def read_secret(args: argparse.Namespace) -> str | None:
    """The app secret, from the environment, standard input or a hidden prompt."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    if args.secret_stdin:
        return sys.stdin.readline().strip()
    if sys.stdin.isatty():
        return getpass.getpass(f"{SECRET_LABELS[args.marketplace]}: ")
    return None


def parse_defaults(marketplace: str, pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs checked against the marketplace's fields."""
    specs = {spec.name: spec for spec in FIELDS[marketplace]}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        spec = specs.get(name.strip())
        if not sep or spec is None:
            raise AccountError(f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(specs)}")
        if raw.strip() == "":
            values[spec.name] = None  # NAME= clears the default
            continue
        try:
            values[spec.name] = spec.convert(raw)
        except ValueError as exc:
            raise AccountError(f"{spec.name}: {spec.label} {exc}") from None
    return values


async def run(manager: AccountManager, args: argparse.Namespace) -> int:
    """Dispatch ``account`` sub-commands."""
    command = args.account_command
    if command == "status":
        return await status(manager)
    marketplace = args.marketplace
    if command == "setup":
        current = await manager.settings(marketplace)
        secret = read_secret(args)
        if current is None and not secret:
            raise AccountError(
                f"{SECRET_LABELS[marketplace]} is required: set {SECRET_ENV}, use --secret-stdin, "
                "or run in a terminal to be asked"
            )
        settings = AccountSettings(
            marketplace=marketplace,
            environment=args.env,
            base_url=args.base_url,
            client_id=args.client_id,
            redirect=args.redirect,
            requests_per_second=args.rate,
            defaults=current.defaults if current else {},
        )
        await manager.configure(settings, secret=secret or None)
        print(
            f"{marketplace}: app keys saved ({args.env}); secrets in {manager.secrets.description}"
        )
        return 0
    if command == "defaults":
        current = await manager.settings(marketplace)
        if current is None:
            raise AccountError(
                f"{marketplace} is not set up: run 'account setup {marketplace}' first"
            )
        merged = {**current.defaults, **parse_defaults(marketplace, args.pairs)}
        merged = {k: v for k, v in merged.items() if v is not None}
        await manager.configure(_replace_defaults(current, merged))
        for name, value in sorted(merged.items()):
            print(f"{name} = {value}")
        return 0
    if command == "connect":
        return await connect(manager, marketplace, args)
    status_now = await manager.disconnect(marketplace)
    print(f"{marketplace}: {status_now.state}")
    return 0


def _replace_defaults(settings: AccountSettings, defaults: dict[str, Any]) -> AccountSettings:
    values = {**settings.__dict__, "defaults": defaults}
    return AccountSettings(**values)


async def connect(manager: AccountManager, marketplace: str, args: argparse.Namespace) -> int:
    """Run the connect flow of ``marketplace`` in the terminal."""
    if marketplace == "ebay":
        pending = await manager.begin_ebay()
        print("Open this page, sign in to eBay and agree:")
        print(pending.url, flush=True)
        pasted = await asyncio.to_thread(
            read_line, "Paste the address of the page eBay showed next (or the code): "
        )
        result = await manager.finish_ebay(pending, pasted)
    else:

        def open_browser(url: str) -> None:
            print("Sign in to Etsy and agree in your browser; if it did not open, open:")
            print(url, flush=True)
            if not args.no_browser:
                webbrowser.open(url)

        result = await manager.connect_etsy(open_browser, timeout=args.timeout)
    until = f" until {result.until:%Y-%m-%d}" if result.until else ""
    print(f"{marketplace}: connected as {result.account}{until}")
    return 0


async def status(manager: AccountManager) -> int:
    """One line per marketplace account."""
    for marketplace in ("ebay", "etsy"):
        current = await manager.status(marketplace)
        if not current.configured:
            print(f"{marketplace}: not set up")
            continue
        line = f"{marketplace} ({current.environment}): {current.state}"
        if current.account:
            line += f" as {current.account}"
        if current.until:
            line += f" until {current.until:%Y-%m-%d %H:%M} UTC"
        if current.message:
            line += f" - {current.message}"
        print(line)
    print(f"secrets: {manager.secrets.description}")
    return 0


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser], positive_float: Any) -> None:
    """The ``account`` sub-command and its actions."""
    account = sub.add_parser("account", help="set up and connect the eBay and Etsy accounts")
    actions = account.add_subparsers(
        dest="account_command", metavar="ACTION", parser_class=parser_class, required=True
    )
    actions.add_parser("status", help="who is connected, until when")
    setup = actions.add_parser("setup", help="enter the app keys of a marketplace")
    setup.add_argument("marketplace", choices=("ebay", "etsy"))
    setup.add_argument("--env", choices=("production", "sandbox", "local"), default="production")
    setup.add_argument("--client-id", required=True, help="eBay App ID or Etsy keystring")
    setup.add_argument(
        "--redirect", required=True, help="eBay RuName, or the Etsy redirect URI (localhost)"
    )
    setup.add_argument("--base-url", help="API base URL of the 'local' environment")
    setup.add_argument("--rate", type=positive_float, help="requests per second (pacing)")
    setup.add_argument(
        "--secret-stdin",
        action="store_true",
        help=f"read the app secret from stdin (or {SECRET_ENV})",
    )
    defaults = actions.add_parser("defaults", help="default job fields, e.g. category_id=11450")
    defaults.add_argument("marketplace", choices=("ebay", "etsy"))
    defaults.add_argument("pairs", nargs="*", metavar="NAME=VALUE")
    connect_parser = actions.add_parser("connect", help="sign in and allow Marketdesk")
    connect_parser.add_argument("marketplace", choices=("ebay", "etsy"))
    connect_parser.add_argument("--no-browser", action="store_true", help="only print the page")
    connect_parser.add_argument("--timeout", type=positive_float, default=300.0)
    disconnect = actions.add_parser("disconnect", help="forget the tokens of a marketplace")
    disconnect.add_argument("marketplace", choices=("ebay", "etsy"))
