"""orders_vinted: sold orders since the last sync, stored one line per order.

Vinted lists sold orders newest first; the handler reads pages until it reaches orders
older than the stored cursor minus a look-back window (so that status changes of recent
orders are refreshed too), then stores the lines and the new cursor together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.marketplace.orders import OrderLine
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler, price_of

PER_PAGE = 20
LOOK_BACK = timedelta(days=14)


def sold_at(order: dict[str, Any]) -> datetime | None:
    """When the order was sold (aware), or None when the plugin did not say."""
    try:
        return datetime.fromisoformat(str(order.get("sold_at")))
    except ValueError:
        return None


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
        cursor = await self.orders_cursor()
        stop_before = datetime.fromisoformat(cursor) - LOOK_BACK if cursor else None
        lines: list[OrderLine] = []
        newest = datetime.fromisoformat(cursor) if cursor else None
        page = 1
        while True:
            data = await self.vinted("sold_orders", {"page": page, "per_page": PER_PAGE})
            orders = [o for o in data.get("orders") or [] if isinstance(o, dict)]
            reached_old = False
            for order in orders:
                line = order_line(order)
                when = line.ordered_at
                if when is not None and stop_before is not None and when < stop_before:
                    reached_old = True
                    continue
                lines.append(line)
                if when is not None and (newest is None or when > newest):
                    newest = when
            total = data.get("total_pages")
            if reached_old or not orders or not isinstance(total, int) or page >= total:
                break
            page += 1
        new_cursor = newest.isoformat() if newest is not None else (cursor or "")
        return await self.finish_order_sync(lines, len(lines), new_cursor)
