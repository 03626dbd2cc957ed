"""Importing products from a CSV file (previewed first) and exporting the catalog to one.

The header names the columns (any order, any case): ``title``, ``description``,
``price``, ``currency``, ``quantity``, ``sku``, ``brand``, ``size``, ``condition`` and
``photos`` (paths separated by ``;``, relative ones taken from the CSV file's folder, or
``https://`` addresses). Only ``title`` and ``price`` are required; other columns are
ignored (and named in the preview). Files are UTF-8 with or without a BOM ("CSV UTF-8"
in Excel), separated by commas or semicolons.

An import is two steps. :func:`preview_file` reads and checks everything without
changing anything: each row's values or its problems (with the row's line number in the
file, the field and the message), SKUs repeated inside the file, SKUs the catalog
already uses, photo files missing or unusable. :func:`commit_import` then adds every
row in one transaction, and only when the preview has no problem at all: a file is
imported completely or not at all.

:func:`export_file` writes every product with the same header, so that an exported file
imports again (stored photos are written as absolute paths, and copied on import).
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.catalog import photos as photo_files
from app.catalog.store import CatalogStore, ProductRow
from app.catalog.validation import (
    FIELDS,
    CsvImportError,
    DuplicateSkuError,
    ProductInput,
    ProductValidationError,
    ProductValues,
    format_price,
    validate,
)

log = logging.getLogger("marketdesk.catalog")

COLUMNS: tuple[str, ...] = FIELDS
REQUIRED_COLUMNS: tuple[str, ...] = ("title", "price")
PHOTO_SEPARATOR = ";"
MAX_ROWS = 10_000
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class RowProblem:
    """One problem of one row: its line number in the file, the field, the message."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class PreviewRow:
    """One data row: the cells as written, and its values or its problems."""

    row: int
    cells: dict[str, str]
    values: ProductValues | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def sku(self) -> str | None:
        """The row's SKU as written (checked for repeats even when other fields are wrong)."""
        return self.cells.get("sku", "").strip() or None

    @property
    def ok(self) -> bool:
        """True when the row can be imported."""
        return self.values is not None and not self.problems


@dataclass
class ImportPreview:
    """What an import of ``path`` would do; nothing is changed until it is committed."""

    path: Path | None
    rows: list[PreviewRow] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[RowProblem]:
        """Every row problem, by row then field."""
        order = {name: i for i, name in enumerate(COLUMNS)}
        return [
            RowProblem(row.row, name, message)
            for row in self.rows
            for name, message in sorted(
                row.problems.items(), key=lambda item: order.get(item[0], len(order))
            )
        ]

    @property
    def error_rows(self) -> int:
        """How many rows have a problem."""
        return sum(1 for row in self.rows if not row.ok)

    @property
    def ok(self) -> bool:
        """True when every row can be imported (and there is at least one)."""
        return not self.file_problems and bool(self.rows) and self.error_rows == 0

    def summary(self) -> str:
        """One sentence for the seller."""
        if self.file_problems:
            return "The file cannot be imported: " + "; ".join(self.file_problems)
        if not self.rows:
            return "The file has no products"
        if self.error_rows:
            return (
                f"{len(self.rows)} row(s), {self.error_rows} with problems "
                f"({len(self.problems)} in all): correct the file and reload it; "
                "nothing is imported while a problem remains"
            )
        return f"{len(self.rows)} product(s) ready to import"


# -- reading ----------------------------------------------------------------------------
def decode(data: bytes) -> str:
    """The text of a UTF-8 file, with or without a BOM."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError(
            f"The file is not UTF-8 text (byte {exc.start + 1}): save it as 'CSV UTF-8'"
        ) from exc


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def _header(cells: Sequence[str], preview: ImportPreview) -> list[str | None]:
    """Each cell's column name (None for an ignored column)."""
    names: list[str | None] = []
    for cell in cells:
        name = cell.strip().lower().replace(" ", "_")
        if name in COLUMNS:
            if name in preview.columns:
                preview.file_problems.append(f"column {name!r} appears twice")
            else:
                preview.columns.append(name)
            names.append(name)
        else:
            if name:
                preview.ignored_columns.append(cell.strip())
            names.append(None)
    missing = [name for name in REQUIRED_COLUMNS if name not in preview.columns]
    if missing:
        preview.file_problems.append(
            f"missing column(s) {', '.join(missing)} (the header must name the columns: "
            f"{', '.join(COLUMNS)})"
        )
    return names


def _photos(cell: str, base_dir: Path | None) -> tuple[tuple[str, ...], list[str]]:
    """The photo entries of a cell (local paths made absolute) and their problems."""
    entries: list[str] = []
    problems: list[str] = []
    for part in cell.split(PHOTO_SEPARATOR):
        entry = part.strip()
        if not entry:
            continue
        if photo_files.is_url(entry):
            entries.append(entry)
            continue
        path = Path(entry).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        problem = photo_files.photo_problem(path)
        if problem is not None:
            problems.append(problem)
        entries.append(str(path))
    return tuple(entries), problems


