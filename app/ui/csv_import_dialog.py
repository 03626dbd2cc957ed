"""The CSV import dialog: a preview of every row, problems highlighted, then Import.

The file is read and checked off the window's thread (:func:`app.catalog.preview_file`)
and nothing changes until Import, which is enabled only when no row has a problem; the
seller fixes the file and presses Reload. Import adds every row in one transaction (all
or nothing). Tests drive it with ``await dialog.load(path)``, ``await dialog.reload()``
and ``await dialog.import_rows()``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.catalog.csv_io import COLUMNS, ImportPreview, PreviewRow, commit_import, preview_file
from app.catalog.store import CatalogStore
from app.catalog.validation import CatalogError
from app.ui.context import ERROR_STYLE, UiContext

ROW_ERROR = QColor("#fde7e9")
CELL_ERROR = QColor("#f4b4ba")
#: Table columns: the file's row number, each CSV column, the row's problems.
HEADERS: tuple[str, ...] = ("Row", *COLUMNS, "Problems")


class CsvImportDialog(QDialog):
    """Preview a CSV file and import it; emits :attr:`imported` with the new ids' count."""

    imported = Signal(int)

    def __init__(self, ctx: UiContext, photos_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store = CatalogStore(ctx.db, photos_dir, ctx.user_id)
        self.path: Path | None = None
        self.preview: ImportPreview | None = None
        self.busy = False
        self.setObjectName("csvImportDialog")
        self.setWindowTitle("Import products from CSV")
        self.resize(1000, 600)

        self.path_label = QLabel("")
        self.path_label.setObjectName("importPath")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary = QLabel("Reading…")
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("previewTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.reload_button = QPushButton("Reload")
        self.reload_button.setObjectName("reloadButton")
        self.reload_button.setToolTip("Read the file again after correcting it")
        self.reload_button.clicked.connect(lambda: ctx.spawn(self.reload(), "Reading a CSV file"))
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("importButton")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(
            lambda: ctx.spawn(self.import_rows(), "Importing products")
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reload_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.path_label)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    # -- preview ------------------------------------------------------------------------
    async def load(self, path: Path) -> ImportPreview:
        """Read and check ``path`` (nothing is imported); show every row and problem."""
        self.path = path
        self.path_label.setText(str(path))
        self.busy = True
        self._update_buttons()
        self.summary.setText("Reading…")
        try:
            preview = await self.ctx.run(preview_file, path, self.store)
        finally:
            self.busy = False
        self.show_preview(preview)
        return preview

    async def reload(self) -> ImportPreview | None:
        """Read the same file again (after the seller corrected it)."""
        if self.path is None or self.busy:
            return None
        return await self.load(self.path)

    def show_preview(self, preview: ImportPreview) -> None:
        """Fill the table; rows with problems are tinted, the wrong cells more so."""
        self.preview = preview
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(preview.rows))
        for index, row in enumerate(preview.rows):
            self._fill_row(index, row)
        self.table.resizeColumnsToContents()
        self.summary.setText(preview.summary())
        self.summary.setStyleSheet("" if preview.ok else ERROR_STYLE)
        self._update_buttons()

    def _fill_row(self, index: int, row: PreviewRow) -> None:
        problems = "; ".join(f"{name}: {message}" for name, message in row.problems.items())
        texts = [str(row.row), *(row.cells.get(name, "") for name in COLUMNS), problems]
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text.replace("\n", " ⏎ "))
            item.setData(Qt.ItemDataRole.UserRole, row.row)
            name = HEADERS[column]
            if name in row.problems:
                item.setBackground(QBrush(CELL_ERROR))
                item.setToolTip(f"{name}: {row.problems[name]}")
            elif row.problems:
                item.setBackground(QBrush(ROW_ERROR))
                item.setToolTip(problems)
            elif len(text) > 60:
                item.setToolTip(text)
            self.table.setItem(index, column, item)

    def error_rows(self) -> list[int]:
        """The file row numbers of the rows shown with problems."""
        if self.preview is None:
            return []
        return [row.row for row in self.preview.rows if not row.ok]

    def _update_buttons(self) -> None:
        ready = self.preview is not None and self.preview.ok
        self.import_button.setEnabled(ready and not self.busy)
        self.reload_button.setEnabled(self.path is not None and not self.busy)

    # -- import -------------------------------------------------------------------------
    async def import_rows(self) -> bool:
        """Import every row (all or nothing); True when done (the dialog closes)."""
        preview = self.preview
        if preview is None or not preview.ok or self.busy:
            return False
        self.busy = True
        self._update_buttons()
        self.summary.setText(f"Importing {len(preview.rows)} product(s)…")
        try:
            ids = await self.ctx.run(commit_import, preview, self.store)
        except CatalogError as exc:
            self.busy = False
            await self.reload()  # the catalog changed: show why, row by row
            self.summary.setText(str(exc))
            self.summary.setStyleSheet(ERROR_STYLE)
            return False
        finally:
            self.busy = False
            self._update_buttons()
        self.summary.setText(f"Imported {len(ids)} product(s)")
        self.imported.emit(len(ids))
        self.accept()
        return True
