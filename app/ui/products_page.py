"""The Products page: the catalog as a table, with New, Edit, Delete, Import and Export.

The table shows every product and where it is listed ("eBay: active, Vinted: draft");
it can be sorted by any column and filtered as you type; Cross-list… opens
:class:`app.ui.crosslist_dialog.CrosslistDialog` on the selected products. Shortcuts:
Ctrl+N new, Enter or double-click edit, Del delete (after a confirmation), Ctrl+F filter.
Dialogs open without blocking (``open()``), so the event loop and the tests keep running;
tests call :meth:`ProductsPage.open_editor`, :meth:`ProductsPage.open_import`,
:meth:`ProductsPage.open_crosslist`, :meth:`ProductsPage.delete_products` and
:meth:`ProductsPage.export_to` directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.catalog.csv_io import export_file
from app.catalog.store import CatalogStore, ProductRow
from app.catalog.validation import CONDITION_LABELS, CatalogError, format_price
from app.ui.context import UiContext, show_error
from app.ui.crosslist_dialog import CrosslistDialog
from app.ui.csv_import_dialog import CsvImportDialog
from app.ui.lazy_refresh import LazyRefresh
from app.ui.product_editor import ProductEditor
from app.ui.rows_model import RowsModel, row_table

COLUMNS: tuple[str, ...] = (
    "Id",
    "Title",
    "Price",
    "Qty",
    "SKU",
    "Brand",
    "Size",
    "Condition",
    "Listed on",
)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
LAST_CSV_DIR_KEY = "products/csv_dir"
REFRESH_DELAY_MS = 800
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_Index = QModelIndex | QPersistentModelIndex


class ProductsModel(RowsModel[ProductRow]):
    """The products as table rows (``UserRole``: the product id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)

    @staticmethod
    def text(row: ProductRow, column: int) -> str:
        """What column ``column`` shows for ``row``."""
        values = (
            str(row.id),
            row.title,
            f"{format_price(row.price)} {row.currency}",
            str(row.quantity),
            row.sku or "",
            row.brand or "",
            row.size or "",
            CONDITION_LABELS.get(row.condition or "", row.condition or ""),
            row.listed_on,
        )
        return values[column]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        if role == SORT_ROLE:
            if column == 0:
                return row.id
            if column == 2:
                return float(row.price)
            if column == 3:
                return row.quantity
            return self.text(row, column).lower()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 2, 3):
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == 1 and row.description:
            return row.description[:500]
        return None


