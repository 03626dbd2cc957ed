"""sync_orders_etsy: receipts changed since the stored cursor, saved per transaction."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from app.etsy.jobs.base import EtsyJobHandler, money
from app.marketplace.orders import OrderLine
from app.models.user.marketplace_job import MarketplaceJob

FIRST_SYNC = timedelta(days=30)


def _time(epoch: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(epoch), UTC) if epoch is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def receipt_lines(receipt: dict[str, Any]) -> list[OrderLine]:
    """The lines (transactions) of one Etsy receipt."""
    lines = []
    for item in receipt.get("transactions") or []:
        price, currency = money(item.get("price"))
        lines.append(
            OrderLine(
                order_id=str(receipt.get("receipt_id")),
                line_id=str(item.get("transaction_id")),
                quantity=int(item.get("quantity") or 1),
                listing_id=str(item["listing_id"]) if item.get("listing_id") else None,
                sku=item.get("sku") or None,
                title=item.get("title"),
                price=price,
                currency=currency,
                buyer=receipt.get("name"),
                status=receipt.get("status"),
                ordered_at=_time(receipt.get("created_timestamp")),
                modified_at=_time(receipt.get("updated_timestamp")),
                raw=receipt,
            )
        )
    return lines


class SyncOrdersEtsyHandler(EtsyJobHandler):
    """Fetch new and changed Etsy receipts."""

    action_code = "sync_orders"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        client, shop_id = await self.etsy()
        stored = await self.orders_cursor()
        given = (job.input_data or {}).get("since_epoch")
        if given is not None:
            since = int(given)
        elif stored and stored.isdigit():
            since = int(stored)
        else:
            since = int(time.time() - FIRST_SYNC.total_seconds())
        lines: list[OrderLine] = []
        receipts = 0
        newest = since
        async for receipt in client.receipts_since(shop_id, since):
            receipts += 1
            lines.extend(receipt_lines(receipt))
            newest = max(newest, int(receipt.get("updated_timestamp") or 0))
        return await self.finish_order_sync(lines, receipts, str(newest))
