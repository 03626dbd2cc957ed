"""The seeds' scenarios: job creation and processing per marketplace, action types, errors, shims."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
from sqlalchemy import text

from app.db import Database
from app.marketplace import ALL_HANDLERS, MarketplaceJobProcessor, MarketplaceJobService
from app.marketplace.base_handler import BaseJobHandler
from app.models import JobStatus
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_job_stats import MarketplaceEnum, MarketplaceJobStats
from app.vinted.vinted_job_processor import VintedJobProcessor
from app.vinted.vinted_job_service import VintedJobService

Handlers = dict[str, type[BaseJobHandler]]
EXPECTED_ACTIONS = {
    ("vinted", "message", "Respond to message", 1, 1000, 3, 30),
    ("vinted", "orders", "Fetch orders", 3, 1500, 3, 60),
    ("vinted", "publish", "Publish product", 3, 2500, 3, 120),
    ("vinted", "update", "Update product", 3, 2000, 3, 60),
    ("vinted", "delete", "Delete product", 4, 2000, 3, 30),
    ("vinted", "sync", "Sync products", 4, 1500, 3, 300),
    ("vinted", "link_product", "Link Product", 3, 500, 3, 120),
}


def test_seventeen_action_types(db: Database) -> None:
    with db.session() as session:
        rows = session.execute(
            text(
                "SELECT marketplace, code, name FROM marketplace_action_types ORDER BY marketplace, code"
            )
        ).all()
        assert len(rows) == 17
        by_mp = {
            mp: sorted(code for m, code, _ in rows if m == mp) for mp in ("vinted", "ebay", "etsy")
        }
        assert by_mp["vinted"] == sorted(
            ["message", "orders", "publish", "update", "delete", "sync", "link_product"]
        )
        for mp in ("ebay", "etsy"):
            assert by_mp[mp] == sorted(["publish", "update", "delete", "sync", "sync_orders"])
        vinted = {
            (
                a.marketplace,
                a.code,
                a.name,
                a.priority,
                a.rate_limit_ms,
                a.max_retries,
                a.timeout_seconds,
            )
            for a in session.query(MarketplaceActionType).filter_by(marketplace="vinted")
        }
        assert vinted == EXPECTED_ACTIONS
        sync = (
            session.query(MarketplaceActionType)
            .filter_by(marketplace="ebay", code="sync_orders")
            .one()
        )
        assert (sync.priority, sync.rate_limit_ms, sync.max_retries, sync.timeout_seconds) == (
            2,
            2000,
            3,
            300,
        )


@pytest.mark.parametrize("marketplace", ["vinted", "ebay", "etsy"])
async def test_create_and_process_per_marketplace(
    db: Database, make_products: Callable[[int], list[int]], handlers: Handlers, marketplace: str
) -> None:
    (product,) = make_products(1)
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace=marketplace, action_code="publish", product_id=product)
    assert job.marketplace == marketplace
    assert job.status == JobStatus.PENDING
    processor = MarketplaceJobProcessor(
        db, user_id=1, shop_id=123, marketplace=marketplace, handlers=handlers
    )
    result = await processor.process_next_job()
    await processor.close()
    assert result is not None
    assert result["success"]
    assert set(result) >= {
        "job_id",
        "marketplace",
        "action",
        "success",
        "status",
        "error",
        "will_retry",
        "retry_count",
        "duration_ms",
    }
    assert (result["job_id"], result["marketplace"], result["action"], result["status"]) == (
        job.id,
        marketplace,
        "publish",
        "completed",
    )
    assert service.get_job(job.id).status == JobStatus.COMPLETED
    assert await processor.process_next_job() is None


def test_invalid_action_code_message(db: Database) -> None:
    service = MarketplaceJobService(db)
    with pytest.raises(ValueError, match=r"^Invalid action code: message for marketplace: ebay$"):
        service.create_job(marketplace="ebay", action_code="message")


def test_unknown_product_and_marketplace_are_clear(db: Database) -> None:
    service = MarketplaceJobService(db)
    with pytest.raises(ValueError, match=r"Unknown product: 999"):
        service.create_job(marketplace="ebay", action_code="publish", product_id=999)
    with pytest.raises(ValueError, match=r"Unknown marketplace: amazon"):
        service.create_job(marketplace="amazon", action_code="publish", product_id=1)
    with pytest.raises(ValueError, match=r"needs a product"):
        service.create_job(marketplace="etsy", action_code="publish")


async def test_unknown_action_fails_the_job(
    db: Database, make_products: Callable[[int], list[int]]
) -> None:
    (product,) = make_products(1)
    service = MarketplaceJobService(db)
    job = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    # a registry without the handler, as for an action added by a newer migration
    registry = {key: cls for key, cls in ALL_HANDLERS.items() if key != "publish_ebay"}
    processor = MarketplaceJobProcessor(db, marketplace="ebay", handlers=registry)
    result = await processor.process_next_job()
    await processor.close()
    assert result is not None
    assert result["status"] == "failed"
    assert result["error"] == "Unknown action: publish_ebay"
    assert not result["will_retry"]
    assert service.get_job(job.id).error_message == "Unknown action: publish_ebay"


async def test_marketplace_filter_and_priority(
    db: Database, make_products: Callable[[int], list[int]], handlers: Handlers
) -> None:
    p1, p2, p3 = make_products(3)
    service = MarketplaceJobService(db)
    ebay = service.create_job(marketplace="ebay", action_code="publish", product_id=p1)
    vinted_low = service.create_job(marketplace="vinted", action_code="delete", product_id=p2)
    vinted_urgent = service.create_job(
        marketplace="vinted", action_code="message", input_data={"thread": 7}
    )
    etsy = service.create_job(marketplace="etsy", action_code="publish", product_id=p3, priority=1)

    only_vinted = MarketplaceJobProcessor(db, marketplace="vinted", handlers=handlers)
    first = await only_vinted.process_next_job()
    second = await only_vinted.process_next_job()
    assert first is not None and second is not None
    assert [first["job_id"], second["job_id"]] == [vinted_urgent.id, vinted_low.id]
    assert await only_vinted.process_next_job() is None
    await only_vinted.close()

    everything = MarketplaceJobProcessor(db, handlers=handlers)
    order = [(await everything.process_next_job() or {}).get("job_id") for _ in range(3)]
    await everything.close()
    assert order == [etsy.id, ebay.id, None]


def test_idempotent_creation(db: Database, make_products: Callable[[int], list[int]]) -> None:
    (product,) = make_products(1)
    service = MarketplaceJobService(db)
    first = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    again = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    other_market = service.create_job(marketplace="etsy", action_code="publish", product_id=product)
    assert again.id == first.id
    assert other_market.id != first.id
    assert service.count_by_status()["pending"] == 2
    service.cancel_job(first.id)
    fresh = service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    assert fresh.id != first.id


async def test_legacy_shims_warn_and_work(
    db: Database, make_products: Callable[[int], list[int]], handlers: Handlers
) -> None:
    (product,) = make_products(1)
    with pytest.warns(DeprecationWarning, match="VintedJobService is deprecated"):
        service = VintedJobService(db)
    job = service.create_job(action_code="publish", product_id=product)
    assert job.marketplace == "vinted"
    legacy_default = MarketplaceJobService(db).create_job(action_code="sync")
    assert legacy_default.marketplace == "vinted"
    with pytest.warns(DeprecationWarning, match="VintedJobProcessor is deprecated"):
        processor = VintedJobProcessor(db, user_id=1, shop_id=123, handlers=handlers)
    assert processor.marketplace == "vinted"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = await processor.process_next_job()
    await processor.close()
    assert result is not None and result["success"] and result["marketplace"] == "vinted"


async def test_stats_filtered_by_marketplace(
    db: Database, make_products: Callable[[int], list[int]], handlers: Handlers
) -> None:
    products = make_products(5)
    service = MarketplaceJobService(db)
    for product in products[:3]:
        service.create_job(marketplace="ebay", action_code="publish", product_id=product)
    service.create_job(marketplace="etsy", action_code="publish", product_id=products[3])
    service.create_job(
        marketplace="etsy",
        action_code="delete",
        product_id=products[4],
        input_data={"fail": "permanent"},
    )
    processor = MarketplaceJobProcessor(db, handlers=handlers)
    while await processor.process_next_job() is not None:
        pass
    await processor.close()

    ebay = service.get_stats(marketplace="ebay")
    assert [(s.marketplace, s.total_jobs, s.success_count, s.failure_count) for s in ebay] == [
        ("ebay", 3, 3, 0)
    ]
    etsy = service.get_stats(days=1, marketplace=MarketplaceEnum.ETSY)
    assert sorted((s.total_jobs, s.success_count, s.failure_count) for s in etsy) == [
        (1, 0, 1),
        (1, 1, 0),
    ]
    assert all(isinstance(s, MarketplaceJobStats) for s in service.get_stats())
    assert sum(s.total_jobs for s in service.get_stats()) == 5
    assert service.get_stats(marketplace="vinted") == []
