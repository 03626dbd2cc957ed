"""The new-job form: one tab per marketplace, its actions, products and own fields.

Fields are checked as the seller types (a message next to each field) and again before
the job is created; many products make one batch. Nothing reaches the queue while a
field is wrong. "Run at … later" schedules the job (a relist tomorrow morning).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from app.marketplace.fields import FieldError, FieldSpec
from app.marketplace.job_forms import DISPLAY, fields_for, input_data, needs_product
from app.models.public.marketplace_action_type import MarketplaceActionType
from app.models.user.marketplace_batch import MarketplaceBatch
from app.models.user.product import Product
from app.ui.context import ERROR_STYLE, UiContext

BATCH_REFRESH_MS = 300


class FieldEditor:
    """One marketplace field: its input widget and the message beside it."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self.widget: QComboBox | QLineEdit
        if spec.kind in ("choice", "boolean"):
            combo = QComboBox()
            combo.addItem("(default)", None)
            choices = spec.choices if spec.kind == "choice" else ("true", "false")
            for choice in choices:
                combo.addItem(choice, choice)
            self.widget = combo
        else:
            line = QLineEdit()
            line.setPlaceholderText("(default)" if not spec.help else spec.help)
            self.widget = line
        self.widget.setObjectName(f"field_{spec.name}")
        self.message = QLabel("")
        self.message.setObjectName(f"error_{spec.name}")
        self.message.setStyleSheet(ERROR_STYLE)

    def value(self) -> Any:
        """What the seller chose or typed (None: the default)."""
        if isinstance(self.widget, QComboBox):
            return self.widget.currentData()
        return self.widget.text().strip() or None

    def set_value(self, value: Any) -> None:
        """Fill the field (tests, defaults)."""
        if isinstance(self.widget, QComboBox):
            index = self.widget.findData(None if value is None else str(value))
            self.widget.setCurrentIndex(max(index, 0))
        else:
            self.widget.setText("" if value is None else str(value))

    def check(self) -> str | None:
        """The field's problem right now, shown beside it (None when fine)."""
        value = self.value()
        problem = None
        if value is not None:
            try:
                self.spec.convert(value)
            except ValueError as exc:
                problem = f"{self.spec.label} {exc}"
        self.show(problem)
        return problem

    def show(self, problem: str | None) -> None:
        """Show (or clear) the message beside the field."""
        self.message.setText(problem or "")