class ProductsPage(QWidget):
    """The catalog page (``photos_dir``: where product photos are stored)."""

    #: A refresh finished (the table shows the catalog as it is now).
    refreshed = Signal()
    #: Products were saved, deleted or imported from this page.
    productsChanged = Signal()

    def __init__(self, ctx: UiContext, photos_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.photos_dir = photos_dir
        self.store = CatalogStore(ctx.db, photos_dir, ctx.user_id)
        self.editor: ProductEditor | None = None
        self.import_dialog: CsvImportDialog | None = None
        self.crosslist_dialog: CrosslistDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.file_dialog: QFileDialog | None = None
        self.setObjectName("productsPage")

        self.model = ProductsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = row_table("productsTable", self.proxy)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.filter = QLineEdit()
        self.filter.setObjectName("productsFilter")
        self.filter.setPlaceholderText("Filter (Ctrl+F)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.status = QLabel("")
        self.status.setObjectName("productsStatus")

        self.new_button = self._button("New", "newProduct", "Ctrl+N", self.new_product)
        self.edit_button = self._button("Edit", "editProduct", "Enter", self.edit_selected)
        self.delete_button = self._button("Delete", "deleteProduct", "Del", self.delete_selected)
        self.import_button = self._button("Import CSV…", "importCsv", "", self.choose_import)
        self.export_button = self._button("Export CSV…", "exportCsv", "", self.choose_export)
        self.crosslist_button = self._button(
            "Cross-list…",
            "crosslist",
            "",
            lambda: self.ctx.spawn(self.open_crosslist(), "Opening cross-listing"),
        )
        self.new_action = self._action(
            "New product", QKeySequence.StandardKey.New, self.new_product
        )
        self.delete_action = self._action(
            "Delete products", QKeySequence.StandardKey.Delete, self.delete_selected
        )
        self.find_action = self._action("Filter", QKeySequence.StandardKey.Find, self._find)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.edit_selected)

        buttons = QHBoxLayout()
        for button in (
            self.new_button,
            self.edit_button,
            self.delete_button,
            self.import_button,
            self.export_button,
            self.crosslist_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.filter)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)

        self.lazy = LazyRefresh(self, self._spawn_refresh, REFRESH_DELAY_MS)
        ctx.relay.jobChanged.connect(self._job_changed)
        self._selection_changed()

    def _button(self, text: str, name: str, key: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(f"{text.rstrip('…')} ({key})" if key else text.rstrip("…"))
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _action(self, text: str, key: QKeySequence.StandardKey, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _find(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    # -- loading ------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload the catalog (the selection is kept)."""
        rows = await self.ctx.run(self.store.list_products)
        selected = set(self.selected_ids())
        self.model.set_rows(rows)
        self.select_ids(selected)
        self.status.setText(f"{len(rows)} product(s)")
        self.refreshed.emit()

    def _spawn_refresh(self) -> None:
        self.ctx.spawn(self.refresh(), "Loading products")

    def _job_changed(self, _job_id: int, _marketplace: str, status: str) -> None:
        if status not in ("completed", "failed"):
            return
        self.lazy.request()  # listings may have changed

    def _changed(self, *_args: Any) -> None:
        self.productsChanged.emit()
        self._spawn_refresh()

    # -- selection ----------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """The ids of the selected products, in table order."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [int(self.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole)) for row in rows]

    def select_ids(self, ids: set[int] | list[int]) -> None:
        """Select the products ``ids`` (those shown)."""
        wanted = set(ids)
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(Qt.ItemDataRole.UserRole) in wanted:
                selection.select(index, flags)
                selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)

    def row_of(self, product_id: int) -> ProductRow | None:
        """The loaded product ``product_id``."""
        return next((row for row in self.model.rows if row.id == product_id), None)

    def _selection_changed(self, *_args: Any) -> None:
        count = len(self.table.selectionModel().selectedRows())
        self.edit_button.setEnabled(count == 1)
        self.delete_button.setEnabled(count > 0)
        self.crosslist_button.setEnabled(count > 0)

    # -- editing ------------------------------------------------------------------------
    def new_product(self) -> ProductEditor:
        """Open the editor on a new product."""
        return self.open_editor(None)

    def edit_selected(self) -> ProductEditor | None:
        """Open the editor on the selected product (None when not exactly one)."""
        ids = self.selected_ids()
        row = self.row_of(ids[0]) if len(ids) == 1 else None
        if row is None:
            self.status.setText("Select one product to edit")
            return None
        return self.open_editor(row)

    def open_editor(self, product: ProductRow | None) -> ProductEditor:
        """Show the editor (non-blocking); saving refreshes the table."""
        if self.editor is not None:
            self.editor.close()
            self.editor.deleteLater()
        editor = ProductEditor(self.ctx, self.photos_dir, product, self)
        editor.saved.connect(self._saved)
        self.editor = editor
        editor.open()
        return editor

    def _saved(self, product_id: int) -> None:
        self.status.setText(f"Saved product {product_id}")
        self.productsChanged.emit()
        self.ctx.spawn(self._refresh_selecting(product_id), "Loading products")

    async def _refresh_selecting(self, product_id: int) -> None:
        await self.refresh()
        self.select_ids([product_id])

    # -- deleting -----------------------------------------------------------------------
    def delete_selected(self) -> QMessageBox | None:
        """Ask to confirm deleting the selected products (a non-blocking message box)."""
        ids = self.selected_ids()
        if not ids:
            self.status.setText("Select the products to delete")
            return None
        if len(ids) == 1:
            row = self.row_of(ids[0])
            what = f"product {ids[0]}" + (f" ({row.title})" if row is not None else "")
        else:
            what = f"these {len(ids)} products"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete products",
            f"Delete {what} and their photos? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("confirmDelete")
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(button: Any) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self.ctx.spawn(self.delete_products(ids), "Deleting products")

        box.buttonClicked.connect(answered)
        self.confirm_box = box
        box.open()
        return box

    async def delete_products(self, ids: list[int]) -> bool:
        """Delete products (no confirmation); False, with the reason shown, when refused."""
        try:
            await self.ctx.run(self.store.delete, *ids)
        except CatalogError as exc:
            self.status.setText(f"Nothing was deleted: {exc}")
            show_error(self, "Cannot delete", str(exc))
            return False
        self.status.setText(f"Deleted {len(ids)} product(s)")
        self.productsChanged.emit()
        await self.refresh()
        return True

    # -- cross-listing ------------------------------------------------------------------
    async def open_crosslist(self) -> CrosslistDialog | None:
        """Show the cross-listing dialog on the selected products; once loaded, return it.

        Price rules are kept in the data directory (none without a running workbench).
        """
        ids = self.selected_ids()
        if not ids:
            self.status.setText("Select the products to cross-list")
            return None
        if self.crosslist_dialog is not None:
            self.crosslist_dialog.close()
            self.crosslist_dialog.deleteLater()
        workbench = self.ctx.workbench
        dialog = CrosslistDialog(self.ctx, ids, workbench.data_dir if workbench else None, self)
        self.crosslist_dialog = dialog
        dialog.open()
        await dialog.load()
        return dialog

    # -- CSV ----------------------------------------------------------------------------
    def _file_dialog(self, title: str, save: bool) -> QFileDialog:
        start = str(self.ctx.settings.value(LAST_CSV_DIR_KEY, "") or Path.home())
        dialog = QFileDialog(self, title, start, "CSV files (*.csv);;All files (*)")
        dialog.setObjectName("csvFileDialog")
        if save:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("csv")
            dialog.selectFile("products.csv")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        if self.file_dialog is not None:
            self.file_dialog.deleteLater()
        self.file_dialog = dialog
        return dialog

    def _remember_folder(self, path: Path) -> None:
        self.ctx.settings.setValue(LAST_CSV_DIR_KEY, str(path.parent))

    def choose_import(self) -> None:
        """Ask for a CSV file to import, then preview it."""
        dialog = self._file_dialog("Import products from CSV", save=False)
        dialog.fileSelected.connect(
            lambda name: self.ctx.spawn(self.open_import(Path(name)), "Reading a CSV file")
        )
        dialog.open()

    async def open_import(self, path: Path) -> CsvImportDialog:
        """Show the import preview of ``path``; once loaded, return the dialog."""
        self._remember_folder(path)
        if self.import_dialog is not None:
            self.import_dialog.close()
            self.import_dialog.deleteLater()
        dialog = CsvImportDialog(self.ctx, self.photos_dir, self)
        dialog.imported.connect(self._imported)
        self.import_dialog = dialog
        dialog.open()
        await dialog.load(path)
        return dialog

    def _imported(self, count: int) -> None:
        self.status.setText(f"Imported {count} product(s)")
        self._changed()

    def choose_export(self) -> None:
        """Ask where to write the CSV export, then write it."""
        dialog = self._file_dialog("Export products to CSV", save=True)
        dialog.fileSelected.connect(
            lambda name: self.ctx.spawn(self.export_to(Path(name)), "Exporting products")
        )
        dialog.open()

    async def export_to(self, path: Path) -> int | None:
        """Write every product to ``path``; how many (None, with the reason, on failure)."""
        self._remember_folder(path)
        try:
            count = await self.ctx.run(export_file, path, self.store)
        except (OSError, CatalogError) as exc:
            self.status.setText(f"Export failed: {exc}")
            show_error(self, "Export failed", f"Cannot write {path}: {exc}")
            return None
        self.status.setText(f"Exported {count} product(s) to {path}")
        return count
