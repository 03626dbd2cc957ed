"""Cross-list in bulk: the selected products on the chosen marketplaces, one batch each.

The seller ticks marketplaces and sets each one's price rule (percent, fixed amount,
rounding, minimum); the preview table follows every change and says why a row is left
out. The marketplace fields needed to publish are the new-job form's own editors
(:class:`app.ui.new_job_page.FieldEditor`), pre-filled with the seller's defaults.
Create saves the rules, queues one publish batch per marketplace
(:func:`app.inventory.crosslist.create`, off the event loop) and then shows each batch's
progress (:class:`app.ui.new_job_page.BatchProgress`) and each product's result.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.inventory import crosslist
from app.inventory.price_rules import PriceRule, Rounding, RuleError, describe, load_rules
from app.inventory.price_rules import save_rules as write_rules
from app.marketplace.fields import FieldError
from app.marketplace.job_forms import DISPLAY, FIELDS
from app.ui.context import ERROR_STYLE, UiContext
from app.ui.crosslist_results import CrosslistResults
from app.ui.new_job_page import FieldEditor

PREVIEW_COLUMNS = ("Product", "Marketplace", "Catalog price", "Listed price", "Note")
ROUNDINGS = (
    ("No rounding", Rounding.NONE),
    ("To .99", Rounding.NINETY_NINE),
    ("To .50", Rounding.HALF),
    ("To whole", Rounding.WHOLE),
)
_LEFT_OUT = QColor("#8a8a8a")


def _spin(low: float, high: float, suffix: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(2)
    box.setSuffix(suffix)
    return box


def _decimal(box: QDoubleSpinBox) -> Decimal:
    """The box's value exactly as shown (2 decimals)."""
    return Decimal(f"{box.value():.2f}")


class RuleEditor:
    """One marketplace's row: ticked or not, and its price rule."""

    def __init__(self, marketplace: str) -> None:
        self.marketplace = marketplace
        self.check = QCheckBox(DISPLAY[marketplace])
        self.check.setObjectName(f"use_{marketplace}")
        self.percent = _spin(-99, 1000, " %")
        self.percent.setObjectName(f"percent_{marketplace}")
        self.amount = _spin(-10000, 10000)
        self.amount.setObjectName(f"amount_{marketplace}")
        self.rounding = QComboBox()
        self.rounding.setObjectName(f"rounding_{marketplace}")
        for label, mode in ROUNDINGS:
            self.rounding.addItem(label, mode.value)
        self.minimum = _spin(0, 100000)
        self.minimum.setObjectName(f"minimum_{marketplace}")
        self.minimum.setSpecialValueText("none")
        self.words = QLabel("")
        self.words.setObjectName(f"rule_{marketplace}")

    def widgets(self) -> tuple[QWidget, ...]:
        """The row's widgets, left to right."""
        return (self.check, self.percent, self.amount, self.rounding, self.minimum, self.words)

    def rule(self) -> PriceRule:
        """The rule as set."""
        minimum = _decimal(self.minimum)
        return PriceRule(
            percent=_decimal(self.percent),
            amount=_decimal(self.amount),
            rounding=Rounding(self.rounding.currentData()),
            minimum=minimum if minimum > 0 else None,
        )

    def set_rule(self, rule: PriceRule) -> None:
        """Show ``rule``."""
        self.percent.setValue(float(rule.percent))
        self.amount.setValue(float(rule.amount))
        self.rounding.setCurrentIndex(self.rounding.findData(rule.rounding.value))
        self.minimum.setValue(float(rule.minimum or 0))