def _row(number: int, cells: dict[str, str], base_dir: Path | None) -> PreviewRow:
    row = PreviewRow(number, cells)
    photos, photo_problems = _photos(cells.get("photos", ""), base_dir)
    data = ProductInput(
        title=cells.get("title", ""),
        price=cells.get("price", ""),
        description=cells.get("description") or None,
        currency=cells.get("currency") or None,
        quantity=cells.get("quantity") or None,
        sku=cells.get("sku") or None,
        brand=cells.get("brand") or None,
        size=cells.get("size") or None,
        condition=cells.get("condition") or None,
        photos=photos,
    )
    try:
        row.values = validate(data)
    except ProductValidationError as exc:
        row.problems.update(exc.problems)
    if photo_problems and "photos" not in row.problems:
        row.problems["photos"] = "; ".join(photo_problems)
    return row


def parse_csv(text: str, base_dir: Path | None = None, path: Path | None = None) -> ImportPreview:
    """Check every row of a CSV text (no database): values, problems, SKUs repeated."""
    preview = ImportPreview(path)
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    names: list[str | None] | None = None
    last_line = 0
    try:
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if names is None:
                names = _header(cells, preview)
                if preview.file_problems:
                    return preview
                continue
            if len(preview.rows) >= MAX_ROWS:
                preview.file_problems.append(f"more than {MAX_ROWS} rows: split the file")
                return preview
            values = {
                name: cell.strip()
                for name, cell in zip(names, cells, strict=False)
                if name is not None
            }
            row = _row(start, values, base_dir)
            extra = [cell for cell in cells[len(names) :] if cell.strip()]
            if extra:
                row.problems["row"] = (
                    f"{len(cells)} cells but the header names {len(names)} columns "
                    "(a comma inside a value needs quotes)"
                )
            preview.rows.append(row)
    except csv.Error as exc:
        preview.file_problems.append(f"line {reader.line_num}: {exc}")
        return preview
    if names is None:
        preview.file_problems.append("the file is empty")
    _repeated_skus(preview.rows)
    return preview


def _repeated_skus(rows: Sequence[PreviewRow]) -> None:
    where: dict[str, list[int]] = {}
    for row in rows:
        if row.sku is not None:
            where.setdefault(row.sku, []).append(row.row)
    for row in rows:
        if row.sku is None or "sku" in row.problems:
            continue
        others = [n for n in where[row.sku] if n != row.row]
        if others:
            listed = ", ".join(str(n) for n in others)
            row.problems["sku"] = f"{row.sku} is also on row {listed} of this file"


def check_catalog(preview: ImportPreview, owners: Mapping[str, int]) -> None:
    """Mark rows whose SKU a catalog product already uses (``owners``: sku -> id)."""
    for row in preview.rows:
        if row.sku is not None and row.sku in owners and "sku" not in row.problems:
            row.problems["sku"] = f"{row.sku} is already used by product {owners[row.sku]}"


def preview_file(path: Path, store: CatalogStore) -> ImportPreview:
    """Read and check a CSV file against the catalog; changes nothing (blocking)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CsvImportError(f"The file is {size // 1024 // 1024} MB; the limit is 50 MB")
        text = decode(path.read_bytes())
    except OSError as exc:
        return ImportPreview(path, file_problems=[f"cannot read {path}: {exc.strerror or exc}"])
    except CsvImportError as exc:
        return ImportPreview(path, file_problems=[str(exc)])
    preview = parse_csv(text, base_dir=path.parent, path=path)
    check_catalog(preview, store.sku_owners(row.sku for row in preview.rows if row.sku))
    log.info(
        "previewed %s: %d row(s), %d with problems", path, len(preview.rows), preview.error_rows
    )
    return preview


def commit_import(preview: ImportPreview, store: CatalogStore) -> list[int]:
    """Add every row of a problem-free preview, in one transaction; the new ids.

    Refuses (:class:`CsvImportError`, nothing imported) while the preview has problems,
    or when the catalog changed since the preview so that a SKU is now taken.
    """
    if not preview.ok:
        raise CsvImportError(f"Nothing was imported: {preview.summary()}")
    items = [row.values for row in preview.rows if row.values is not None]
    try:
        ids = store.create_many(items)
    except DuplicateSkuError as exc:
        raise CsvImportError(
            f"Nothing was imported: SKU {exc.sku} is now used by product {exc.product_id} "
            "(changed since the preview); preview the file again"
        ) from exc
    log.info("imported %d product(s) from %s", len(ids), preview.path)
    return ids


# -- writing ----------------------------------------------------------------------------
def _photo_cell(row: ProductRow, photos_dir: Path | None) -> str:
    cells: list[str] = []
    for entry in row.photos:
        path = photo_files.resolve(photos_dir, entry)
        cells.append(entry if path is None else str(path))
    return PHOTO_SEPARATOR.join(cells)


def write_csv(stream: TextIO, rows: Iterable[ProductRow], photos_dir: Path | None) -> int:
    """Write ``rows`` as CSV (header first) to a text stream; how many were written."""
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            [
                row.title,
                row.description or "",
                format_price(row.price),
                row.currency,
                row.quantity,
                row.sku or "",
                row.brand or "",
                row.size or "",
                row.condition or "",
                _photo_cell(row, photos_dir),
            ]
        )
        count += 1
    return count


def export_file(path: Path, store: CatalogStore) -> int:
    """Write every product to ``path`` (UTF-8 with BOM, for Excel); how many (blocking).

    The file is replaced at once: a failure never leaves half a file behind.
    """
    rows = store.list_products()
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temp.open("w", encoding="utf-8-sig", newline="") as stream:
            count = write_csv(stream, rows, store.photos_dir)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    log.info("exported %d product(s) to %s", count, path)
    return count
