"""orders_vinted: sold orders since the last sync, stored one line per order.

Vinted lists sold orders newest first; the handler reads pages until it reaches orders
older than the stored cursor minus a look-back window (so that status changes of recent
orders are refreshed too; the first sync goes back 90 days), then stores the lines and the
new cursor together. Times are kept in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.marketplace.orders import OrderLine
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler, price_of

PER_PAGE = 20
LOOK_BACK = timedelta(days=14)
#: How far back the first sync reads (a big seller's whole history is hundreds of pages).
FIRST_SYNC = timedelta(days=90)


def utc_time(value: Any) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (a time without zone is taken as UTC)."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def sold_at(order: dict[str, Any]) -> datetime | None:
    """When the order was sold (UTC), or None when the plugin did not say."""
    return utc_time(order.get("sold_at"))


def order_line(order: dict[str, Any]) -> OrderLine:
    """A Vinted order (one item per order) as an order line."""
    order_id = str(order["order_id"])
    return OrderLine(
        order_id=order_id,
        line_id=order_id,
        quantity=1,
        listing_id=str(order["item_id"]) if order.get("item_id") is not None else None,
        title=order.get("title"),
        price=price_of(order.get("price")),
        currency=order.get("currency"),
        buyer=order.get("buyer"),
        status=order.get("status"),
        ordered_at=sold_at(order),
        raw=order,
    )


class OrdersVintedHandler(VintedJobHandler):
    """Fetch the seller's sold Vinted orders."""

    action_code = "orders"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        cursor = utc_time(await self.orders_cursor())
        oldest = cursor - LOOK_BACK if cursor else datetime.now(UTC) - FIRST_SYNC

        def too_old(page: list[dict[str, Any]]) -> bool:
            return any((when := sold_at(order)) is not None and when < oldest for order in page)

        sold = await self.pages("sold_orders", "orders", PER_PAGE, stop=too_old)
        lines = [
            order_line(order)
            for order in sold.entries
            if (when := sold_at(order)) is None or when >= oldest
        ]
        newest = max(
            (line.ordered_at for line in lines if line.ordered_at is not None),
            default=cursor,
        )
        if cursor is not None and newest is not None and newest < cursor:
            newest = cursor  # the cursor never moves back
        new_cursor = newest.isoformat() if newest is not None else ""
        return await self.finish_order_sync(lines, len(lines), new_cursor)
