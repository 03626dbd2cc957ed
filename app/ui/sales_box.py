"""The dashboard's sales: those needing attention (oversells, delists that finally failed),
and every recent sale with its follow-up jobs.

Loaded from the ``sales`` table at each refresh (:func:`app.inventory.alerts.needing_attention`)
and kept live from :attr:`app.ui.relay.EventRelay.saleAlert`: a new alert goes on top,
or replaces the line of its sale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGroupBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.events import SaleAlert
from app.marketplace.job_forms import DISPLAY
from app.ui.context import UiContext

if TYPE_CHECKING:
    from app.inventory.alerts import SaleLine, SaleNotice

ALERT_COLOUR = "#b3261e"
KIND_WORDS = {
    "oversell": "Oversold",
    "delist_failed": "Delist failed",
    "voided": "Cancelled or refunded",
}


def notice_text(kind: str, marketplace: str, order_id: str | None, message: str) -> str:
    """One line of the list: what happened, where, and what to do."""
    where = DISPLAY.get(marketplace, marketplace)
    if order_id:
        where += f" order {order_id}"
    return f"{KIND_WORDS.get(kind, kind)} — {where}: {message}"


def _kind(notice: SaleNotice) -> str:
    return "delist_failed" if notice.status == "delist_failed" else "oversell"


class SalesAttentionBox(QGroupBox):
    """Sales where a double sale happened or is at stake."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__("Sales needing attention", parent)
        self.ctx = ctx
        self.setObjectName("salesAttention")
        layout = QVBoxLayout(self)
        self.empty = QLabel("No oversold items and no failed delists.")
        self.empty.setObjectName("salesAttentionEmpty")
        self.list = QListWidget()
        self.list.setObjectName("salesAttentionList")
        self.list.setWordWrap(True)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        self._items: dict[int, QListWidgetItem] = {}
        self._show_empty()
        ctx.relay.saleAlert.connect(self.add_alert)

    def _show_empty(self) -> None:
        empty = self.list.count() == 0
        self.empty.setVisible(empty)
        self.list.setVisible(not empty)

    def _put(self, sale_id: int, text: str) -> None:
        item = self._items.get(sale_id)
        if item is None:
            item = QListWidgetItem(text)
            item.setForeground(QBrush(QColor(ALERT_COLOUR)))
            self.list.insertItem(0, item)
            self._items[sale_id] = item
        else:
            item.setText(text)
        item.setToolTip(text)

    def add_alert(self, alert: SaleAlert) -> None:
        """A live alert: on top of the list (or in its sale's line)."""
        self._put(alert.sale_id, notice_text(alert.kind, alert.marketplace, None, alert.message))
        self._show_empty()

    def texts(self) -> list[str]:
        """The lines shown, top first (tests)."""
        return [self.list.item(row).text() for row in range(self.list.count())]

    async def refresh(self) -> None:
        """Reload from the database."""

        def load() -> list[SaleNotice]:
            from app.inventory.alerts import needing_attention

            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                return needing_attention(session)

        notices = await self.ctx.run(load)
        self.list.clear()
        self._items.clear()
        for notice in reversed(notices):  # oldest first: each goes on top
            text = notice_text(_kind(notice), notice.marketplace, notice.order_id, notice.message)
            self._put(notice.sale_id, text)
        self._show_empty()


def sale_text(line: SaleLine) -> str:
    """One line of the recent sales: where, what, the stock, and each follow-up job."""
    where = f"{DISPLAY.get(line.marketplace, line.marketplace)} order {line.order_id}"
    stock = f"{line.quantity} sold ({line.quantity_before} \u2192 {line.quantity_after})"
    done = ", ".join(
        f"{DISPLAY.get(mp, mp)} {action} #{job_id} {status}"
        for mp, action, job_id, status in line.actions
    )
    return f"{where}: {line.title}, {stock} \u2014 {done or 'nothing else to do'} [{line.status}]"


class RecentSalesBox(QGroupBox):
    """Every recent sale and what Marketdesk did about it (reloaded with the dashboard)."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__("Recent sales", parent)
        self.ctx = ctx
        self.setObjectName("recentSales")
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setObjectName("recentSalesList")
        self.list.setWordWrap(True)
        layout.addWidget(self.list)

    def texts(self) -> list[str]:
        """The lines shown, newest first (tests)."""
        return [self.list.item(row).text() for row in range(self.list.count())]

    async def refresh(self) -> None:
        """Reload from the database."""

        def load() -> list[SaleLine]:
            from app.inventory.alerts import recent_sales

            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                return recent_sales(session)

        lines = await self.ctx.run(load)
        self.list.clear()
        for line in lines:
            self.list.addItem(sale_text(line))
        if not lines:
            self.list.addItem("No sale recorded yet: order syncs record each one here.")
