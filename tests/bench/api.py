"""API job throughput: the JobRunner against the marketplaces' rate limits and a one-job loop.

Run it from the project root::

    python -m tests.bench.api [--repeat R] [--loop-repeat L] [--dir PATH]

What is measured
----------------
The wall time of 300 jobs, all created before the clock starts: 100 eBay and 100 Etsy jobs
against the fakes of ``tests/fakes`` (real HTTP on loopback), 100 Vinted jobs against a
scripted plugin; each of the three answers after ``LATENCY`` (100 ms) and admits ``RATE``
(10) requests in any second (the fakes answer 429 with ``Retry-After: 1`` beyond). Per API
marketplace: 40 ``publish`` (new products with a SKU and a photo file), 20 ``update`` and
20 ``delete`` (of products published in the set-up), 20 ``sync_orders`` (3 orders wait: one
page each). Requests, counted from the handlers (``REQUESTS``)::

    eBay  publish 3 (PUT inventory_item, POST offer, POST publish), update 2 (PUT item, PUT
          offer), delete 2 (POST withdraw, DELETE item), sync_orders 1           = 220
    Etsy  publish 4 (POST draft, POST image, PUT inventory, PATCH state=active), update 2
          (PATCH, PUT inventory), delete 1, sync_orders 1                         = 240

The Vinted jobs are the real ``orders_vinted`` handler (one ``sold_orders`` call per job:
no orders wait) with ``ScriptedPlugin`` as the plugin transport in place of the bridge and
the browser (100 ms a call, at most 10 started in any second; more wait, as the plugin
paces itself). The bridge's own cost is measured by ``tests.bench.bridge``.

Set-up (not timed), per run: fresh SQLite file (WAL), photo folder and fakes; the products
to update and delete are published at no latency and no effective limit. The accounts are
then configured again, which drops their clients (new pacers and connection pools): eBay at
``requests_per_second=10``, Etsy at its default, pacing from the ``x-limit-per-second`` the
fake sends (10, the limit it enforces; 5/s until that first answer). The fakes switch to
100 ms and 10/s, the timed jobs are created, the request logs cleared.

1. **runner** - ``JobRunner(MarketplaceJobProcessor(db, accounts=..., plugin=...,
   photos_dir=..., handlers=ALL_HANDLERS),
   concurrency={"vinted": 1, "ebay": 4, "etsy": 4}, apply_rate_limits=False)``, timed from
   ``run()`` until the last of the 300 ``JobChanged`` events with a final status (published
   after the commit). Vinted at 1 (the default): 100 ms calls in a row are the plugin's 10/s.
2. **loop** - the same set-up, then ``while await processor.process_next_job() is not None``
   in one task: one job at a time, one request at a time.

Verified: ``count_by_status`` says every job completed; printed: the requests the fakes
admitted beside the expected counts, and the 429s they answered.

The bound. R requests at 10/s: the first starts at 0, the last at (R-1)/10 and its answer
comes one latency later, (R-1)/10 + 0.1 = R/10. Marketdesk works the three marketplaces in
parallel, so the bound is the largest: Etsy's 24.0 s. The clients space requests
``MARGIN``/10 s apart (1.03, ``app/restapi/pacing.py``): perfect pacing is 1.03x. A 429
costs about 0.8 s (the client holds the account for Retry-After: 1). Target: <= 1.15x.

Why ``apply_rate_limits=False``: the seeded ``rate_limit_ms`` between starts of an action
type (eBay/Etsy publish, update, delete 1000 ms, sync_orders 2000 ms, migrations
``20260109_0300``/``0400``; Vinted orders 1500 ms) make 40 publishes take 39 s and 100 Vinted
orders 148.5 s, far over the bound. The per-account request pacing is the brake measured.

The loop waits 100 ms per request, one after another: its floor is (sum of requests) x
latency = 56 s, so at both floors loop/runner = (sum R)/(max R) = 560/240 = 2.33x (printed).
As the latency equals the rate's interval, the loop already runs each marketplace at its
limit; concurrency only helps by working the three at once, so that ratio is at most 3x,
and only if all three need as many requests (every API job a single one). Target: >= 3x.

Repeats: runner ``R`` times (default 3), loop ``L`` times (default 1: a minute of sleeps in
a row, little variance; 3 would take the run to 5 minutes). Medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import platform
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.accounts import AccountManager
from app.db import Database
from app.events import Event, JobChanged
from app.marketplace import ALL_HANDLERS, MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.runner import JobRunner
from app.restapi.pacing import MARGIN
from app.secret_store import KeyringSecretStore
from tests.fakes import FakeEbay, FakeEtsy
from tests.fakes.base import SECOND_LIMIT, FakeMarketplace
from tests.fakes.wire import Response
from tests.support import marketplaces as support
from tests.support.keyring import MemoryKeyring

LATENCY = 0.1
RATE = 10.0
SETUP_RATE = 1000.0
API = ("ebay", "etsy")
MIX = {"publish": 40, "update": 20, "delete": 20, "sync_orders": 20}
REQUESTS = {
    "ebay": {"publish": 3, "update": 2, "delete": 2, "sync_orders": 1},
    "etsy": {"publish": 4, "update": 2, "delete": 1, "sync_orders": 1},
}
VINTED_JOBS = 100
ORDERS = 3
CONCURRENCY = {"vinted": 1, "ebay": 4, "etsy": 4}
SETTLED = {"completed", "failed", "cancelled", "paused"}
TARGET_BOUND, TARGET_LOOP = 1.15, 3.0
MARKETPLACES = ("ebay", "etsy", "vinted")


def expected_requests() -> dict[str, int]:
    """Requests (plugin calls for Vinted) the timed jobs make, per marketplace."""
    counts = {mp: sum(MIX[a] * n for a, n in REQUESTS[mp].items()) for mp in API}
    return counts | {"vinted": VINTED_JOBS}


def bound_seconds(requests: dict[str, int]) -> float:
    """The rate limits' floor: the slowest marketplace's last answer, (R - 1) / RATE + LATENCY."""
    return max((n - 1) / RATE + LATENCY for n in requests.values())


# -- fakes that count their 429s, stand-ins for the Vinted plugin -------------------------
class _CountsRejections(FakeMarketplace):
    """Counts the per-second refusals (the base fake logs the call but not the answer)."""

    rejected = 0

    def too_many_requests(self, limit: str) -> Response:
        if limit == SECOND_LIMIT:
            self.rejected += 1
        return super().too_many_requests(limit)

    def reset_counters(self) -> None:
        with self.lock:
            super().reset_counters()
            self.rejected = 0


class CountingEbay(_CountsRejections, FakeEbay):
    """FakeEbay counting its 429s."""


class CountingEtsy(_CountsRejections, FakeEtsy):
    """FakeEtsy counting its 429s."""


class ScriptedPlugin:
    """Stands in for the browser plugin: answers after ``latency`` seconds, starts at most
    ``per_second`` calls in any one-second window (a call over the limit waits its turn)."""

    def __init__(self, latency: float = LATENCY, per_second: float = RATE) -> None:
        self.latency = latency
        self.per_second = per_second
        self.calls = 0
        self._window: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def call(
        self, action_name: str, payload: dict[str, Any], timeout: float, pace_ms: int = 0
    ) -> dict[str, Any]:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) < self.per_second:
                    break
                await asyncio.sleep(self._window[0] + 1.0 - now)
            self._window.append(now)
            self.calls += 1
        await asyncio.sleep(self.latency)
        assert action_name == "sold_orders", action_name
        return {"orders": [], "page": 1, "total_pages": 1}


# -- set-up -------------------------------------------------------------------------------
@dataclass
class Stage:
    """One measured run's database, accounts, fakes and the ids of its timed jobs."""

    db: Database
    accounts: AccountManager
    ebay: CountingEbay
    etsy: CountingEtsy
    plugin: ScriptedPlugin
    photos: Path
    job_ids: set[int] = field(default_factory=set)
    all_jobs: int = 0

    def processor(self) -> MarketplaceJobProcessor:
        return MarketplaceJobProcessor(
            self.db,
            accounts=self.accounts,
            plugin=self.plugin,
            photos_dir=self.photos,
            handlers=ALL_HANDLERS,
        )


