"""Entry point of the command line: parses, opens the database, runs one sub-command
(without one, it opens the window: :mod:`app.cli.window`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence

from app.accounts import AccountManager
from app.bridge.errors import BridgeError
from app.cli.common import configure_logging, data_dir, fail
from app.cli.parser import PROG, build_parser
from app.cli.window import run_window
from app.db import Database, DatabaseError, resolve_database_url
from app.marketplace import MarketplaceJobService
from app.marketplace.errors import MarketplaceError
from app.secret_store import SecretStoreError, open_secret_store

log = logging.getLogger("marketdesk.cli")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.command is None:
        return run_window(args)
    try:
        db = Database(resolve_database_url(args.data_dir, args.profile))
    except DatabaseError as exc:
        return fail(str(exc))
    try:
        if args.command == "migrate":
            db.migrate(args.revision)
            print(f"Database is at revision {db.current_revision()}")
            return 0
        db.migrate()
        from app.cli import commands

        if args.command == "seller":
            return commands.seller(db, args)
        if args.seller not in db.sellers():
            return fail(f"Unknown seller: {args.seller} (see '{PROG} seller list')")
        if args.command == "worker":
            return run_worker(db, args)
        if args.command == "account":
            return run_accounts(db, args)
        if args.command == "bridge":
            from app.cli import bridge

            return bridge.run(open_secret_store(data_dir(args)), data_dir(args), args)
        if args.command == "job":
            return commands.job(MarketplaceJobService(db, args.seller), args)
        return commands.stats(MarketplaceJobService(db, args.seller), args)
    except (
        MarketplaceError,
        DatabaseError,
        SecretStoreError,
        BridgeError,
        ValueError,
        LookupError,
    ) as exc:
        return fail(str(exc))
    finally:
        db.close()


def account_manager(db: Database, args: argparse.Namespace) -> AccountManager:
    """The seller's marketplace accounts, secrets in the keyring (or the private file)."""
    return AccountManager(db, open_secret_store(data_dir(args)), args.seller)


def run_accounts(db: Database, args: argparse.Namespace) -> int:
    """Run one ``account`` action."""
    from app.cli import accounts

    async def act() -> int:
        manager = account_manager(db, args)
        try:
            return await accounts.run(manager, args)
        finally:
            await manager.aclose()

    try:
        return asyncio.run(act())
    except (EOFError, KeyboardInterrupt):
        return fail("cancelled")


def run_worker(db: Database, args: argparse.Namespace) -> int:
    """Run the processor (and the order-sync schedule of the marketplaces it serves)
    until SIGINT or SIGTERM, then stop gracefully."""
    from app.workbench import Workbench

    async def serve() -> None:
        workbench = Workbench(
            db,
            data_dir(args),
            args.seller,
            concurrency=args.concurrency,
            marketplace=args.marketplace,
            lease_seconds=args.lease,
            # without its bridge, Vinted jobs are left to a worker (or window) with the plugin
            vinted_needs_bridge=True,
        )
        stopping = asyncio.Event()
        try:
            listening = not args.no_bridge and await workbench.start_bridge()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stopping.set)
            await workbench.start()
            print(f"Worker {workbench.worker_id} running; press Ctrl-C to stop.", flush=True)
            if listening:
                port = workbench.bridge.server.port
                print(f"Plugin bridge listening on 127.0.0.1:{port}.", flush=True)
            else:
                why = (
                    "off (--no-bridge)"
                    if args.no_bridge
                    else f"not started: {workbench.bridge.problem}"
                )
                print(f"Plugin bridge {why}; Vinted jobs are left to another worker.", flush=True)
            await workbench.serve_until(stopping)
        finally:
            await workbench.stop()

    asyncio.run(serve())
    return 0
