"""The catalog core: validation, photos, the store's guards, CSV preview/import/export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from app.catalog import (
    CatalogStore,
    CsvImportError,
    DuplicateSkuError,
    PhotoError,
    ProductChangedError,
    ProductInput,
    ProductInUseError,
    ProductValidationError,
    ProductValues,
    commit_import,
    export_file,
    parse_csv,
    preview_file,
    validate,
)
from app.catalog import photos as photo_files
from app.catalog.csv_io import COLUMNS
from app.db import Database
from app.marketplace import MarketplaceJobService
from app.models.user.marketplace_listing import MarketplaceListing

JPEG = b"\xff\xd8\xff\xe0" + b"jpeg" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"png!" * 16
HEADER = ",".join(COLUMNS)


def photo(folder: Path, name: str, data: bytes = JPEG) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture
def photos_dir(tmp_path: Path) -> Path:
    return tmp_path / "photos"


@pytest.fixture
def store(db: Database, photos_dir: Path) -> CatalogStore:
    return CatalogStore(db, photos_dir)


@pytest.fixture
def selects(db: Database) -> Iterator[list[str]]:
    """SELECT statements run from now on."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def values(title: str = "Denim jacket", **fields: Any) -> ProductValues:
    return validate(ProductInput(title=title, price=fields.pop("price", "45"), **fields))


# -- validation -------------------------------------------------------------------------
def test_validation_reports_every_problem_at_once_in_plain_words() -> None:
    bad = ProductInput(
        title=" ",
        price="12.5 EUR",
        currency="EU",
        quantity="two",
        sku="x" * 65,
        condition="like new",
        photos=tuple(f"https://img/{i}.jpg" for i in range(21)),
    )
    with pytest.raises(ProductValidationError) as caught:
        validate(bad)
    assert caught.value.messages() == [
        "title: required",
        "price: must be a number like 12.50",
        "currency: must be 3 letters like EUR",
        "quantity: must be a whole number like 1",
        "sku: at most 64 characters (this one has 65)",
        "condition: must be one of new_with_tags, new_without_tags, very_good, good, "
        "satisfactory (or empty)",
        "photos: at most 20 photos (21 given)",
    ]
    assert str(caught.value).startswith("title: required; price: must be a number like 12.50")


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("", "required (a number like 12.50)"),
        ("-3", "must not be negative"),
        ("1.234", "at most 2 decimals (cents), like 12.50"),
        ("100000000", "must be at most 99999999.99"),
        ("NaN", "must be a number like 12.50"),
    ],
)
def test_price_problems(price: str, message: str) -> None:
    with pytest.raises(ProductValidationError) as caught:
        validate(ProductInput(title="Shirt", price=price))
    assert caught.value.problems == {"price": message}


def test_validation_normalises_what_the_seller_typed() -> None:
    result = validate(
        ProductInput(
            title="  Wool coat ",
            price="12,5",
            currency="usd",
            quantity="",
            sku="  ",
            condition="Very good",
            description="",
        )
    )
    assert result == ProductValues(
        title="Wool coat", price=Decimal("12.50"), currency="USD", quantity=1, condition="very_good"
    )
    assert validate(ProductInput(title="Hat", price=Decimal("3"), quantity=0)).quantity == 0
    with pytest.raises(ProductValidationError) as caught:
        validate(ProductInput(title="Two\nlines", price="1", quantity="-2"))
    assert caught.value.problems == {
        "title": "must be one line of text (no line breaks, tabs or control characters)",
        "quantity": "must not be negative",
    }


# -- photos -----------------------------------------------------------------------------
def test_photos_are_copied_under_safe_unique_names(tmp_path: Path, photos_dir: Path) -> None:
    first = photo(tmp_path / "a", "Été à Paris!.JPEG")
    second = photo(tmp_path / "b", "Été à Paris!.JPEG")  # the same name again
    third = photo(tmp_path / "c", "shot.png", PNG)
    stored = photo_files.copy_photos(photos_dir, 7, [first, second, third])
    assert len(set(stored)) == 3
    assert all(entry.startswith("7/") for entry in stored)
    assert stored[0].startswith("7/ete-a-paris-") and stored[0].endswith(".jpg")
    assert stored[2].endswith(".png")
    assert (photos_dir / stored[0]).read_bytes() == JPEG
    assert photo_files.remove_photos(photos_dir, 7, [stored[0], "../../x.jpg", "8/y.jpg"]) == 1
    assert not (photos_dir / stored[0]).exists()
    assert (photos_dir / stored[1]).exists()