def new_products(db: Database, photos: Path, marketplace: str, first: int, n: int) -> list[int]:
    """``n`` products with a SKU and their own photo file."""
    return [
        support.add_product(
            db, photos, title=f"{i:03d}{marketplace} jacket", sku=f"B-{marketplace}-{i}"
        )
        for i in range(first, first + n)
    ]


async def prepare(stage: Stage) -> None:
    """Publish what the updates and deletes need, switch to the timed settings, queue jobs."""
    db, accounts, service = stage.db, stage.accounts, MarketplaceJobService(stage.db)
    await support.connect_ebay(accounts, stage.ebay, requests_per_second=SETUP_RATE)
    await support.connect_etsy(accounts, stage.etsy)
    fresh: dict[str, list[int]] = {}
    listed: dict[str, list[int]] = {}
    for mp in API:
        fresh[mp] = new_products(db, stage.photos, mp, 0, MIX["publish"])
        listed[mp] = new_products(db, stage.photos, mp, 100, MIX["update"] + MIX["delete"])
        for product_id in listed[mp]:
            service.create_job(marketplace=mp, action_code="publish", product_id=product_id)
    processor = stage.processor()
    try:
        while (result := await processor.process_next_job()) is not None:
            if result["status"] != "completed":
                raise RuntimeError(f"set-up publish did not complete: {result}")
            stage.all_jobs += 1
    finally:
        await processor.close()
    for i in range(ORDERS):
        stage.ebay.add_order(f"B-ebay-{100 + i}")
    for listing_id in list(stage.etsy.listings)[:ORDERS]:
        stage.etsy.add_receipt(listing_id)

    await accounts.configure(support.ebay_settings(stage.ebay, requests_per_second=RATE))
    await accounts.configure(support.etsy_settings(stage.etsy))
    ids: list[int] = []
    for mp in API:
        updated, deleted = listed[mp][: MIX["update"]], listed[mp][MIX["update"] :]
        for action, products in (("publish", fresh[mp]), ("update", updated), ("delete", deleted)):
            for product_id in products:
                ids.append(service.create_job(mp, action, product_id=product_id).id)
        for i in range(MIX["sync_orders"]):
            ids.append(service.create_job(mp, "sync_orders", idempotency_key=f"b-{mp}-{i}").id)
    for i in range(VINTED_JOBS):
        ids.append(service.create_job("vinted", "orders", idempotency_key=f"b-vinted-{i}").id)
    stage.job_ids = set(ids)
    stage.all_jobs += len(ids)
    for fake in (stage.ebay, stage.etsy):
        fake.latency, fake.requests_per_second = LATENCY, RATE
        fake.reset_counters()


