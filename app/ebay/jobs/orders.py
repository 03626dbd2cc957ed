"""sync_orders_ebay: orders changed since the stored cursor, saved line by line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.ebay.jobs.base import EbayJobHandler
from app.ebay.jobs.fields import amount
from app.marketplace.orders import OrderLine
from app.models.user.marketplace_job import MarketplaceJob

#: How far back the first order sync looks.
FIRST_SYNC = timedelta(days=30)


def parse_time(value: Any) -> datetime | None:
    """An eBay timestamp (``2026-11-23T10:00:00.000Z``) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def order_lines(order: dict[str, Any]) -> list[OrderLine]:
    """The lines of one eBay order."""
    lines = []
    for item in order.get("lineItems") or []:
        price, currency = amount(item.get("lineItemCost"))
        lines.append(
            OrderLine(
                order_id=str(order.get("orderId")),
                line_id=str(item.get("lineItemId")),
                quantity=int(item.get("quantity") or 1),
                listing_id=str(item["legacyItemId"]) if item.get("legacyItemId") else None,
                sku=item.get("sku"),
                title=item.get("title"),
                price=price,
                currency=currency,
                buyer=(order.get("buyer") or {}).get("username"),
                status=order_status(order),
                ordered_at=parse_time(order.get("creationDate")),
                modified_at=parse_time(order.get("lastModifiedDate")),
                raw=order,
            )
        )
    return lines


def order_status(order: dict[str, Any]) -> str | None:
    """The order's state in one word: a cancelled or refunded order says so (the
    fulfillment status alone never does), else its fulfillment status."""
    if str((order.get("cancelStatus") or {}).get("cancelState") or "").upper() == "CANCELED":
        return "CANCELLED"
    if str(order.get("orderPaymentStatus") or "").upper() == "FULLY_REFUNDED":
        return "REFUNDED"
    fulfillment = order.get("orderFulfillmentStatus")
    return str(fulfillment) if fulfillment is not None else None


class SyncOrdersEbayHandler(EbayJobHandler):
    """Fetch new and changed eBay orders."""

    action_code = "sync_orders"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        client = await self.ebay()
        stored = parse_time(await self.orders_cursor())
        given = parse_time((job.input_data or {}).get("since"))
        since = given or stored or datetime.now(UTC) - FIRST_SYNC
        lines: list[OrderLine] = []
        orders = 0
        newest = since
        async for order in client.orders_modified_since(since):
            orders += 1
            lines.extend(order_lines(order))
            modified = parse_time(order.get("lastModifiedDate"))
            if modified is not None and modified > newest:
                newest = modified
        return await self.finish_order_sync(lines, orders, newest.isoformat())
