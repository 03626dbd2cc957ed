"""Marketplace-specific job fields: declared once, validated before any call.

A marketplace declares its fields (eBay category, condition, policies; Etsy taxonomy,
who_made, when_made, profiles) as :class:`FieldSpec`. :func:`resolve_fields` takes each
value from the job's ``input_data``, else the seller's defaults for that marketplace,
checks and converts it, and reports every problem at once with the field's name, so the
seller sees "category_id: required ..." instead of a refusal from the marketplace. The
window's job forms use the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from app.marketplace.errors import PermanentJobError

if TYPE_CHECKING:
    from app.models.user.product import Product

Kind = Literal["text", "integer", "choice", "boolean"]
#: The input key of a publish or update job's price override (a decimal string).
PRICE_KEY = "price"
#: The highest price a listing can hold (the database keeps 10 digits, 2 after the point).
PRICE_LIMIT = Decimal("99999999.99")
_CENT = Decimal("0.01")


class FieldError(PermanentJobError, ValueError):
    """One or more fields are missing or wrong; ``problems`` maps field to message."""

    def __init__(self, marketplace: str, problems: dict[str, str]) -> None:
        details = "; ".join(f"{name}: {message}" for name, message in problems.items())
        super().__init__(f"Invalid {marketplace} fields: {details}")
        self.problems = problems


@dataclass(frozen=True)
class FieldSpec:
    """One field: how it is called, what it holds, whether a job needs it."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = True
    choices: Sequence[str] = ()
    default: Any = None
    help: str = ""

    def convert(self, value: Any) -> Any:
        """The value in its proper type; raises ValueError with words for the seller."""
        if self.kind == "integer":
            if isinstance(value, bool):
                raise ValueError("must be a whole number")
            try:
                number = int(str(value).strip())
            except ValueError:
                raise ValueError(f"must be a whole number, not {value!r}") from None
            if number <= 0:
                raise ValueError("must be a positive number")
            return number
        if self.kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes"):
                return True
            if text in ("0", "false", "no"):
                return False
            raise ValueError("must be true or false")
        text = str(value).strip()
        if self.kind == "choice" and text not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}, not {text!r}")
        if not text:
            raise ValueError("must not be empty")
        return text


def parse_price(value: Any) -> Decimal:
    """A listing price from a decimal string or number: more than 0, at most 2 decimals.

    Raises ValueError with words for the seller ("must be more than 0").
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"must be a number like 12.50, not {value!r}")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"must be a number like 12.50, not {value!r}") from None
    if not price.is_finite():
        raise ValueError(f"must be a number like 12.50, not {value!r}")
    if price <= 0:
        raise ValueError("must be more than 0")
    if price != price.quantize(_CENT):
        raise ValueError("must have at most 2 decimals")
    if price > PRICE_LIMIT:
        raise ValueError(f"must be at most {PRICE_LIMIT}")
    return price.quantize(_CENT)


def resolve_fields(
    marketplace: str,
    specs: Sequence[FieldSpec],
    input_data: Mapping[str, Any] | None,
    defaults: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The job's field values (input, else seller default, else spec default), checked."""
    given = dict(input_data or {})
    fallback = dict(defaults or {})
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if raw in (None, ""):
            raw = fallback.get(spec.name)
        if raw in (None, ""):
            raw = spec.default
        if raw in (None, ""):
            if spec.required:
                problems[spec.name] = (
                    f"{spec.label} is required (in the job, or as a default in Settings)"
                )
            continue
        try:
            values[spec.name] = spec.convert(raw)
        except ValueError as exc:
            problems[spec.name] = f"{spec.label} {exc}"
    if problems:
        raise FieldError(marketplace, problems)
    return values


def product_problems(
    product: Product, marketplace: str, *, title_limit: int, publishing: bool
) -> dict[str, str]:
    """What a marketplace would refuse in a catalog product, by field (empty when fine)."""
    problems: dict[str, str] = {}
    if len(product.title) > title_limit:
        problems["title"] = f"{marketplace} titles hold at most {title_limit} characters"
    if publishing and not (product.description or "").strip():
        problems["description"] = f"{marketplace} needs a description to publish"
    if publishing and product.quantity < 1:
        problems["quantity"] = "must be at least 1 to publish"
    if product.price <= 0:
        problems["price"] = "must be more than 0"
    return problems


def photo_files(product: Product, photos_dir: Path | None, marketplace: str) -> list[Path]:
    """The product's photo files (relative ones under ``photos_dir``), all present."""
    files: list[Path] = []
    missing: list[str] = []
    for entry in product.photos:
        if not isinstance(entry, str) or entry.startswith(("http://", "https://")):
            continue
        path = Path(entry)
        if not path.is_absolute() and photos_dir is not None:
            path = photos_dir / path
        if path.is_file():
            files.append(path)
        else:
            missing.append(entry)
    if missing:
        raise FieldError(marketplace, {"photos": f"file(s) not found: {', '.join(missing)}"})
    if not files:
        raise FieldError(
            marketplace, {"photos": f"{marketplace} needs at least one photo to publish"}
        )
    return files
