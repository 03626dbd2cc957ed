"""The ``job`` and ``stats`` sub-commands: plain text tables on standard output."""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime

from app.db import Database
from app.marketplace import MarketplaceJobService


def job(service: MarketplaceJobService, args: argparse.Namespace) -> int:
    """Create, list, cancel, retry, pause or resume jobs."""
    command = args.job_command
    if command == "create":
        products = args.product
        if len(products) > 1:
            batch, jobs = service.create_batch(
                args.marketplace,
                args.action,
                products,
                priority=args.priority,
                input_data=args.input,
                run_at=args.run_at,
            )
            print(
                f"Batch {batch.id}: {batch.total_count} new job(s) "
                + ", ".join(str(j.id) for j in jobs)
                + runs_at(args.run_at)
            )
            return 0
        created = service.create_job(
            marketplace=args.marketplace,
            action_code=args.action,
            product_id=products[0] if products else None,
            priority=args.priority,
            input_data=args.input,
            run_at=args.run_at,
        )
        kept = args.run_at is not None and created.run_at != args.run_at
        print(
            f"Job {created.id}: {args.action} on {created.marketplace}, {created.status}"
            + runs_at(created.run_at)
            + (
                f" (the same job was already {_as_found(created.status)}: it keeps its time)"
                if kept
                else ""
            )
        )
        return 0
    if command == "list":
        rows = service.list_jobs(status=args.status, marketplace=args.marketplace, limit=args.limit)
        names = {a.id: a.code for a in service.get_action_types()}
        print(
            f"{'ID':>6}  {'MARKET':<7} {'ACTION':<12} {'PRODUCT':>7}  {'STATUS':<10} {'TRIES':>5}"
            f"  {'RUN AT':<16}  ERROR"
        )
        for j in rows:
            product = str(j.product_id) if j.product_id is not None else "-"
            error = (j.error_message or "")[:60]
            waits = j.status == "pending" and runs_at(j.run_at)
            when = f"{j.run_at.astimezone():%Y-%m-%d %H:%M}" if waits else "-"
            print(
                f"{j.id:>6}  {j.marketplace:<7} {names.get(j.action_type_id, '?'):<12} {product:>7}  "
                f"{j.status:<10} {j.retry_count:>5}  {when:<16}  {error}"
            )
        if not rows:
            print("No jobs.")
        return 0
    steer = {
        "cancel": service.cancel_job,
        "retry": service.retry_job,
        "pause": service.pause_job,
        "resume": service.resume_job,
    }[command]
    changed = steer(args.job_id)
    note = (
        " (cancel requested; it stops within a second)"
        if changed.cancel_requested and changed.status == "running"
        else ""
    )
    print(f"Job {changed.id} is {changed.status}{note}")
    return 0


def _as_found(status: str) -> str:
    """A job's status as the seller reads it in "the same job was already ..."."""
    return "waiting" if status == "pending" else status


def runs_at(moment: datetime | None) -> str:
    """``, runs at 2026-12-01 09:30`` (local time) for a job whose run-at time is still to
    come; nothing for one that may run now."""
    if moment is None or moment <= datetime.now(UTC):
        return ""
    return f", runs at {moment.astimezone():%Y-%m-%d %H:%M}"


def stats(service: MarketplaceJobService, args: argparse.Namespace) -> int:
    """Print outcomes per marketplace and action for the last days."""
    rows = service.get_stats(days=args.days, marketplace=args.marketplace)
    names = {a.id: a.code for a in service.get_action_types()}
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    print(
        f"{'DATE':<10}  {'MARKET':<7} {'ACTION':<12} {'TOTAL':>6} {'OK':>6} {'FAILED':>6} {'AVG MS':>8}"
    )
    for row in rows:
        avg = f"{row.avg_duration_ms:.0f}" if row.avg_duration_ms is not None else "-"
        print(
            f"{row.date.isoformat():<10}  {row.marketplace:<7} {names.get(row.action_type_id, '?'):<12} "
            f"{row.total_jobs:>6} {row.success_count:>6} {row.failure_count:>6} {avg:>8}"
        )
        t = totals[row.marketplace]
        t[0] += row.total_jobs
        t[1] += row.success_count
        t[2] += row.failure_count
    if not rows:
        print(f"No finished jobs in the last {args.days} day(s).")
    for marketplace, (total, ok, _failed) in sorted(totals.items()):
        print(f"{marketplace}: {total} job(s), {100 * ok / total:.1f}% succeeded")
    return 0


def seller(db: Database, args: argparse.Namespace) -> int:
    """List the sellers, or add one (its schema is created at the current revision)."""
    if args.seller_command == "add":
        name = args.name.strip()
        if not name:
            raise ValueError("A seller needs a name")
        print(f"Seller {db.add_seller(name)} added: {name}")
        return 0
    for seller_id in db.sellers():
        print(seller_id)
    return 0
