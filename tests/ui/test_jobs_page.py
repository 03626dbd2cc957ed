"""The Jobs page: a lazy model that follows the queue, filters, steering, the detail pane."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QAbstractItemModelTester, QTest
from sqlalchemy import insert, select, update

from app.db import Database, utcnow
from app.marketplace import MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.errors import PermanentJobError
from app.marketplace.job_queries import JobFilter, action_types, job_ids
from app.marketplace.tables import jobs
from app.models.user.marketplace_job import MarketplaceJob
from app.ui.context import UiContext
from app.ui.jobs_model import COLUMNS, JOB_ID_ROLE, PLACEHOLDER, STATUS_COLOURS, JobsTableModel
from app.ui.jobs_page import JobsPage
from tests.ui.conftest import signal_future

Errors = list[tuple[str, BaseException]]
STATUS = COLUMNS.index("Status")
ERROR = COLUMNS.index("Error")


async def until(condition: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Poll ``condition`` on the running loop (Qt keeps working meanwhile)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def settle(ctx: UiContext, model: JobsTableModel) -> None:
    """Wait until every event reached the model and no page task is left."""
    await until(lambda: not model.busy, "the model to apply its events")
    await ctx.drain()


def ids_in_db(db: Database, job_filter: JobFilter) -> list[int]:
    with db.bind(readonly=True).connect() as conn:
        return job_ids(conn, job_filter)


def status(model: JobsTableModel, job_id: int) -> str | None:
    row = model.row_of(job_id)
    job = model.job(row) if row is not None else None
    return job.status if job is not None else None


@pytest.fixture
def service(db: Database) -> MarketplaceJobService:
    return MarketplaceJobService(db)


@pytest.fixture
def model_failures(qtlog: Any) -> Iterator[Callable[[], list[str]]]:
    """What QAbstractItemModelTester (Warning mode) reported (pytest-qt also fails a test
    on its own when the tester reports anything)."""
    yield lambda: [r.message for r in qtlog.records if "FAIL!" in r.message]


def account_jobs(service: MarketplaceJobService, n: int, **input_data: Any) -> list[int]:
    """``n`` account-level sync jobs, cycling through the marketplaces."""
    marketplaces = ("ebay", "etsy", "vinted")
    return [
        service.create_job(marketplaces[i % 3], "sync", input_data={**input_data, "n": i}).id
        for i in range(n)
    ]


class SteppedHandler(BaseJobHandler):
    """Two steps: photos upload, then an offer the marketplace refuses."""

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        async def upload() -> dict[str, Any]:
            return {"photos": 2}

        async def offer() -> dict[str, Any]:
            raise PermanentJobError("offer refused: price below minimum")

        await self.step("upload_photos", upload)
        await self.step("create_offer", offer)
        return {"success": True}


# -- the model ------------------------------------------------------------------------------
async def test_model_passes_the_item_model_tester_through_loads_and_events(
    ctx: UiContext,
    db: Database,
    service: MarketplaceJobService,
    errors: Errors,
    model_failures: Callable[[], list[str]],
) -> None:
    ids = account_jobs(service, 24)
    with db.bind().begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == ids[3])
            .values(status="failed", error_message="listing rejected\nHTTP 400: title too long")
        )
    model = JobsTableModel(ctx)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    await model.refresh()
    await model.load_rows(0, 23)

    assert (model.rowCount(), model.columnCount()) == (24, len(COLUMNS))
    assert list(model.ids) == sorted(ids, reverse=True)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(9)] == list(COLUMNS)
    top = model.index(0, 0)
    assert top.data() == ids[-1] and top.data(JOB_ID_ROLE) == ids[-1]
    assert model.index(0, 1).data() == "Vinted"  # the 24th job: eBay, Etsy, Vinted in turn
    assert model.index(0, 2).data() == "sync"
    failed = model.row_of(ids[3])
    assert failed is not None
    assert model.index(failed, ERROR).data() == "listing rejected"
    assert model.index(failed, 3).data(Qt.ItemDataRole.ToolTipRole) == (
        "listing rejected\nHTTP 400: title too long"
    )
    colour = model.index(failed, STATUS).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(colour, QColor) and colour == STATUS_COLOURS["failed"]

    # events under the tester: inserts at the top, an in-place update, a removal
    resets = signal_future(model.modelReset)
    inserted = signal_future(model.rowsInserted)
    new = account_jobs(service, 3, batch=2)
    await asyncio.wait_for(inserted, 5)
    await until(lambda: model.rowCount() == 27, "three rows inserted")
    assert list(model.ids[:3]) == sorted(new, reverse=True)
    changed = signal_future(model.dataChanged)
    service.cancel_job(ids[0])
    await asyncio.wait_for(changed, 5)
    await until(lambda: status(model, ids[0]) == "cancelled", "the cancelled status")
    assert not resets.done()  # events never reset the model

    await model.refresh(JobFilter(status="pending"))
    await model.load_rows(0, model.rowCount() - 1)
    assert model.rowCount() == 25
    removed = signal_future(model.rowsRemoved)
    service.pause_job(new[0])
    await asyncio.wait_for(removed, 5)
    assert model.row_of(new[0]) is None and model.rowCount() == 24
    await settle(ctx, model)
    assert model_failures() == []
    assert errors == []
    del tester


async def test_model_follows_the_processor_without_resets(
    ctx: UiContext,
    db: Database,
    service: MarketplaceJobService,
    handlers: dict[str, type[BaseJobHandler]],
    errors: Errors,
) -> None:
    first = service.create_job("ebay", "sync").id
    model = JobsTableModel(ctx)
    await model.refresh()
    resets = signal_future(model.modelReset)

    inserted = signal_future(model.rowsInserted)
    failing = service.create_job("etsy", "sync", input_data={"fail": "permanent"}).id
    assert (await asyncio.wait_for(inserted, 5))[1:] == (0, 0)  # at the top
    assert list(model.ids) == [failing, first]

    changed = signal_future(model.dataChanged)
    processor = MarketplaceJobProcessor(db, handlers=handlers)
    try:
        while await processor.process_next_job() is not None:
            pass
    finally:
        await processor.close()
    await asyncio.wait_for(changed, 5)
    await until(
        lambda: (status(model, first), status(model, failing)) == ("completed", "failed"),
        "completed and failed statuses",
    )
    row = model.row_of(failing)
    assert row is not None
    assert model.index(row, ERROR).data(Qt.ItemDataRole.ToolTipRole) == (
        "listing rejected: title too long"
    )
    assert model.index(row, 6).data() == 1  # attempts

    # a job that leaves the status filter goes, one that enters it comes back
    await model.refresh(JobFilter(status="failed"))
    assert list(model.ids) == [failing]
    resets = signal_future(model.modelReset)
    removed = signal_future(model.rowsRemoved)
    service.retry_job(failing)
    await asyncio.wait_for(removed, 5)
    assert model.rowCount() == 0
    with db.bind().begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == failing).values(status="failed"))
    inserted = signal_future(model.rowsInserted)
    ctx.relay.jobChanged.emit(failing, "etsy", "failed")
    await asyncio.wait_for(inserted, 5)
    assert list(model.ids) == [failing]
    await settle(ctx, model)
    assert not resets.done()
    assert errors == []


async def test_model_reads_only_what_is_shown(ctx: UiContext, db: Database, errors: Errors) -> None:
    with db.bind().begin() as conn:
        action = conn.execute(
            select(action_types.c.id).where(
                action_types.c.marketplace == "ebay", action_types.c.code == "sync"
            )
        ).scalar_one()
        now = utcnow()
        conn.execute(
            insert(jobs),
            [
                {
                    "marketplace": "ebay",
                    "action_type_id": action,
                    "idempotency_key": f"many-{i}",
                    "status": "completed",
                    "created_at": now - timedelta(seconds=i),
                    "run_at": now,
                }
                for i in range(3000)
            ],
        )
    page = JobsPage(ctx)
    page.resize(900, 600)
    page.show()
    await page.refresh()
    model = page.model
    assert model.rowCount() == 3000
    assert model.is_loaded(0, 20) and not model.is_loaded(2900, 2999)
    assert model.index(2999, 1).data() == PLACEHOLDER  # asks for the rows, shows a placeholder
    assert model.index(2999, 0).data() == model.job_id(2999)  # the id is known already
    loaded = signal_future(model.rowsLoaded)
    page.table.scrollToBottom()
    await asyncio.wait_for(loaded, 5)
    await until(lambda: model.is_loaded(2980, 2999), "the bottom rows")
    assert model.index(2999, 1).data() == "eBay"
    assert page.count_label.text() == "3,000 jobs"
    await settle(ctx, model)
    assert errors == []


# -- the page -------------------------------------------------------------------------------
async def test_cancel_retry_pause_resume_reach_the_database(
    ctx: UiContext, service: MarketplaceJobService, errors: Errors
) -> None:
    a, b, c = account_jobs(service, 3)
    page = JobsPage(ctx)
    page.show()
    await page.refresh()
    assert not page.steer_actions["cancel"].isEnabled()

    page.select_jobs([a, b])
    assert page.selected_ids() == [b, a] and page.steer_actions["cancel"].isEnabled()
    report = await page.steer_selected("cancel")
    assert report.done == (b, a)
    assert {service.get_job(i).status for i in (a, b)} == {"cancelled"}
    assert page.status_label.text() == "Cancelled 2 jobs."

    page.select_jobs([a])
    page.table.setFocus()
    QTest.keyClick(page.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Retry
    await until(lambda: service.get_job(a).status == "pending", "the retry")
    await ctx.drain()
    assert page.status_label.text() == f"Queued again job {a}."

    page.select_jobs([a, b])
    page.buttons["pause"].click()
    await until(lambda: page.status_label.text().startswith("Paused"), "the pause")
    await ctx.drain()
    assert service.get_job(a).status == "paused"
    assert page.status_label.text() == (
        f"Paused job {a}. Refused: Job {b} is cancelled and cannot be paused."
    )

    page.select_jobs([a, c])
    page.steer_actions["resume"].trigger()
    await until(lambda: page.status_label.text().startswith("Resumed"), "the resume")
    await ctx.drain()
    assert service.get_job(a).status == "pending"
    assert page.status_label.text().startswith(f"Resumed job {a}. Refused: Job {c} is pending")

    page.select_jobs([c])
    QTest.keyClick(page.table, Qt.Key.Key_Delete)  # Cancel
    await until(lambda: service.get_job(c).status == "cancelled", "the cancel by Del")
    await settle(ctx, page.model)
    await until(lambda: status(page.model, c) == "cancelled", "the table to follow")
    assert errors == []


async def test_filters_choose_the_rows(
    ctx: UiContext,
    service: MarketplaceJobService,
    make_products: Callable[[int], list[int]],
    errors: Errors,
) -> None:
    account_jobs(service, 6)
    (product,) = make_products(1)
    published = service.create_job("etsy", "publish", product_id=product).id
    service.cancel_job(published)
    page = JobsPage(ctx)
    await page.refresh()
    assert page.count_label.text() == "7 jobs"
    assert page.action_filter.findData("publish") > 0

    def choose(combo: Any, value: str | None) -> None:
        combo.setCurrentIndex(combo.findData(value))

    async def shown() -> list[int]:
        await ctx.drain()
        await settle(ctx, page.model)
        expected = ids_in_db(ctx.db, page.current_filter())
        assert list(page.model.ids) == expected
        return expected

    choose(page.marketplace_filter, "etsy")
    assert len(await shown()) == 3
    choose(page.action_filter, "publish")
    assert await shown() == [published]
    choose(page.status_filter, "pending")
    assert await shown() == []
    assert page.count_label.text() == "0 jobs"
    page.set_filter(JobFilter(status="pending"))
    assert len(await shown()) == 6
    assert page.model.job_filter == JobFilter(status="pending")
    assert errors == []


async def test_detail_pane_shows_input_result_error_and_steps(
    ctx: UiContext, db: Database, service: MarketplaceJobService, errors: Errors
) -> None:
    job = service.create_job("vinted", "sync", input_data={"title": "Leather boots"}).id
    processor = MarketplaceJobProcessor(db, handlers={"sync_vinted": SteppedHandler})
    try:
        await processor.process_next_job()
    finally:
        await processor.close()
    assert service.get_job(job).status == "failed"
    other = service.create_job("ebay", "sync").id

    page = JobsPage(ctx)
    page.show()
    await page.refresh()
    page.select_jobs([job])
    steps = page.detail_steps
    await until(lambda: steps.rowCount() == 2, "the steps")
    cells = [[steps.item(r, c).text() for c in range(5)] for r in range(2)]
    assert cells[0][:3] == ["upload_photos", "completed", "1"]
    assert '"photos": 2' in cells[0][3]
    assert cells[1][:3] == ["create_offer", "failed", "1"]
    assert cells[1][4] == "offer refused: price below minimum"
    assert '"title": "Leather boots"' in page.detail_input.toPlainText()
    assert page.detail_error.toPlainText() == "offer refused: price below minimum"
    assert page.detail_title.text().startswith(f"Job {job}: sync on Vinted, failed")

    service.retry_job(job)  # the pane follows the job's changes
    await until(lambda: ", pending," in page.detail_title.text(), "the detail to follow")
    page.select_jobs([other])
    await until(lambda: steps.rowCount() == 0, "the other job's detail")
    assert page.detail_result.toPlainText() == ""
    assert page.detail_title.text().startswith(f"Job {other}: sync on eBay, pending")
    await settle(ctx, page.model)
    assert errors == []


def test_job_ids_on_a_session(db: Database, service: MarketplaceJobService) -> None:
    ids = account_jobs(service, 4)
    with db.session(readonly=True) as session:
        assert job_ids(session) == sorted(ids, reverse=True)
        assert job_ids(session, JobFilter(marketplace="etsy", action="sync")) == [ids[1]]