@contextlib.asynccontextmanager
async def staged(root: str | None) -> AsyncIterator[Stage]:
    """A prepared run in a fresh temporary directory, with fresh fakes; cleaned up after."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-api-", dir=root) as tmp,
        CountingEbay() as ebay,
        CountingEtsy(requests_per_second=SETUP_RATE) as etsy,
    ):
        photos = Path(tmp)
        db = Database(f"sqlite:///{photos / 'api.sqlite3'}")
        db.migrate()
        accounts = AccountManager(db, KeyringSecretStore(MemoryKeyring()), timeout=10.0)
        try:
            stage = Stage(db, accounts, ebay, etsy, ScriptedPlugin(), photos)
            await prepare(stage)
            yield stage
        finally:
            await accounts.aclose()
            db.close()
        problems = ebay.server_errors + etsy.server_errors
        if problems:
            raise RuntimeError(f"the fakes failed: {problems[0]}")


# -- the two modes ------------------------------------------------------------------------
@dataclass
class Measure:
    """One timed run."""

    seconds: float
    sent: dict[str, int]
    rejected: dict[str, int]
    finished: dict[str, float]


async def drain_runner(stage: Stage) -> tuple[float, dict[str, float]]:
    """Run a JobRunner until every timed job settled; seconds and per-marketplace end times."""
    runner = JobRunner(stage.processor(), concurrency=CONCURRENCY, apply_rate_limits=False)
    waiting = set(stage.job_ids)
    finished: dict[str, float] = {}
    done_at: float | None = None

    def on_event(event: Event) -> None:
        nonlocal done_at
        if not isinstance(event, JobChanged) or event.status not in SETTLED:
            return
        if event.job_id in waiting:
            waiting.discard(event.job_id)
            finished[event.marketplace] = time.perf_counter()
            if not waiting:
                done_at = time.perf_counter()
                runner.stop()

    unsubscribe = stage.db.events.subscribe(on_event)
    started = time.perf_counter()
    try:
        await asyncio.wait_for(runner.run(), timeout=120)
    finally:
        unsubscribe()
    if done_at is None:
        raise RuntimeError(f"the runner stopped with {len(waiting)} job(s) unsettled")
    return done_at - started, {mp: at - started for mp, at in finished.items()}


async def drain_loop(stage: Stage) -> tuple[float, dict[str, float]]:
    """``process_next_job()`` one job at a time until none is pending."""
    processor = stage.processor()
    finished: dict[str, float] = {}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(300):
            while (result := await processor.process_next_job()) is not None:
                finished[str(result.get("marketplace"))] = time.perf_counter() - started
        seconds = time.perf_counter() - started
    finally:
        await processor.close()
    return seconds, finished


async def measure(mode: str, root: str | None) -> Measure:
    """One fresh set-up and one timed run of ``mode``, verified."""
    drain: Callable[[Stage], Any] = drain_runner if mode == "runner" else drain_loop
    async with staged(root) as stage:
        seconds, finished = await drain(stage)
        counts = MarketplaceJobService(stage.db).count_by_status()
        sent = {"ebay": len(stage.ebay.calls), "etsy": len(stage.etsy.calls)}
        sent["vinted"] = stage.plugin.calls
        rejected = {"ebay": stage.ebay.rejected, "etsy": stage.etsy.rejected, "vinted": 0}
    others = {status: n for status, n in counts.items() if n and status != "completed"}
    if counts["completed"] != stage.all_jobs or others:
        raise RuntimeError(
            f"{mode}: expected {stage.all_jobs} completed jobs, the database says {counts}"
        )
    return Measure(seconds, sent, rejected, finished)


# -- report -------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, list[Measure]]:
    """The runner repeats, with the loop repeats spread among them."""
    plan = ["runner"] * args.repeat
    for k in range(args.loop_repeat):
        plan.insert(min(len(plan), 1 + 2 * k), "loop")
    results: dict[str, list[Measure]] = {"runner": [], "loop": []}
    for mode in plan:
        m = asyncio.run(measure(mode, args.dir))
        results[mode].append(m)
        total = args.repeat if mode == "runner" else args.loop_repeat
        sent = ", ".join(f"{mp} {m.sent[mp]}" for mp in MARKETPLACES)
        ends = ", ".join(f"{mp} {m.finished.get(mp, 0.0):.1f}" for mp in MARKETPLACES)
        print(
            f"  {mode:<6} {len(results[mode])}/{total}  {m.seconds:7.2f} s  (requests {sent}; "
            f"{sum(m.rejected.values())} x 429; last job done at s: {ends})",
            flush=True,
        )
    return results


def report(results: dict[str, list[Measure]]) -> None:
    """Medians, requests against the expected counts, and the two ratios."""
    expected = expected_requests()
    bound = bound_seconds(expected)
    median = {mode: statistics.median(m.seconds for m in ms) for mode, ms in results.items()}
    verdict = {True: "meets", False: "MISSES"}
    last = {mode: ms[-1] for mode, ms in results.items()}
    print()
    print(f"{'requests (last run of each)':<30}{'expected':>10}{'runner':>16}{'loop':>16}")
    for mp in MARKETPLACES:
        row = f"{mp + (' plugin calls' if mp == 'vinted' else ' API calls'):<30}{expected[mp]:>10}"
        for mode in ("runner", "loop"):
            m = last[mode]
            admitted = m.sent[mp] - m.rejected[mp]
            cell = f"{admitted}" + (f" +{m.rejected[mp]} 429" if m.rejected[mp] else "")
            flag = "" if admitted == expected[mp] else " !"
            row += f"{cell + flag:>16}"
        print(row)
    print()
    for mode, ms in results.items():
        runs = ", ".join(f"{m.seconds:.2f}" for m in ms)
        print(f"{mode:<6} median {median[mode]:7.2f} s   (repeats: {runs})")
    print(
        f"bound  = max over marketplaces of (R - 1) / {RATE:g} + {LATENCY:g} s = {bound:.2f} s "
        f"(with the pacer's margin {MARGIN:g}: {bound * MARGIN:.2f} s)"
    )
    vs_bound = median["runner"] / bound
    print(
        f"runner / bound  = {vs_bound:.3f}x  (target <= {TARGET_BOUND}x: "
        f"{verdict[vs_bound <= TARGET_BOUND]})"
    )
    vs_loop = median["loop"] / median["runner"]
    floors = sum(expected.values()) * LATENCY / bound
    print(
        f"loop / runner   = {vs_loop:.2f}x  (target >= {TARGET_LOOP}x: "
        f"{verdict[vs_loop >= TARGET_LOOP]}; at both floors, sum of requests x latency / "
        f"bound = {floors:.2f}x)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.api",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--repeat", type=int, default=3, help="runner runs (default 3)")
    parser.add_argument("--loop-repeat", type=int, default=1, help="loop runs (default 1)")
    parser.add_argument("--dir", default=None, help="temporary files go here (default: /tmp)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.loop_repeat < 1:
        parser.error("--repeat and --loop-repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    expected = expected_requests()
    mix = ", ".join(f"{n} {action}" for action, n in MIX.items())
    print(
        f"API jobs: per eBay and Etsy {mix}; {VINTED_JOBS} Vinted orders; "
        f"{LATENCY * 1000:.0f} ms and {RATE:g} req/s each; concurrency {CONCURRENCY}; "
        f"expected requests {expected}; Python {platform.python_version()}"
    )
    report(run(args))


if __name__ == "__main__":
    main(sys.argv[1:])