class BatchProgress(QWidget):
    """Follows the last batch the form created: a bar and "done / failed" words."""

    finished = Signal(int)

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.batch_id: int | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setObjectName("batchProgress")
        self.label = QLabel("")
        self.label.setObjectName("batchLabel")
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label, 2)
        self.setVisible(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(BATCH_REFRESH_MS)
        self._timer.timeout.connect(lambda: ctx.spawn(self.refresh(), "Following a batch"))
        ctx.relay.jobChanged.connect(self._job_changed)

    def follow(self, batch_id: int, total: int) -> None:
        """Show the progress of ``batch_id``."""
        self.batch_id = batch_id
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.label.setText(f"Batch {batch_id}: 0 of {total} done")
        self.setVisible(True)

    def _job_changed(self, *_args: Any) -> None:
        if self.batch_id is not None and not self._timer.isActive():
            self._timer.start()

    async def refresh(self) -> None:
        """Re-read the batch's counters."""
        batch_id = self.batch_id
        if batch_id is None:
            return

        def load() -> MarketplaceBatch | None:
            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                return session.get(MarketplaceBatch, batch_id)

        batch = await self.ctx.run(load)
        if batch is None or batch_id != self.batch_id:
            return
        done = batch.completed_count + batch.failed_count + batch.cancelled_count
        self.bar.setRange(0, max(batch.total_count, 1))
        self.bar.setValue(done)
        words = f"Batch {batch.id}: {done} of {batch.total_count} done"
        if batch.failed_count:
            words += f", {batch.failed_count} failed"
        if batch.cancelled_count:
            words += f", {batch.cancelled_count} cancelled"
        self.label.setText(words)
        if done >= batch.total_count:
            self.batch_id = None
            self.finished.emit(batch.id)


class MarketplaceForm(QWidget):
    """The form of one marketplace."""

    created = Signal(str)

    def __init__(self, ctx: UiContext, marketplace: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.marketplace = marketplace
        self.service = ctx.job_service
        self.defaults: dict[str, Any] = {}
        self.action_types: dict[str, MarketplaceActionType] = {}
        self.editors: dict[str, FieldEditor] = {}
        self.setObjectName(f"form_{marketplace}")

        layout = QVBoxLayout(self)
        top = QFormLayout()
        self.action = QComboBox()
        self.action.setObjectName("action")
        self.action.currentIndexChanged.connect(self._action_changed)
        top.addRow("Action", self.action)
        self.priority = QSpinBox()
        self.priority.setObjectName("priority")
        self.priority.setRange(1, 4)
        self.priority.setToolTip("1 = most urgent, 4 = least")
        top.addRow("Priority", self.priority)
        self.later = QCheckBox("later")
        self.later.setObjectName("runLater")
        self.later.setToolTip("Run the job at a time of your choice (a relist tomorrow morning…)")
        self.run_at = QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600))
        self.run_at.setObjectName("runAt")
        self.run_at.setCalendarPopup(True)
        self.run_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.run_at.setEnabled(False)
        self.later.toggled.connect(self.run_at.setEnabled)
        when = QWidget()
        when_layout = QHBoxLayout(when)
        when_layout.setContentsMargins(0, 0, 0, 0)
        when_layout.addWidget(self.later)
        when_layout.addWidget(self.run_at, 1)
        top.addRow("Run at", when)
        layout.addLayout(top)

        self.products_label = QLabel("Products (select one or many; many make a batch)")
        layout.addWidget(self.products_label)
        self.products = QListWidget()
        self.products.setObjectName("products")
        self.products.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        layout.addWidget(self.products, 1)

        self.fields_box = QWidget()
        self.fields_layout = QFormLayout(self.fields_box)
        layout.addWidget(self.fields_box)

        bottom = QHBoxLayout()
        self.create_button = QPushButton(f"Create {DISPLAY[marketplace]} job")
        self.create_button.setObjectName("create")
        self.create_button.clicked.connect(
            lambda: ctx.spawn(self.create_job(), f"Creating a {DISPLAY[marketplace]} job")
        )
        self.result = QLabel("")
        self.result.setObjectName("result")
        self.result.setWordWrap(True)
        bottom.addWidget(self.create_button)
        bottom.addWidget(self.result, 1)
        layout.addLayout(bottom)
        self.progress = BatchProgress(ctx)
        layout.addWidget(self.progress)

    async def refresh(self) -> None:
        """Reload actions, products and the seller's defaults."""

        def load() -> tuple[list[MarketplaceActionType], list[tuple[int, str]]]:
            actions = self.service.get_action_types(self.marketplace)
            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                rows = session.execute(select(Product.id, Product.title).order_by(Product.id))
                products = [(int(pid), str(title)) for pid, title in rows]
            return actions, products

        actions, products = await self.ctx.run(load)
        workbench = self.ctx.workbench
        if workbench is not None and self.marketplace in ("ebay", "etsy"):
            settings = await workbench.accounts.settings(self.marketplace)
            self.defaults = dict(settings.defaults) if settings is not None else {}
        current = self.action.currentData()
        self.action.blockSignals(True)
        self.action.clear()
        self.action_types = {a.code: a for a in actions}
        for action in actions:
            self.action.addItem(action.name, action.code)
        index = self.action.findData(current)
        self.action.setCurrentIndex(max(index, 0))
        self.action.blockSignals(False)
        selected = {item.data(Qt.ItemDataRole.UserRole) for item in self.products.selectedItems()}
        self.products.clear()
        for product_id, title in products:
            item = QListWidgetItem(f"#{product_id} {title}")
            item.setData(Qt.ItemDataRole.UserRole, product_id)
            self.products.addItem(item)
            item.setSelected(product_id in selected)
        self._action_changed()

    def _action_changed(self, *_args: Any) -> None:
        code = self.action.currentData()
        if code is None:
            return
        action = self.action_types.get(code)
        if action is not None:
            self.priority.setValue(action.priority)
        wants_product = needs_product(code)
        self.products.setEnabled(wants_product)
        self.products_label.setEnabled(wants_product)
        while self.fields_layout.rowCount():
            self.fields_layout.removeRow(0)
        self.editors = {}
        for spec in fields_for(self.marketplace, code):
            editor = FieldEditor(spec)
            if spec.name in self.defaults:
                label = f"{spec.label} (default {self.defaults[spec.name]})"
            else:
                label = spec.label + (" *" if spec.required and spec.default is None else "")
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(editor.widget, 2)
            row_layout.addWidget(editor.message, 3)
            self.fields_layout.addRow(label, row)
            signal = (
                editor.widget.currentIndexChanged
                if isinstance(editor.widget, QComboBox)
                else editor.widget.textChanged
            )
            signal.connect(lambda *_a, e=editor: e.check())
            self.editors[spec.name] = editor

    def select_products(self, product_ids: list[int]) -> None:
        """Select products in the list (tests, the products page)."""
        for row in range(self.products.count()):
            item = self.products.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) in product_ids)

    def selected_products(self) -> list[int]:
        """The selected product ids."""
        return sorted(
            int(item.data(Qt.ItemDataRole.UserRole)) for item in self.products.selectedItems()
        )

    def set_action(self, code: str) -> None:
        """Choose an action by code."""
        self.action.setCurrentIndex(self.action.findData(code))

    def chosen_run_at(self) -> datetime | None:
        """When the job should run (None: as soon as possible)."""
        if not self.later.isChecked():
            return None
        return datetime.fromtimestamp(self.run_at.dateTime().toSecsSinceEpoch(), UTC)

    def collect(self) -> dict[str, Any] | None:
        """The job's input, or None after showing every problem beside its field."""
        code = self.action.currentData()
        problems = [problem for editor in self.editors.values() if (problem := editor.check())]
        if needs_product(code) and not self.selected_products():
            self.result.setText("Choose at least one product")
            return None
        if problems:
            self.result.setText("Correct the fields marked in red")
            return None
        values = {name: editor.value() for name, editor in self.editors.items()}
        try:
            return input_data(self.marketplace, code, values, self.defaults)
        except FieldError as exc:
            for name, message in exc.problems.items():
                if name in self.editors:
                    self.editors[name].show(message)
            self.result.setText("Correct the fields marked in red")
            return None

    async def create_job(self) -> None:
        """Create the job (or the batch) the form describes."""
        data = self.collect()
        if data is None:
            return
        code = self.action.currentData()
        priority = self.priority.value()
        products = self.selected_products() if needs_product(code) else []
        service = self.service
        run_at = self.chosen_run_at()
        if len(products) > 1:
            batch, jobs = await self.ctx.run(
                lambda: service.create_batch(
                    self.marketplace, code, products, priority, data or None, run_at=run_at
                )
            )
            text = f"Batch {batch.id}: {len(jobs)} {code} job(s) on {DISPLAY[self.marketplace]}"
            self.progress.follow(batch.id, batch.total_count)
        else:
            job = await self.ctx.run(
                lambda: service.create_job(
                    marketplace=self.marketplace,
                    action_code=code,
                    product_id=products[0] if products else None,
                    priority=priority,
                    input_data=data or None,
                    run_at=run_at,
                )
            )
            text = f"Job {job.id}: {code} on {DISPLAY[self.marketplace]}, {job.status}"
        if run_at is not None:
            text += f", runs at {run_at.astimezone():%Y-%m-%d %H:%M}"
        self.result.setText(text)
        self.created.emit(text)


class NewJobPage(QWidget):
    """Tabs Vinted, eBay, Etsy."""

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("marketplaceTabs")
        self.forms: dict[str, MarketplaceForm] = {}
        for marketplace in ("vinted", "ebay", "etsy"):
            form = MarketplaceForm(ctx, marketplace)
            self.forms[marketplace] = form
            self.tabs.addTab(form, DISPLAY[marketplace])
        layout.addWidget(self.tabs)
        ctx.relay.connectionChanged.connect(
            lambda *_: ctx.spawn(self.refresh(), "Refreshing the job forms")
        )

    async def refresh(self) -> None:
        """Reload every form."""
        for form in self.forms.values():
            await form.refresh()
