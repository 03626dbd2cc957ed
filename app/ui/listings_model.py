"""The table model of the Listings page: one row per marketplace listing.

Rows are :class:`app.marketplace.listing_review.ListingView` objects loaded off the
window's thread; the "Product" column says which catalog product a listing is linked to,
or "unmatched", "ambiguous: 2 candidates", "dismissed".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from app.marketplace.job_forms import DISPLAY
from app.marketplace.listing_review import ListingView
from app.ui.rows_model import RowsModel

COLUMNS: tuple[str, ...] = (
    "Marketplace",
    "Listing",
    "Title",
    "Price",
    "Qty",
    "State",
    "Product",
    "Last synced",
)
ROW_ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PRODUCT_COLUMN = COLUMNS.index("Product")
#: Listings waiting for the seller stand out in the Product column.
_WAITING = QColor("#b26a00")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_Index = QModelIndex | QPersistentModelIndex


def synced_text(moment: datetime | None) -> str:
    """A sync time in the seller's local time ("" for never)."""
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


def listing_text(view: ListingView, column: int) -> str:
    """What column ``column`` shows for ``view``."""
    price = f"{view.price:.2f} {view.currency or ''}".rstrip() if view.price is not None else ""
    values = (
        DISPLAY.get(view.marketplace, view.marketplace),
        view.listing_id or (f"SKU {view.sku}" if view.sku else ""),
        view.title or "",
        price,
        "" if view.quantity is None else str(view.quantity),
        view.state.replace("_", " "),
        view.product_text,
        synced_text(view.last_synced_at),
    )
    return values[column]


class ListingsModel(RowsModel[ListingView]):
    """The listings as table rows (``ROW_ID_ROLE``: the listing row's id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def view(self, row_id: int) -> ListingView | None:
        """The loaded listing with row id ``row_id``."""
        return next((view for view in self.rows if view.id == row_id), None)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        view = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return listing_text(view, column)
        if role == ROW_ID_ROLE:
            return view.id
        if role == SORT_ROLE:
            if column == 3:
                return float(view.price) if view.price is not None else -1.0
            if column == 4:
                return view.quantity if view.quantity is not None else -1
            return listing_text(view, column).casefold()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4):
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column == PRODUCT_COLUMN:
            return QBrush(_WAITING) if view.status in ("unmatched", "ambiguous") else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == PRODUCT_COLUMN and view.matched_by == "title":
                return "Linked by the title and price rule"
            if column == PRODUCT_COLUMN and view.candidates:
                return "Candidates: " + ", ".join(f"#{pid}" for pid in view.candidates)
            if column in (1, 2) and view.url:
                return view.url
        return None
