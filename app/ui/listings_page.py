"""The Listings page: every marketplace listing, and the seller's review of unmatched ones.

Sync jobs bring each marketplace's listings in and link what they can (listing id, SKU,
then the title and price rule of :mod:`app.marketplace.matching`). This page shows them
all, filtered by marketplace or to the unmatched ones, and for a listing without a
product offers a product chooser (the sync's candidates first), **Link**, **Create
product** (a catalog product made from the listing) and **Dismiss** (stop suggesting it);
a linked listing can be **Unlinked**. Each decision is kept by later syncs. The table
reloads when jobs finish (syncs, publishes, links) and when the catalog changes. Tests
call :meth:`ListingsPage.link_current`, :meth:`ListingsPage.create_product`,
:meth:`ListingsPage.dismiss_selected` and :meth:`ListingsPage.unlink_current` directly.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.marketplace.job_forms import DISPLAY
from app.marketplace.listing_review import (
    ListingReview,
    ListingReviewError,
    ListingView,
    ProductAlreadyListedError,
)
from app.models.user.marketplace_job_stats import MARKETPLACE_VALUES
from app.ui.context import UiContext, show_error
from app.ui.lazy_refresh import LazyRefresh
from app.ui.listings_model import COLUMNS, ROW_ID_ROLE, SORT_ROLE, ListingsModel
from app.ui.rows_model import row_table

REFRESH_DELAY_MS = 800


class ListingsPage(QWidget):
    """Filters, the listings table, and Link / Create product / Dismiss / Unlink."""

    #: A refresh finished (the table shows the listings as they are now).
    refreshed = Signal()
    #: The seller linked, unlinked, dismissed or imported listings (products may be new).
    listingsChanged = Signal()

    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("listingsPage")
        self.ctx = ctx
        self.review = ListingReview(ctx.db, ctx.user_id)
        self.confirm_box: QMessageBox | None = None
        self._choices_for: int | None = None

        self.marketplace_filter = QComboBox()
        self.marketplace_filter.setObjectName("listingsMarketplace")
        self.marketplace_filter.addItem("All marketplaces", None)
        for marketplace in MARKETPLACE_VALUES:
            self.marketplace_filter.addItem(DISPLAY.get(marketplace, marketplace), marketplace)
        self.unmatched_only = QCheckBox("Unmatched only")
        self.unmatched_only.setObjectName("listingsUnmatchedOnly")
        self.unmatched_only.setToolTip("Listings without a product that you have not dismissed")
        self.count_label = QLabel("")
        self.count_label.setObjectName("listingsCount")
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Marketplace"))
        filters.addWidget(self.marketplace_filter)
        filters.addWidget(self.unmatched_only)
        filters.addStretch(1)
        filters.addWidget(self.count_label)

        self.model = ListingsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = row_table("listingsTable", self.proxy)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMNS.index("Title"), QHeaderView.ResizeMode.Stretch)

        self.status = QLabel("")
        self.status.setObjectName("listingsStatus")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._match_box())
        layout.addWidget(self.status)

        self.lazy = LazyRefresh(self, self._spawn_refresh, REFRESH_DELAY_MS)
        self.marketplace_filter.currentIndexChanged.connect(self._filter_changed)
        self.unmatched_only.toggled.connect(self._filter_changed)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        ctx.relay.jobChanged.connect(self._job_changed)
        self._update_buttons()

    def _match_box(self) -> QGroupBox:
        box = QGroupBox("Match the selected listing")
        box.setObjectName("listingMatch")
        self.current_label = QLabel("Select a listing")
        self.current_label.setObjectName("listingCurrent")
        self.product_combo = QComboBox()
        self.product_combo.setObjectName("listingProduct")
        self.product_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.product_combo.setToolTip("The catalog product this listing is (candidates first)")
        self.product_combo.currentIndexChanged.connect(self._update_buttons)
        self.link_button = self._button("Link", "linkListing", self._spawn_link)
        self.link_button.setToolTip("Link the listing to the chosen product")
        self.create_button = self._button("Create product", "createProduct", self._spawn_create)
        self.create_button.setToolTip("Add the listing to the catalog as a new product")
        self.dismiss_button = self._button("Dismiss", "dismissListing", self._spawn_dismiss)
        self.dismiss_button.setToolTip("Leave the selected listings unlinked, stop suggesting")
        self.unlink_button = self._button("Unlink", "unlinkListing", self._spawn_unlink)
        self.unlink_button.setToolTip("Remove the link; syncs will not link it again")
        row = QHBoxLayout()
        row.addWidget(QLabel("Product"))
        row.addWidget(self.product_combo, 1)
        for button in (
            self.link_button,
            self.create_button,
            self.dismiss_button,
            self.unlink_button,
        ):
            row.addWidget(button)
        outer = QVBoxLayout(box)
        outer.addWidget(self.current_label)
        outer.addLayout(row)
        return box

    def _button(self, text: str, name: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- loading ------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload the listings the filters ask for (the selection is kept)."""
        marketplace = self.marketplace_filter.currentData()
        unmatched = self.unmatched_only.isChecked()
        rows = await self.ctx.run(
            lambda: self.review.listings(marketplace, unmatched_only=unmatched)
        )
        selected = self.selected_ids()
        self.model.set_rows(rows)
        self.select_ids(selected)
        waiting = sum(1 for view in rows if view.status in ("unmatched", "ambiguous"))
        self.count_label.setText(f"{len(rows)} listing(s), {waiting} to match")
        self._choices_for = None
        await self.load_choices()
        self.refreshed.emit()

    def _spawn_refresh(self) -> None:
        self.ctx.spawn(self.refresh(), "Loading listings")

    def _filter_changed(self, *_args: Any) -> None:
        self._spawn_refresh()

    def schedule_refresh(self) -> None:
        """Reload soon, or when the page is shown again (the catalog or listings changed)."""
        self.lazy.request()

    def _job_changed(self, _job_id: int, _marketplace: str, status: str) -> None:
        if status in ("completed", "failed"):  # a sync, publish or link may have run
            self.schedule_refresh()

    # -- selection ----------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        """Row ids of the selected listings, in table order."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [int(self.proxy.index(row, 0).data(ROW_ID_ROLE)) for row in rows]

    def select_ids(self, ids: list[int] | set[int]) -> None:
        """Select the listings ``ids`` (those shown)."""
        wanted = set(ids)
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(ROW_ID_ROLE) in wanted:
                selection.select(index, flags)
                selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)

    def selected_views(self) -> list[ListingView]:
        """The selected listings."""
        views = (self.model.view(row_id) for row_id in self.selected_ids())
        return [view for view in views if view is not None]

    def current_view(self) -> ListingView | None:
        """The one selected listing (None when none or several are selected)."""
        views = self.selected_views()
        return views[0] if len(views) == 1 else None

    def _selection_changed(self, *_args: Any) -> None:
        self._update_buttons()
        view = self.current_view()
        wanted = view.id if view is not None and view.product_id is None else None
        if wanted != self._choices_for:
            self.ctx.spawn(self.load_choices(), "Loading products")

    def _update_buttons(self, *_args: Any) -> None:
        views = self.selected_views()
        view = views[0] if len(views) == 1 else None
        unlinked = view is not None and view.product_id is None
        self.link_button.setEnabled(unlinked and self.product_combo.currentData() is not None)
        self.create_button.setEnabled(unlinked)
        self.product_combo.setEnabled(unlinked)
        self.unlink_button.setEnabled(view is not None and view.product_id is not None)
        self.dismiss_button.setEnabled(
            bool(views) and all(v.product_id is None and v.status != "dismissed" for v in views)
        )
        if view is None:
            text = f"{len(views)} listings selected" if views else "Select a listing"
        else:
            name = DISPLAY.get(view.marketplace, view.marketplace)
            text = (
                f"{name} listing {view.listing_id or view.sku or view.id}: "
                f"{view.title or '(no title)'} - {view.product_text}"
            )
        self.current_label.setText(text)

    async def load_choices(self) -> None:
        """Fill the product chooser for the current unlinked listing (candidates first,
        the first one chosen; without candidates nothing is chosen)."""
        view = self.current_view()
        row_id = view.id if view is not None and view.product_id is None else None
        self._choices_for = row_id
        choices = [] if row_id is None else await self.ctx.run(self.review.choices, row_id)
        if row_id != self._choices_for:
            return  # another listing was selected meanwhile
        combo = self.product_combo
        combo.blockSignals(True)
        combo.clear()
        candidates = sum(1 for choice in choices if choice.candidate)
        if row_id is not None and not candidates:
            combo.addItem("Choose a product…", None)
        for choice in choices:
            combo.addItem(choice.label, choice.id)
        if candidates and len(choices) > candidates:
            combo.insertSeparator(candidates)
        combo.setCurrentIndex(0)
        combo.blockSignals(False)
        self._update_buttons()

    # -- actions ------------------------------------------------------------------------
    def _spawn_link(self) -> None:
        self.ctx.spawn(self.link_current(), "Linking a listing")

    def _spawn_create(self) -> None:
        self.ctx.spawn(self.create_product(), "Creating a product")

    def _spawn_dismiss(self) -> None:
        self.ctx.spawn(self.dismiss_selected(), "Dismissing listings")

    def _spawn_unlink(self) -> None:
        self.ctx.spawn(self.unlink_current(), "Unlinking a listing")

    async def _done(self, text: str) -> None:
        self.status.setText(text)
        self.listingsChanged.emit()
        await self.refresh()

    def _refused(self, title: str, exc: Exception) -> None:
        self.status.setText(f"{title}: {exc}")
        show_error(self, title, str(exc))

    async def link_current(self, product_id: int | None = None, *, replace: bool = False) -> bool:
        """Link the current listing to ``product_id`` (else the chosen product).

        A product already listed on that marketplace is linked only with ``replace``; the
        seller is asked first (a non-blocking question) and False is returned meanwhile.
        """
        view = self.current_view()
        chosen = product_id if product_id is not None else self.product_combo.currentData()
        if view is None or chosen is None:
            self.status.setText("Select one listing and the product it is")
            return False
        try:
            sales = await self.ctx.run(
                lambda: self.review.confirm_match(view.id, int(chosen), replace=replace)
            )
        except ProductAlreadyListedError as exc:
            self._ask_replace(view, int(chosen), exc)
            return False
        except ListingReviewError as exc:
            self._refused("Cannot link", exc)
            return False
        sold = (
            f"; {sales} sale(s) it made meanwhile recorded (stock and other listings follow:"
            " see the dashboard)"
            if sales
            else ""
        )
        await self._done(f"Linked the listing to product #{chosen}{sold}")
        return True

    def _ask_replace(self, view: ListingView, product_id: int, exc: Exception) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Replace the product's listing?",
            f"{exc}. Link product #{product_id} to this listing instead? The other listing "
            "stays known, unlinked.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("confirmReplace")
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(button: Any) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self.select_ids([view.id])
                self.ctx.spawn(self.link_current(product_id, replace=True), "Linking a listing")

        box.buttonClicked.connect(answered)
        self.confirm_box = box
        box.open()
        self.status.setText(str(exc))
        return box

    async def create_product(self) -> int | None:
        """Add the current unlinked listing to the catalog as a new product; its id."""
        view = self.current_view()
        if view is None:
            self.status.setText("Select one listing to add to the catalog")
            return None
        try:
            product_id = await self.ctx.run(self.review.import_as_product, view.id)
        except ListingReviewError as exc:
            self._refused("Cannot create the product", exc)
            return None
        await self._done(f"Created product #{product_id} from the listing")
        return product_id

    async def dismiss_selected(self) -> int:
        """Dismiss the selected unlinked listings; how many."""
        ids = [view.id for view in self.selected_views() if view.product_id is None]
        if not ids:
            self.status.setText("Select the unlinked listings to dismiss")
            return 0
        try:
            await self.ctx.run(self.review.dismiss, ids)
        except ListingReviewError as exc:
            self._refused("Cannot dismiss", exc)
            return 0
        await self._done(f"Dismissed {len(ids)} listing(s): they will not be suggested again")
        return len(ids)

    async def unlink_current(self) -> bool:
        """Remove the link of the current listing (syncs will not link it again)."""
        view = self.current_view()
        if view is None or view.product_id is None:
            self.status.setText("Select one linked listing to unlink")
            return False
        try:
            await self.ctx.run(self.review.unlink, view.id)
        except ListingReviewError as exc:
            self._refused("Cannot unlink", exc)
            return False
        await self._done(f"Unlinked the listing from product #{view.product_id}")
        return True
