"""Checking a product as the seller typed it, and the catalog's exception tree.

:class:`ProductInput` holds the editable fields as typed (strings are fine, from the
editor or a CSV row); :func:`validate` turns it into typed :class:`ProductValues` or
raises :class:`ProductValidationError` with *every* problem at once, by field, in plain
words ("price: must be a number like 12.50"). Nothing here touches the database or the
disk: SKU uniqueness is checked by :mod:`app.catalog.store`, photo files by
:mod:`app.catalog.photos`.

Conditions (:data:`CONDITIONS`) follow the usual second-hand scale:

* ``new_with_tags`` - never used, original tags still attached;
* ``new_without_tags`` - never used, tags removed;
* ``very_good`` - used a few times, no visible flaw;
* ``good`` - used, small signs of wear (mentioned in the description);
* ``satisfactory`` - worn, visible flaws (mentioned in the description).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: The editable fields, in the order forms, CSV files and messages use.
FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "price",
    "currency",
    "quantity",
    "sku",
    "brand",
    "size",
    "condition",
    "photos",
)
CONDITIONS: tuple[str, ...] = (
    "new_with_tags",
    "new_without_tags",
    "very_good",
    "good",
    "satisfactory",
)
CONDITION_LABELS: dict[str, str] = {
    "new_with_tags": "New with tags",
    "new_without_tags": "New without tags",
    "very_good": "Very good",
    "good": "Good",
    "satisfactory": "Satisfactory",
}
DEFAULT_CURRENCY = "EUR"
DEFAULT_QUANTITY = 1
MAX_TITLE = 200
MAX_DESCRIPTION = 50_000
MAX_SKU = 64
MAX_BRAND = 100
MAX_SIZE = 50
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)
MAX_PHOTOS = 20

_PRICE = re.compile(r"^\+?(\d+)(?:[.,](\d+))?$")
_QUANTITY = re.compile(r"^\+?\d+$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


# -- exceptions -------------------------------------------------------------------------
class CatalogError(Exception):
    """Base of every error raised by ``app.catalog``."""


class ProductValidationError(CatalogError, ValueError):
    """One or more fields are wrong; ``problems`` maps each field to its message."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        order = {name: i for i, name in enumerate(FIELDS)}
        self.problems: dict[str, str] = dict(
            sorted(problems.items(), key=lambda item: order.get(item[0], len(order)))
        )
        super().__init__("; ".join(self.messages()))

    def messages(self) -> list[str]:
        """Every problem as ``"field: message"``."""
        return [f"{name}: {message}" for name, message in self.problems.items()]


class DuplicateSkuError(ProductValidationError):
    """The SKU is already used by another product."""

    def __init__(self, sku: str, product_id: int) -> None:
        self.sku = sku
        self.product_id = product_id
        super().__init__({"sku": f"already used by product {product_id}"})


class ProductNotFoundError(CatalogError, LookupError):
    """No product has the given id (deleted meanwhile?)."""

    def __init__(self, product_id: int) -> None:
        super().__init__(f"Product {product_id} does not exist (deleted meanwhile?)")
        self.product_id = product_id


class ProductChangedError(CatalogError):
    """The product changed since the editor loaded it; saving would overwrite that."""


class ProductInUseError(CatalogError):
    """The product cannot be deleted: it is listed somewhere or a job works on it."""


class PhotoError(CatalogError):
    """A photo cannot be stored (type, size, count, unreadable file...)."""


class CsvImportError(CatalogError):
    """A CSV file cannot be read or imported as it is."""


# -- values -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductInput:
    """The editable fields as the seller typed them (strings are fine).

    ``photos`` entries are stored photos (paths relative to the photos folder), web
    addresses, or local files to add (copied into the photos folder when saved).
    """

    title: str = ""
    price: str | Decimal | int = ""
    description: str | None = None
    currency: str | None = None
    quantity: str | int | None = None
    sku: str | None = None
    brand: str | None = None
    size: str | None = None
    condition: str | None = None
    photos: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductValues:
    """A valid product, typed; what the store writes."""

    title: str
    price: Decimal
    description: str | None = None
    currency: str = DEFAULT_CURRENCY
    quantity: int = DEFAULT_QUANTITY
    sku: str | None = None
    brand: str | None = None
    size: str | None = None
    condition: str | None = None
    photos: tuple[str, ...] = ()

    def as_input(self) -> ProductInput:
        """The values as an editor shows them (``price`` as ``12.50``)."""
        return ProductInput(
            title=self.title,
            price=format_price(self.price),
            description=self.description,
            currency=self.currency,
            quantity=str(self.quantity),
            sku=self.sku,
            brand=self.brand,
            size=self.size,
            condition=self.condition,
            photos=self.photos,
        )


def format_price(price: Decimal) -> str:
    """``Decimal('12.5')`` -> ``"12.50"``."""
    return f"{price.quantize(Decimal('0.01'))}"