def test_photo_limits_refuse_everything_before_copying(tmp_path: Path, photos_dir: Path) -> None:
    good = photo(tmp_path, "good.jpg")
    gif = photo(tmp_path, "anim.gif", b"GIF89a")
    fake = photo(tmp_path, "fake.png", b"MZ not an image")
    huge = photo(tmp_path, "huge.jpg")
    with huge.open("r+b") as stream:
        stream.truncate(photo_files.MAX_PHOTO_BYTES + 1)
    with pytest.raises(PhotoError) as caught:
        photo_files.copy_photos(photos_dir, 1, [good, gif, fake, huge, tmp_path / "gone.jpg"])
    assert str(caught.value) == (
        "anim.gif: only JPEG, PNG or WebP photos (.jpg, .jpeg, .png, .webp); "
        "fake.png: not a JPEG, PNG or WebP image; "
        "huge.jpg: 20.1 MB, more than the 20 MB allowed per photo; "
        "gone.jpg: file not found"
    )
    with pytest.raises(PhotoError, match="at most 20 photos per product \\(21\\)"):
        photo_files.copy_photos(photos_dir, 1, [good], already=20)
    assert not photos_dir.exists()


# -- store ------------------------------------------------------------------------------
def test_sku_must_be_unique_with_a_clear_error(store: CatalogStore) -> None:
    first = store.create(values(sku="SKU-1"))
    second = store.create(values("Boots", sku="SKU-2"))
    with pytest.raises(DuplicateSkuError) as caught:
        store.create(values("Other", sku="SKU-1"))
    assert caught.value.messages() == [f"sku: already used by product {first.id}"]
    with pytest.raises(DuplicateSkuError):
        store.update(second.id, values("Boots", sku="SKU-1"))
    updated = store.update(first.id, values("Denim jacket L", sku="SKU-1", price="50"))
    assert (updated.title, updated.price, updated.sku) == (
        "Denim jacket L",
        Decimal("50.00"),
        "SKU-1",
    )
    assert store.sku_owner("SKU-2") == second.id
    assert store.sku_owner("SKU-2", exclude=second.id) is None
    assert store.count() == 2


def test_list_shows_listing_states_in_one_query(
    db: Database, store: CatalogStore, selects: list[str]
) -> None:
    listed = store.create(values("Listed"))
    store.create(values("Not listed"))
    with db.session() as session, session.begin():
        session.add_all(
            [
                MarketplaceListing(product_id=listed.id, marketplace="vinted", state="draft"),
                MarketplaceListing(product_id=listed.id, marketplace="ebay", state="active"),
                MarketplaceListing(product_id=listed.id, marketplace="etsy", state="deleted"),
            ]
        )
    selects.clear()
    rows = store.list_products()
    assert len(selects) == 1
    assert [(r.title, r.listed_on) for r in rows] == [
        ("Listed", "eBay: active, Vinted: draft"),
        ("Not listed", ""),
    ]


def test_update_is_guarded_and_drops_removed_photos(
    tmp_path: Path, store: CatalogStore, photos_dir: Path
) -> None:
    a, b = photo(tmp_path, "a.jpg"), photo(tmp_path, "b.jpg")
    row = store.create(values(photos=(str(a), "https://cdn/x.jpg", str(b))))
    stored_a, url, stored_b = row.photos
    assert url == "https://cdn/x.jpg" and stored_a.startswith(f"{row.id}/")
    newer = store.update(row.id, values(photos=(stored_b, url)), base=row)
    assert newer.photos == (stored_b, url)
    assert not (photos_dir / stored_a).exists() and (photos_dir / stored_b).exists()
    with pytest.raises(ProductChangedError, match="changed elsewhere"):
        store.update(row.id, values("Stale"), base=row)
    with pytest.raises(PhotoError):
        store.update(row.id, values(photos=(stored_b, str(tmp_path / "missing.jpg"))))
    assert store.get(row.id).photos == (stored_b, url)


def test_delete_refuses_listed_or_busy_products(
    db: Database, store: CatalogStore, tmp_path: Path, photos_dir: Path
) -> None:
    busy = store.create(values("Busy"))
    listed = store.create(values("Listed", photos=(str(photo(tmp_path, "p.jpg")),)))
    MarketplaceJobService(db).create_job("etsy", "publish", busy.id)
    with db.session() as session, session.begin():
        session.add(MarketplaceListing(product_id=listed.id, marketplace="ebay", state="active"))
    with pytest.raises(ProductInUseError) as caught:
        store.delete(busy.id, listed.id)
    assert f"product {busy.id} has job" in str(caught.value)
    assert f"product {listed.id} is still listed on eBay (active)" in str(caught.value)
    assert store.count() == 2
    with db.session() as session, session.begin():
        session.execute(update(MarketplaceListing).values(state="ended"))
    store.delete(listed.id)
    assert [r.id for r in store.list_products()] == [busy.id]
    assert not (photos_dir / str(listed.id)).exists()


