"""Tables of loaded rows: the model and view set-up the catalog and listings pages share.

:class:`RowsModel` holds a list of row objects and its column titles; a page subclasses it
for its own ``data()``. :func:`row_table` makes the sortable, read-only, row-selecting
table those pages show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

RowT = TypeVar("RowT")
Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel, Generic[RowT]):
    """Rows loaded at once (``set_rows``) under fixed column titles."""

    def __init__(self, columns: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.rows: list[RowT] = []

    def set_rows(self, rows: Sequence[RowT]) -> None:
        """Show ``rows`` instead of the current ones."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """How many rows are loaded."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """How many columns there are."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """The column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None


def row_table(name: str, model: QAbstractItemModel) -> QTableView:
    """A sortable, read-only table selecting whole rows (several with Ctrl/Shift)."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSortingEnabled(True)
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    return table
