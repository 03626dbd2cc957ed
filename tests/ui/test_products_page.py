"""The Products page: editor checks and saves, delete with confirmation, CSV import/export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from app.catalog import CatalogStore, ProductInput, ProductRow, validate
from app.catalog import photos as photo_files
from app.db import Database
from app.models.user.marketplace_listing import MarketplaceListing
from app.ui.context import UiContext
from app.ui.csv_import_dialog import CELL_ERROR, HEADERS, ROW_ERROR
from app.ui.products_page import ProductsModel, ProductsPage
from tests.ui.conftest import signal_future

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg" * 64


def texts(page: ProductsPage) -> list[list[str]]:
    """The table as shown (source order)."""
    return [
        [ProductsModel.text(row, column) for column in range(page.model.columnCount())]
        for row in page.model.rows
    ]


def add(db: Database, title: str, **fields: str) -> ProductRow:
    values = validate(ProductInput(title=title, price=fields.pop("price", "9.99"), **fields))
    return CatalogStore(db).create(values)


async def test_editor_checks_fields_then_saves_a_product_into_the_table(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    photos_dir = tmp_path / "photos"
    picture = tmp_path / "jacket.jpg"
    picture.write_bytes(JPEG)
    page = ProductsPage(ctx, photos_dir)
    await page.refresh()
    assert page.model.rowCount() == 0
    assert page.new_action.shortcut() == QKeySequence("Ctrl+N")
    assert page.delete_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Delete)

    page.new_action.trigger()
    editor = page.editor
    assert editor is not None and editor.isVisible()
    assert editor.messages["title"].text() == "required"
    assert not editor.save_button.isEnabled()
    editor.set_values(ProductInput(title="Denim jacket", price="12.5 EUR", quantity="-1"))
    assert editor.messages["title"].text() == ""
    assert editor.messages["price"].text() == "must be a number like 12.50"
    assert editor.messages["quantity"].text() == "must not be negative"
    assert await editor.save() is False
    assert editor.status.text() == "Correct the fields marked in red"
    assert CatalogStore(db).count() == 0

    editor.lines["price"].setText("45,5")
    editor.lines["quantity"].setText("2")
    editor.lines["sku"].setText("DJ-1")
    editor.condition.setCurrentIndex(editor.condition.findData("very_good"))
    editor.add_photos([tmp_path / "notes.txt"])
    assert editor.messages["photos"].text().startswith("notes.txt: only JPEG, PNG or WebP")
    editor.photos.setCurrentRow(0)
    editor.remove_selected_photos()
    editor.add_photos([picture])
    assert editor.save_button.isEnabled()
    refreshed = signal_future(page.refreshed)
    assert await editor.save() is True
    await refreshed

    assert not editor.isVisible()
    (row,) = page.model.rows
    assert texts(page) == [
        [str(row.id), "Denim jacket", "45.50 EUR", "2", "DJ-1", "", "", "Very good", ""]
    ]
    assert page.selected_ids() == [row.id]
    (stored,) = row.photos
    assert stored.startswith(f"{row.id}/") and (photos_dir / stored).read_bytes() == JPEG
    assert errors == []


async def test_a_photo_found_fine_is_not_read_again_per_keystroke(
    ctx: UiContext,
    db: Database,
    tmp_path: Path,
    errors: list[tuple[str, BaseException]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked: list[str] = []
    problem_of = photo_files.photo_problem

    def counted(path: Path) -> str | None:
        looked.append(path.name)
        return problem_of(path)

    monkeypatch.setattr(photo_files, "photo_problem", counted)
    picture = tmp_path / "jacket.jpg"
    picture.write_bytes(b"not a picture yet")
    page = ProductsPage(ctx, tmp_path / "photos")
    page.new_action.trigger()
    editor = page.editor
    assert editor is not None
    editor.lines["price"].setText("12")
    editor.add_photos([picture])
    assert editor.messages["photos"].text() == "jacket.jpg: not a JPEG, PNG or WebP image"
    editor.lines["title"].setText("D")  # a file with a problem is read again...
    assert len(looked) == 2 and not editor.save_button.isEnabled()
    picture.write_bytes(JPEG)  # ...so that fixing it on disk is seen
    editor.lines["title"].setText("De")
    assert editor.messages["photos"].text() == "" and editor.save_button.isEnabled()
    assert len(looked) == 3
    for text in ("Den", "Deni", "Denim"):  # a fine file is not read per keystroke
        editor.lines["title"].setText(text)
    assert len(looked) == 3
    refreshed = signal_future(page.refreshed)
    editor.save_button.click()  # saving reads it again (the editor, then the store)
    await refreshed
    assert looked == ["jacket.jpg"] * 5
    (row,) = page.model.rows
    assert row.title == "Denim" and len(row.photos) == 1 and errors == []


async def test_edit_shows_a_used_sku_beside_the_field_and_delete_is_confirmed(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    listed = add(db, "Listed coat", sku="A-1")
    other = add(db, "Scarf", sku="B-1", brand="Acme")
    with db.session() as session, session.begin():
        session.add(MarketplaceListing(product_id=listed.id, marketplace="vinted", state="active"))
    page = ProductsPage(ctx, tmp_path / "photos")
    await page.refresh()
    assert [r[-1] for r in texts(page)] == ["Vinted: active", ""]

    page.select_ids([other.id])
    editor = page.edit_selected()
    assert editor is not None
    assert (editor.lines["title"].text(), editor.lines["brand"].text()) == ("Scarf", "Acme")
    editor.lines["sku"].setText("A-1")
    assert await editor.save() is False
    assert editor.messages["sku"].text() == f"already used by product {listed.id}"
    assert editor.isVisible()
    editor.lines["sku"].setText("B-2")
    refreshed = signal_future(page.refreshed)
    assert await editor.save() is True
    await refreshed
    assert [r[4] for r in texts(page)] == ["A-1", "B-2"]

    page.select_ids([listed.id, other.id])
    box = page.delete_selected()
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Yes).click()
    await ctx.drain()
    assert page.status.text().startswith(
        f"Nothing was deleted: product {listed.id} is still listed on Vinted (active)"
    )
    assert CatalogStore(db).count() == 2

    page.select_ids([other.id])
    box = page.delete_selected()
    assert box is not None
    box.button(QMessageBox.StandardButton.No).click()
    await ctx.drain()
    assert CatalogStore(db).count() == 2
    box = page.delete_selected()
    assert box is not None
    box.button(QMessageBox.StandardButton.Yes).click()
    await ctx.drain()
    assert [r[1] for r in texts(page)] == ["Listed coat"]
    assert errors == []


async def test_csv_import_previews_problems_and_imports_only_a_clean_file(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    add(db, "Old", sku="OLD")
    path = tmp_path / "products.csv"
    path.write_text(
        "title,price,sku,condition\nShirt,12.50,S-1,good\n,abc,S-2,\nHat,3,OLD,new\n",
        encoding="utf-8-sig",
    )
    page = ProductsPage(ctx, tmp_path / "photos")
    await page.refresh()
    dialog = await page.open_import(path)

    assert dialog.isVisible()
    assert not dialog.import_button.isEnabled()
    assert dialog.error_rows() == [3, 4]
    assert dialog.table.rowCount() == 3
    title, problems = HEADERS.index("title"), HEADERS.index("Problems")
    assert dialog.table.item(1, title).background().color() == CELL_ERROR
    assert dialog.table.item(1, 0).background().color() == ROW_ERROR
    assert dialog.table.item(0, title).background().style().name == "NoBrush"
    assert dialog.table.item(1, problems).text() == (
        "title: required; price: must be a number like 12.50"
    )
    assert dialog.table.item(2, problems).text() == (
        "condition: must be one of new_with_tags, new_without_tags, very_good, good, "
        "satisfactory (or empty); sku: OLD is already used by product 1"
    )
    assert "nothing is imported while a problem remains" in dialog.summary.text()
    assert await dialog.import_rows() is False
    assert CatalogStore(db).count() == 1

    path.write_text(
        "title,price,sku,condition\nShirt,12.50,S-1,good\nSocks,2,S-2,\nHat,3,H-1,new with tags\n",
        encoding="utf-8",
    )
    await dialog.reload()
    assert dialog.import_button.isEnabled()
    assert dialog.summary.text() == "3 product(s) ready to import"
    refreshed = signal_future(page.refreshed)
    assert await dialog.import_rows() is True
    await refreshed
    assert not dialog.isVisible()
    assert [(r[1], r[4], r[7]) for r in texts(page)] == [
        ("Old", "OLD", ""),
        ("Shirt", "S-1", "Good"),
        ("Socks", "S-2", ""),
        ("Hat", "H-1", "New with tags"),
    ]
    assert page.status.text() == "4 product(s)"
    assert errors == []


async def test_export_writes_every_product(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    add(db, "Jacket, vintage", price="45", sku="J-1", description="Two\nlines")
    add(db, "Cap", price="5.5", currency="usd", quantity="0")
    page = ProductsPage(ctx, tmp_path / "photos")
    await page.refresh()
    out = tmp_path / "export.csv"
    assert await page.export_to(out) == 2
    assert page.status.text() == f"Exported 2 product(s) to {out}"
    with out.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [(r["title"], r["price"], r["currency"], r["quantity"]) for r in rows] == [
        ("Jacket, vintage", "45.00", "EUR", "1"),
        ("Cap", "5.50", "USD", "0"),
    ]
    assert rows[0]["description"] == "Two\nlines"
    assert await page.export_to(tmp_path / "missing" / "x.csv") is None
    assert page.status.text().startswith("Export failed")
    assert errors == []


async def test_listing_changes_reload_the_page_when_it_is_shown(
    ctx: UiContext, db: Database, tmp_path: Path, errors: list[tuple[str, BaseException]]
) -> None:
    page = ProductsPage(ctx, tmp_path / "photos")
    await page.refresh()
    add(db, "Synced meanwhile")
    ctx.relay.jobChanged.emit(1, "ebay", "completed")  # while hidden: nothing is loaded
    assert page.model.rowCount() == 0
    refreshed = signal_future(page.refreshed)
    page.show()
    await refreshed
    assert [r[1] for r in texts(page)] == ["Synced meanwhile"]
    page.hide()
    assert errors == []