# -- checks -----------------------------------------------------------------------------
def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _short_text(
    value: object, name: str, limit: int, problems: dict[str, str], *, required: bool = False
) -> str | None:
    text = _text(value)
    if not text:
        if required:
            problems[name] = "required"
        return None
    if len(text) > limit:
        problems[name] = f"at most {limit} characters (this one has {len(text)})"
    elif any(unicodedata.category(ch) == "Cc" for ch in text):
        problems[name] = "must be one line of text (no line breaks, tabs or control characters)"
    return text


def _price(value: object, problems: dict[str, str]) -> Decimal:
    if isinstance(value, bool):
        value = ""
    if isinstance(value, Decimal | int | float):
        value = str(value)
    text = _text(value)
    if not text:
        problems["price"] = "required (a number like 12.50)"
        return Decimal(0)
    if text.startswith("-") and _PRICE.match(text[1:]):
        problems["price"] = "must not be negative"
        return Decimal(0)
    match = _PRICE.match(text)
    if match is None:
        problems["price"] = "must be a number like 12.50"
        return Decimal(0)
    whole, cents = match.group(1), match.group(2) or ""
    if len(cents.rstrip("0")) > 2:
        problems["price"] = "at most 2 decimals (cents), like 12.50"
        return Decimal(0)
    try:
        price = Decimal(f"{whole}.{cents or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:
        price = MAX_PRICE + 1
    if price > MAX_PRICE:
        problems["price"] = f"must be at most {MAX_PRICE}"
        return Decimal(0)
    return price


def _quantity(value: object, problems: dict[str, str]) -> int:
    if isinstance(value, bool):
        value = None
    text = _text(value)
    if not text:
        return DEFAULT_QUANTITY
    if text.startswith("-") and _QUANTITY.match(text[1:]):
        problems["quantity"] = "must not be negative"
        return 0
    if _QUANTITY.match(text) is None:
        problems["quantity"] = "must be a whole number like 1"
        return 0
    quantity = int(text)
    if quantity > MAX_QUANTITY:
        problems["quantity"] = f"must be at most {MAX_QUANTITY}"
        return 0
    return quantity


def _currency(value: object, problems: dict[str, str]) -> str:
    text = _text(value)
    if not text:
        return DEFAULT_CURRENCY
    if _CURRENCY.match(text) is None:
        problems["currency"] = "must be 3 letters like EUR"
        return DEFAULT_CURRENCY
    return text.upper()


def normalize_condition(value: object) -> str | None:
    """``"Very good"``, ``"very-good"``, ``"VERY_GOOD"`` -> ``"very_good"`` (None if empty)."""
    text = _text(value).lower()
    if not text:
        return None
    return re.sub(r"[\s\-]+", "_", text)


def _condition(value: object, problems: dict[str, str]) -> str | None:
    condition = normalize_condition(value)
    if condition is not None and condition not in CONDITIONS:
        problems["condition"] = f"must be one of {', '.join(CONDITIONS)} (or empty)"
        return None
    return condition


def _photos(value: object, problems: dict[str, str]) -> tuple[str, ...]:
    entries: list[str] = []
    items = value if isinstance(value, list | tuple) else ([] if value is None else [value])
    for item in items:
        entry = _text(item)
        if entry and entry not in entries:
            entries.append(entry)
    if len(entries) > MAX_PHOTOS:
        problems["photos"] = f"at most {MAX_PHOTOS} photos ({len(entries)} given)"
    return tuple(entries)


def validate(data: ProductInput) -> ProductValues:
    """The typed values of ``data``, or :class:`ProductValidationError` with every problem."""
    problems: dict[str, str] = {}
    title = _short_text(data.title, "title", MAX_TITLE, problems, required=True)
    description = _text(data.description) or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        problems["description"] = f"at most {MAX_DESCRIPTION} characters"
    price = _price(data.price, problems)
    currency = _currency(data.currency, problems)
    quantity = _quantity(data.quantity, problems)
    sku = _short_text(data.sku, "sku", MAX_SKU, problems)
    brand = _short_text(data.brand, "brand", MAX_BRAND, problems)
    size = _short_text(data.size, "size", MAX_SIZE, problems)
    condition = _condition(data.condition, problems)
    photos = _photos(data.photos, problems)
    if problems:
        raise ProductValidationError(problems)
    return ProductValues(
        title=title or "",
        price=price,
        description=description,
        currency=currency,
        quantity=quantity,
        sku=sku,
        brand=brand,
        size=size,
        condition=condition,
        photos=photos,
    )


def problems_of(data: ProductInput) -> dict[str, str]:
    """The problems of ``data`` by field (empty when valid): for forms that check as typed."""
    try:
        validate(data)
    except ProductValidationError as exc:
        return exc.problems
    return {}