# -- CSV --------------------------------------------------------------------------------
def test_preview_reports_row_errors_with_file_line_numbers(tmp_path: Path) -> None:
    text = (
        "\ufeffTitle;Price;Quantity;Description;Colour\n"
        "Shirt;12,50;2;plain;red\n"
        '"";abc;1;"two\nlines";blue\n'
        "Coat;-4;x;;\n"
        "\n"
        "Hat;5;1;;\n"
    )
    preview = parse_csv(text, base_dir=tmp_path)
    assert preview.ignored_columns == ["Colour"]
    assert [str(p) for p in preview.problems] == [
        "row 3: title: required",
        "row 3: price: must be a number like 12.50",
        "row 5: price: must not be negative",
        "row 5: quantity: must be a whole number like 1",
    ]
    assert [row.row for row in preview.rows] == [2, 3, 5, 7]
    assert preview.rows[0].values == values(
        "Shirt", price="12.50", quantity="2", description="plain"
    )
    assert not preview.ok and preview.error_rows == 2


def test_preview_finds_duplicate_skus_in_the_file_and_the_catalog(
    tmp_path: Path, store: CatalogStore
) -> None:
    taken = store.create(values(sku="OLD-1"))
    path = tmp_path / "in.csv"
    path.write_text(
        "title,price,sku,photos\n"
        "A,1,NEW-1,\n"
        "B,2,OLD-1,\n"
        "C,3,NEW-1,missing.jpg\n"
        "D,4,,https://cdn/d.jpg\n",
        encoding="utf-8",
    )
    preview = preview_file(path, store)
    assert [str(p) for p in preview.problems] == [
        "row 2: sku: NEW-1 is also on row 4 of this file",
        f"row 3: sku: OLD-1 is already used by product {taken.id}",
        "row 4: sku: NEW-1 is also on row 2 of this file",
        "row 4: photos: missing.jpg: file not found",
    ]


def test_file_problems() -> None:
    assert parse_csv("name,cost\nA,1\n").file_problems == [
        "missing column(s) title, price (the header must name the columns: "
        + ", ".join(COLUMNS)
        + ")"
    ]
    assert parse_csv("").file_problems == ["the file is empty"]
    assert parse_csv("title,price\nA,1,extra\n").problems[0].field == "row"


def test_import_is_all_or_nothing(tmp_path: Path, store: CatalogStore, photos_dir: Path) -> None:
    photo(tmp_path, "a.jpg")
    path = tmp_path / "in.csv"
    path.write_text("title,price,sku,photos\nA,1,S-1,a.jpg\nB,x,S-2,\n", encoding="utf-8")
    with pytest.raises(CsvImportError, match="Nothing was imported"):
        commit_import(preview_file(path, store), store)
    assert store.count() == 0

    path.write_text("title,price,sku,photos\nA,1,S-1,a.jpg\nB,2,S-2,a.jpg\n", encoding="utf-8")
    preview = preview_file(path, store)
    assert preview.ok
    other = store.create(values("Meanwhile", sku="S-2"))  # the catalog changed since
    with pytest.raises(CsvImportError, match=f"S-2 is now used by product {other.id}"):
        commit_import(preview, store)
    assert store.count() == 1
    assert not photos_dir.exists() or not any(photos_dir.rglob("*.jpg"))

    store.delete(other.id)
    ids = commit_import(preview_file(path, store), store)
    assert [r.title for r in store.list_products()] == ["A", "B"]
    assert all(store.get(i).photos[0].startswith(f"{i}/") for i in ids)


def test_export_round_trips(tmp_path: Path, store: CatalogStore, photos_dir: Path) -> None:
    store.create(
        values(
            'Jacket, "vintage"',
            price="45.5",
            description="Line one\nline two",
            currency="USD",
            quantity="3",
            sku="J-1",
            brand="Levi's",
            size="M",
            condition="good",
            photos=(str(photo(tmp_path, "j.jpg")), "https://cdn/j2.jpg"),
        )
    )
    store.create(values("Ünïcödé scarf ✓", price="0"))
    before = store.list_products()
    out = tmp_path / "export" / "products.csv"
    out.parent.mkdir()
    assert export_file(out, store) == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + HEADER.encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["price"] == "45.50" and rows[0]["photos"].endswith(";https://cdn/j2.jpg")

    # Deleting without a photos folder keeps the files the exported file points at.
    CatalogStore(store.db).delete(*(r.id for r in before))
    preview = preview_file(out, store)
    assert preview.ok, preview.summary()
    commit_import(preview, store)
    after = store.list_products()
    strip = {"photos": ()}
    assert [{**vars(r.values()), **strip} for r in after] == [
        {**vars(r.values()), **strip} for r in before
    ]
    assert after[0].photos[1] == "https://cdn/j2.jpg"
    assert (photos_dir / after[0].photos[0]).read_bytes() == JPEG
