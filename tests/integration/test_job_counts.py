"""The dashboard's queue counts: every marketplace and status in one grouped query."""

from __future__ import annotations

from sqlalchemy import event

from app.db import Database
from app.marketplace import MarketplaceJobService
from app.marketplace.names import MARKETPLACE_VALUES, JobStatus


def test_counts_by_marketplace_match_the_counts_of_each(db: Database) -> None:
    service = MarketplaceJobService(db)
    made = {
        marketplace: [
            service.create_job(marketplace=marketplace, action_code=code, input_data={"n": n})
            for n, code in enumerate(
                ("sync", "sync_orders" if marketplace != "vinted" else "orders")
            )
        ]
        for marketplace in ("ebay", "etsy")
    }
    service.cancel_job(made["ebay"][0].id)
    statements: list[str] = []

    def note(conn: object, cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        counts = service.counts_by_marketplace()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert len(statements) == 1
    assert set(counts) == set(MARKETPLACE_VALUES)
    for marketplace in MARKETPLACE_VALUES:
        assert counts[marketplace] == service.count_by_status(marketplace)
        assert set(counts[marketplace]) == {status.value for status in JobStatus}
    assert counts["ebay"]["cancelled"] == 1 and counts["ebay"]["pending"] == 1
    assert counts["etsy"]["pending"] == 2
    assert sum(counts["vinted"].values()) == 0