class CrosslistDialog(QDialog):
    """Cross-list products (``rules_dir``: where the price rules are kept; None: not kept)."""

    #: The preview table was filled again.
    previewed = Signal()
    #: Batches were queued (:class:`app.inventory.crosslist.Created`).
    created = Signal(object)

    def __init__(
        self,
        ctx: UiContext,
        product_ids: list[int],
        rules_dir: Path | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.product_ids = list(product_ids)
        self.rules_dir = rules_dir
        self.service = ctx.job_service
        self.inputs = crosslist.Inputs()
        self.defaults: dict[str, dict[str, Any]] = {}
        self.rows: list[crosslist.PlanRow] = []
        #: True once Create was pressed: the dialog then shows what it queued.
        self.locked = False
        self.setObjectName("crosslistDialog")
        self.setWindowTitle("Cross-list products")
        self.resize(900, 700)

        self.rules: dict[str, RuleEditor] = {}
        rules_box = QGroupBox("Marketplaces and price rules")
        grid = QGridLayout(rules_box)
        for column, title in enumerate(("", "Change", "Add", "Rounding", "At least", "")):
            grid.addWidget(QLabel(title), 0, column)
        for row, marketplace in enumerate(crosslist.MARKETPLACES, start=1):
            editor = RuleEditor(marketplace)
            self.rules[marketplace] = editor
            for column, widget in enumerate(editor.widgets()):
                grid.addWidget(widget, row, column)
            editor.check.toggled.connect(self._rules_changed)
            editor.percent.valueChanged.connect(self._rules_changed)
            editor.amount.valueChanged.connect(self._rules_changed)
            editor.rounding.currentIndexChanged.connect(self._rules_changed)
            editor.minimum.valueChanged.connect(self._rules_changed)

        self.field_tabs = QTabWidget()
        self.field_tabs.setObjectName("fieldTabs")
        self.fields: dict[str, dict[str, FieldEditor]] = {}
        self.field_forms: dict[str, QFormLayout] = {}
        for marketplace in crosslist.MARKETPLACES:
            page = QWidget()
            self.field_forms[marketplace] = QFormLayout(page)
            self.fields[marketplace] = {}
            self.field_tabs.addTab(page, DISPLAY[marketplace])

        self.preview = QTableWidget(0, len(PREVIEW_COLUMNS))
        self.preview.setObjectName("preview")
        self.preview.setHorizontalHeaderLabels(PREVIEW_COLUMNS)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.verticalHeader().setVisible(False)
        header = self.preview.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel("")
        self.summary.setObjectName("summary")

        self.create_button = QPushButton("Create batches")
        self.create_button.setObjectName("create")
        self.create_button.clicked.connect(
            lambda: ctx.spawn(self.create_batches(), "Cross-listing products")
        )
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.results = CrosslistResults(ctx)

        layout = QVBoxLayout(self)
        layout.addWidget(rules_box)
        layout.addWidget(QLabel("Fields for publishing (empty: your default)"))
        layout.addWidget(self.field_tabs)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.summary)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.create_button)
        bottom.addWidget(self.close_button)
        layout.addLayout(bottom)
        layout.addWidget(self.results)

        self._rules_timer = QTimer(self)
        self._rules_timer.setSingleShot(True)
        self._rules_timer.setInterval(0)
        self._rules_timer.timeout.connect(self.update_preview)

    # -- loading ------------------------------------------------------------------------
    async def load(self) -> None:
        """Read the products, their listings, the seller's defaults and saved rules."""

        def read() -> crosslist.Inputs:
            with self.ctx.db.session(self.ctx.user_id, readonly=True) as session:
                return crosslist.load_inputs(session, self.product_ids)

        self.inputs = await self.ctx.run(read)
        saved = await self.ctx.run(load_rules, self.rules_dir) if self.rules_dir else {}
        workbench = self.ctx.workbench
        for marketplace in crosslist.MARKETPLACES:
            settings = (
                await workbench.accounts.settings(marketplace) if workbench is not None else None
            )
            self.defaults[marketplace] = dict(settings.defaults) if settings is not None else {}
            self._build_fields(marketplace)
            editor = self.rules[marketplace]
            for widget in editor.widgets():
                widget.blockSignals(True)
            editor.set_rule(saved.get(marketplace, PriceRule()))
            editor.check.setChecked(True)
            for widget in editor.widgets():
                widget.blockSignals(False)
        self.update_preview()

    def _build_fields(self, marketplace: str) -> None:
        form = self.field_forms[marketplace]
        while form.rowCount():
            form.removeRow(0)
        editors: dict[str, FieldEditor] = {}
        defaults = self.defaults[marketplace]
        own = crosslist.PRODUCT_FIELDS.get(marketplace, ())
        for spec in FIELDS[marketplace]:
            editor = FieldEditor(spec)
            editor.widget.setObjectName(f"field_{marketplace}_{spec.name}")
            default = defaults.get(spec.name)
            editor.set_value(str(default).lower() if isinstance(default, bool) else default)
            label = spec.label
            if spec.name in own:
                label += " (empty: each product's own)"
            elif spec.required and spec.default is None:
                label += " *"
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(editor.widget, 2)
            row_layout.addWidget(editor.message, 3)
            form.addRow(label, row)
            signal = (
                editor.widget.currentIndexChanged
                if isinstance(editor.widget, QComboBox)
                else editor.widget.textChanged
            )
            signal.connect(lambda *_a, e=editor: self._field_changed(e))
            editors[spec.name] = editor
        self.fields[marketplace] = editors

    # -- the preview --------------------------------------------------------------------
    def chosen(self) -> list[str]:
        """The ticked marketplaces."""
        return [m for m, editor in self.rules.items() if editor.check.isChecked()]

    def current_rules(self) -> dict[str, PriceRule]:
        """Every marketplace's rule as set."""
        return {marketplace: editor.rule() for marketplace, editor in self.rules.items()}

    def field_values(self, marketplace: str) -> dict[str, Any]:
        """The marketplace's field values as typed, over the seller's defaults."""
        given = {n: e.value() for n, e in self.fields[marketplace].items() if e.value() is not None}
        return {**self.defaults.get(marketplace, {}), **given}

    def _rules_changed(self, *_args: Any) -> None:
        if not self._rules_timer.isActive():
            self._rules_timer.start()

    def _field_changed(self, editor: FieldEditor) -> None:
        editor.check()
        self._rules_changed()

    def update_preview(self) -> None:
        """Price every product on every ticked marketplace again and show why rows are
        left out (pure computation: nothing is read)."""
        chosen = self.chosen()
        for marketplace, editor in self.rules.items():
            editor.words.setText(describe(editor.rule()))
            self.field_tabs.setTabEnabled(
                crosslist.MARKETPLACES.index(marketplace), marketplace in chosen
            )
        self.rows = crosslist.plan(
            self.inputs.products,
            chosen,
            self.current_rules(),
            self.inputs.listed,
            queued=self.inputs.queued,
            fields={m: self.field_values(m) for m in chosen},
        )
        self.preview.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            cells = (
                f"#{row.product_id} {row.title}",
                DISPLAY[row.marketplace],
                f"{row.catalog_price:.2f} {row.currency}",
                f"{row.price:.2f} {row.currency}" if row.included else "",
                row.skip or "",
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if not row.included:
                    item.setForeground(_LEFT_OUT)
                if column in (2, 3):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.preview.setItem(index, column, item)
        included = [row for row in self.rows if row.included]
        batches = len({row.marketplace for row in included})
        left_out = len(self.rows) - len(included)
        self.summary.setText(
            f"{len(included)} listing(s) in {batches} batch(es)"
            + (f"; {left_out} left out (see Note)" if left_out else "")
        )
        self.create_button.setEnabled(bool(included) and not self.locked)
        self.previewed.emit()

    # -- creating -----------------------------------------------------------------------
    def collect_fields(self) -> dict[str, dict[str, Any]] | None:
        """Each ticked marketplace's batch input, or None after marking every problem."""
        result: dict[str, dict[str, Any]] = {}
        wrong: list[str] = []
        for marketplace in self.chosen():
            editors = self.fields[marketplace]
            bad = [problem for editor in editors.values() if (problem := editor.check())]
            values = {name: editor.value() for name, editor in editors.items()}
            try:
                result[marketplace] = crosslist.batch_fields(
                    marketplace, values, self.defaults.get(marketplace)
                )
            except FieldError as exc:
                bad.append(str(exc))
                for name, message in exc.problems.items():
                    if name in editors:
                        editors[name].show(message)
            if bad:
                wrong.append(marketplace)
        if wrong:
            self.field_tabs.setCurrentIndex(crosslist.MARKETPLACES.index(wrong[0]))
            names = ", ".join(DISPLAY[m] for m in wrong)
            self.message.setText(f"Correct the fields marked in red ({names})")
            self.message.setStyleSheet(ERROR_STYLE)
            return None
        return result

    async def create_batches(self) -> crosslist.Created | None:
        """Queue the batches the preview shows (None, with the reason, when refused)."""
        self.update_preview()
        if not self.chosen():
            self.message.setText("Choose at least one marketplace")
            return None
        if not any(row.included for row in self.rows):
            self.message.setText("Nothing to cross-list: every row is left out (see Note)")
            return None
        fields = self.collect_fields()
        if fields is None:
            return None
        self.message.setStyleSheet("")
        self._lock(True)
        note = ""
        try:
            if self.rules_dir is not None:
                try:
                    await self.ctx.run(write_rules, self.rules_dir, self.current_rules())
                except (OSError, RuleError) as exc:
                    note = f" (the price rules could not be saved: {exc})"
            create = partial(crosslist.create, self.service, self.rows, fields)
            done = await self.ctx.run(create)
        except BaseException:
            self._lock(False)
            raise
        self.results.show_created(done, self.rows)
        words = ", ".join(
            f"{DISPLAY[b.marketplace]} batch {b.batch_id} ({b.total} job(s))" for b in done.batches
        )
        self.message.setText((f"Queued: {words}" if words else "Nothing new was queued") + note)
        self.created.emit(done)
        return done

    def _lock(self, locked: bool) -> None:
        """Freeze (or free) what shaped the batches while they are queued and followed."""
        self.locked = locked
        self._rules_timer.stop()
        for editor in self.rules.values():
            for widget in editor.widgets():
                widget.setEnabled(not locked)
        for editors in self.fields.values():
            for field in editors.values():
                field.widget.setEnabled(not locked)
        self.create_button.setEnabled(not locked)
