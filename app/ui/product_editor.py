"""The product editor: every field with its problem beside it, photos, Save.

Fields are checked as the seller types (:func:`app.catalog.validate`, a red message
beside each field) and Save stays disabled while anything is wrong; the store checks
again when saving (SKU already used, product changed meanwhile) and its answer appears
beside the field too. Saving runs off the window's thread (``ctx.run``).

Tests drive it without dialogs: :meth:`ProductEditor.set_values`,
:meth:`ProductEditor.add_photos` and ``await editor.save()``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.catalog import photos as photo_files
from app.catalog.store import CatalogStore, ProductRow
from app.catalog.validation import (
    CONDITION_LABELS,
    CatalogError,
    ProductInput,
    ProductValidationError,
    ProductValues,
    problems_of,
    validate,
)
from app.ui.context import ERROR_STYLE, UiContext

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.JPG *.JPEG *.PNG *.WEBP)"
LAST_PHOTO_DIR_KEY = "products/photo_dir"
_LINES = ("title", "price", "currency", "quantity", "sku", "brand", "size")
_LABELS = {
    "title": "Title *",
    "description": "Description",
    "price": "Price *",
    "currency": "Currency",
    "quantity": "Quantity",
    "sku": "SKU",
    "brand": "Brand",
    "size": "Size",
    "condition": "Condition",
    "photos": "Photos",
}
_PLACEHOLDERS = {"price": "12.50", "currency": "EUR", "quantity": "1", "sku": "(optional)"}


class ProductEditor(QDialog):
    """Create a product (``product=None``) or edit ``product``; emits :attr:`saved`."""

    #: The saved product's id.
    saved = Signal(int)

    def __init__(
        self,
        ctx: UiContext,
        photos_dir: Path,
        product: ProductRow | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.photos_dir = photos_dir
        self.store = CatalogStore(ctx.db, photos_dir, ctx.user_id)
        self.product = product
        self.saving = False
        #: The photos to add whose files were found fine (not read again per keystroke).
        self._photo_fine: set[str] = set()
        self.photo_dialog: QFileDialog | None = None
        self.setObjectName("productEditor")
        self.setWindowTitle("New product" if product is None else f"Product {product.id}")
        self.resize(720, 640)

        self.lines: dict[str, QLineEdit] = {}
        self.messages: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in ("title", "description", "price", "currency", "quantity"):
            form.addRow(_LABELS[name], self._field(name))
        for name in ("sku", "brand", "size", "condition", "photos"):
            form.addRow(_LABELS[name], self._field(name))

        self.status = QLabel("")
        self.status.setObjectName("editorStatus")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("save")
        self.save_button.setDefault(True)
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("cancel")
        # Buttons are wired by hand: the box's accepted() would close before saving.
        self.save_button.clicked.connect(self._save_clicked)
        self.cancel_button.clicked.connect(self.reject)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self._save_clicked)

        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        if product is not None:
            self.set_values(product.as_input())
        else:
            self.check()

    # -- building -----------------------------------------------------------------------
    def _message(self, name: str) -> QLabel:
        label = QLabel("")
        label.setObjectName(f"error_{name}")
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        self.messages[name] = label
        return label

    def _field(self, name: str) -> QWidget:
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        editor: QWidget
        if name in _LINES:
            line = QLineEdit()
            line.setPlaceholderText(_PLACEHOLDERS.get(name, ""))
            line.textChanged.connect(self.check)
            self.lines[name] = line
            editor = line
        elif name == "description":
            self.description = QPlainTextEdit()
            self.description.setTabChangesFocus(True)
            self.description.textChanged.connect(self.check)
            editor = self.description
        elif name == "condition":
            self.condition = QComboBox()
            self.condition.addItem("(not set)", None)
            for code, label in CONDITION_LABELS.items():
                self.condition.addItem(label, code)
            self.condition.currentIndexChanged.connect(self.check)
            editor = self.condition
        else:
            editor = self._photos_box()
        editor.setObjectName(f"field_{name}")
        row_layout.addWidget(editor, 3)
        row_layout.addWidget(self._message(name), 2)
        return row

    def _photos_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.photos = QListWidget()
        self.photos.setObjectName("photos")
        self.photos.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.photos.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        buttons = QHBoxLayout()
        self.add_photos_button = QPushButton("Add photos…")
        self.add_photos_button.setObjectName("addPhotos")
        self.add_photos_button.clicked.connect(self.choose_photos)
        self.remove_photos_button = QPushButton("Remove")
        self.remove_photos_button.setObjectName("removePhotos")
        self.remove_photos_button.clicked.connect(self.remove_selected_photos)
        remove_key = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.photos)
        remove_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        remove_key.activated.connect(self.remove_selected_photos)
        buttons.addWidget(self.add_photos_button)
        buttons.addWidget(self.remove_photos_button)
        buttons.addStretch(1)
        layout.addWidget(self.photos, 1)
        layout.addLayout(buttons)
        return box

    # -- values -------------------------------------------------------------------------
    def photo_entries(self) -> tuple[str, ...]:
        """The photo list, in order (stored paths, addresses or files to add)."""
        return tuple(
            str(self.photos.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.photos.count())
        )

    def input(self) -> ProductInput:
        """What the form holds, as typed."""
        return ProductInput(
            title=self.lines["title"].text(),
            price=self.lines["price"].text(),
            description=self.description.toPlainText(),
            currency=self.lines["currency"].text(),
            quantity=self.lines["quantity"].text(),
            sku=self.lines["sku"].text(),
            brand=self.lines["brand"].text(),
            size=self.lines["size"].text(),
            condition=self.condition.currentData(),
            photos=self.photo_entries(),
        )

    def set_values(self, data: ProductInput) -> None:
        """Fill every field from ``data`` (loading a product, tests)."""
        for name, line in self.lines.items():
            value = getattr(data, name)
            line.setText("" if value is None else str(value))
        self.description.setPlainText(data.description or "")
        index = self.condition.findData(data.condition)
        if index < 0:  # an unknown condition stays visible, and is reported
            self.condition.addItem(str(data.condition), data.condition)
            index = self.condition.count() - 1
        self.condition.setCurrentIndex(index)
        self.photos.clear()
        self.add_photos(list(data.photos))

    def _photo_item(self, entry: str) -> QListWidgetItem:
        path = photo_files.resolve(self.photos_dir, entry)
        item = QListWidgetItem(entry if path is None else path.name)
        item.setData(Qt.ItemDataRole.UserRole, entry)
        item.setToolTip(entry if path is None else str(path))
        return item

    def add_photos(self, entries: Sequence[str | Path]) -> None:
        """Append photos (files to copy when saving, or stored ones)."""
        present = set(self.photo_entries())
        for entry in entries:
            text = str(entry)
            if text and text not in present:
                present.add(text)
                self._photo_fine.discard(text)  # added again: looked at again
                self.photos.addItem(self._photo_item(text))
        self.check()

    def remove_selected_photos(self) -> None:
        """Drop the selected photos from the list (stored files go when saving)."""
        for item in self.photos.selectedItems():
            self.photos.takeItem(self.photos.row(item))
        self.check()

    def choose_photos(self) -> None:
        """Ask for photo files (a non-blocking file dialog)."""
        start = str(self.ctx.settings.value(LAST_PHOTO_DIR_KEY, "") or Path.home())
        dialog = QFileDialog(self, "Add photos", start, PHOTO_FILTER)
        dialog.setObjectName("photoFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(self._photos_chosen)
        self.photo_dialog = dialog
        dialog.open()

    def _photos_chosen(self, files: list[str]) -> None:
        if files:
            self.ctx.settings.setValue(LAST_PHOTO_DIR_KEY, str(Path(files[0]).parent))
        self.add_photos(files)

    # -- checking and saving ------------------------------------------------------------
    def _photo_problems(self) -> list[str]:
        """What is wrong with the photos to add. A file found fine is not read again on
        every keystroke in the other fields (saving checks it again); one with a problem
        is, so that fixing it on disk is seen."""
        problems: list[str] = []
        kept = set(self.product.photos) if self.product is not None else set()
        for entry in self.photo_entries():
            path = photo_files.resolve(self.photos_dir, entry)
            if entry in kept or path is None:
                continue
            if entry in self._photo_fine:
                continue
            problem = photo_files.photo_problem(path)
            if problem is None:
                self._photo_fine.add(entry)
            else:
                problems.append(problem)
        return problems

    def check(self, *_args: Any) -> dict[str, str]:
        """Show each field's problem beside it; the problems (empty when all is fine)."""
        problems = problems_of(self.input())
        if "photos" not in problems:
            files = self._photo_problems()
            if files:
                problems["photos"] = "; ".join(files)
        self.show_problems(problems)
        return problems

    def show_problems(self, problems: dict[str, str]) -> None:
        """Set the message beside every field (cleared where there is no problem)."""
        for name, label in self.messages.items():
            label.setText(problems.get(name, ""))
        self.save_button.setEnabled(not problems and not self.saving)
        if not problems and self.status.text().startswith("Correct"):
            self.status.setText("")

    def _save_clicked(self) -> None:
        if self.save_button.isEnabled():
            self.ctx.spawn(self.save(), "Saving a product")

    async def _write(self, values: ProductValues) -> ProductRow:
        if self.product is None:
            return await self.ctx.run(self.store.create, values)
        change = functools.partial(self.store.update, self.product.id, values, base=self.product)
        return await self.ctx.run(change)

    async def save(self) -> bool:
        """Check, then create or update the product; True when saved (the dialog closes)."""
        if self.saving:
            return False
        self._photo_fine.clear()  # the files may have changed since they were added
        if self.check():
            self.status.setText("Correct the fields marked in red")
            return False
        values = validate(self.input())
        self.saving = True
        self.save_button.setEnabled(False)
        self.status.setText("Saving…")
        try:
            row = await self._write(values)
        except CatalogError as exc:
            self.saving = False
            if isinstance(exc, ProductValidationError):
                self.show_problems(exc.problems)
                self.status.setText("Correct the fields marked in red")
            else:
                self.check()
                self.status.setText(str(exc))
            return False
        except BaseException:
            self.saving = False  # unexpected: the crash handler reports it
            self.check()
            self.status.setText("")
            raise
        self.saving = False
        self.product = row
        self.setWindowTitle(f"Product {row.id}")
        self.set_values(row.as_input())
        self.status.setText(f"Saved product {row.id}")
        self.saved.emit(row.id)
        self.accept()
        return True
