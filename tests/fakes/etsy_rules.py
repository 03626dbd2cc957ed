"""Etsy's rules as the fake applies them: field coercion and validation, error shapes.

Etsy answers validation failures with an array ``[{"path","type","message"}]`` listing every
bad field; other errors are ``{"error": ...}`` (plus ``error_description`` for OAuth).
Form-encoded values arrive as strings, so numbers and booleans are coerced the way Etsy does.
The builders at the end shape the records the fake stores (listings, inventories, receipts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fakes.wire import Request, Response, json_response

WHO_MADE = ("i_did", "someone_else", "collective")
WHEN_MADE = (
    "made_to_order", "2020_2026", "2010_2019", "2007_2009", "before_2007", "2000_2006",
    "1990s", "1980s", "1970s", "1960s", "1950s", "1940s", "1930s", "1920s", "1910s",
    "1900s", "1800s", "1700s", "before_1700",
)  # fmt: skip
LISTING_TYPES = ("physical", "download", "both")
STATES = ("active", "inactive", "draft")
#: States getListingsByShop filters by (a listing can only be *set* to STATES).
LISTED_STATES = (*STATES, "sold_out", "expired")
REQUIRED_ON_CREATE = (
    "quantity",
    "title",
    "description",
    "price",
    "who_made",
    "when_made",
    "taxonomy_id",
)
PHYSICAL_REQUIRED = ("shipping_profile_id", "readiness_state_id")
UPDATABLE = (
    "title",
    "description",
    "state",
    "who_made",
    "when_made",
    "is_supply",
    "taxonomy_id",
    "shipping_profile_id",
    "readiness_state_id",
    "type",
    "tags",
)
_ENUMS: dict[str, tuple[str, ...]] = {
    "who_made": WHO_MADE,
    "when_made": WHEN_MADE,
    "type": LISTING_TYPES,
    "state": STATES,
}
_INT_MINIMUM = {"quantity": 1, "taxonomy_id": 1, "shipping_profile_id": 1, "readiness_state_id": 1}
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")

Problem = dict[str, str]


def oauth_error(status: int, error: str, description: str) -> Response:
    """``{"error", "error_description"}``, the OAuth endpoints' shape."""
    return json_response(status, {"error": error, "error_description": description})


def plain_error(status: int, message: str) -> Response:
    """``{"error": message}``."""
    return json_response(status, {"error": message})


def problem(path: str, kind: str, message: str) -> Problem:
    """One entry of a validation array."""
    return {"path": path, "type": kind, "message": message}


def as_int(value: Any) -> int | None:
    """An integer from a JSON number or a form string (None when it is not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    """A finite number from a JSON number or a form string (None when it is not one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_bool(value: Any) -> bool | None:
    """A boolean from JSON or a form string (None when it is not one)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return None


def money(amount: float, currency: str = "USD") -> dict[str, Any]:
    """Etsy's Money object for a price in units (cents, divisor 100)."""
    cents = int((Decimal(str(amount)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {"amount": cents, "divisor": 100, "currency_code": currency}


def check_field(name: str, value: Any) -> tuple[Any, Problem | None]:
    """The coerced value of one listing field, or the problem with it."""
    path = f"/{name}"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, problem(path, "required", f"{name} is required")
    if name in ("title", "description"):
        if not isinstance(value, str):
            return None, problem(path, "invalid", f"{name} must be a string")
        return value, None
    if name == "price":
        number = as_float(value)
        if number is None or number <= 0:
            return None, problem(path, "invalid", "price must be a number greater than 0")
        return number, None
    if name in _INT_MINIMUM:
        integer = as_int(value)
        if integer is None or integer < _INT_MINIMUM[name]:
            return None, problem(
                path, "invalid", f"{name} must be an integer >= {_INT_MINIMUM[name]}"
            )
        return integer, None
    if name in _ENUMS:
        if value not in _ENUMS[name]:
            allowed = ", ".join(_ENUMS[name])
            return None, problem(path, "invalid", f"{name} must be one of {allowed}")
        return value, None
    if name == "is_supply":
        flag = as_bool(value)
        if flag is None:
            return None, problem(path, "invalid", "is_supply must be a boolean")
        return flag, None
    if name == "tags":
        tags = value.split(",") if isinstance(value, str) else value
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return None, problem(path, "invalid", "tags must be a list of strings")
        return [t.strip() for t in tags if t.strip()], None
    return value, None


def create_listing_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Validated fields of createDraftListing, or every problem found."""
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    kind = fields.get("type") or "physical"
    required = REQUIRED_ON_CREATE + (PHYSICAL_REQUIRED if kind in ("physical", "both") else ())
    optional = ("type", "is_supply", "tags")
    for name in required + optional:
        if name not in required and name not in fields:
            continue
        value, trouble = check_field(name, fields.get(name))
        if trouble is not None:
            problems.append(trouble)
        else:
            clean[name] = value
    clean.setdefault("type", "physical")
    clean.setdefault("is_supply", False)
    return clean, problems


def update_listing_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Validated fields of updateListing (only those sent), or every problem found."""
    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    for name in UPDATABLE:
        if name in fields:
            value, trouble = check_field(name, fields[name])
            if trouble is not None:
                problems.append(trouble)
            else:
                clean[name] = value
    return clean, problems


def inventory_products(body: Any) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The products of an updateListingInventory body as (sku, offerings, property_values)
    dicts with plain numbers, or every problem found."""
    products = body.get("products") if isinstance(body, dict) else None
    if not isinstance(products, list) or not products:
        return [], [problem("/products", "required", "products must be a non-empty array")]
    clean: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for p_index, product in enumerate(products):
        base = f"/products/{p_index}"
        if not isinstance(product, dict):
            problems.append(problem(base, "invalid", "product must be an object"))
            continue
        sku = product.get("sku", "")
        if not isinstance(sku, str):
            problems.append(problem(f"{base}/sku", "invalid", "sku must be a string"))
        offerings = product.get("offerings")
        if not isinstance(offerings, list) or not offerings:
            problems.append(
                problem(f"{base}/offerings", "required", "offerings must be a non-empty array")
            )
            continue
        kept = []
        for o_index, offering in enumerate(offerings):
            path = f"{base}/offerings/{o_index}"
            if not isinstance(offering, dict):
                problems.append(problem(path, "invalid", "offering must be an object"))
                continue
            price = as_float(offering.get("price"))
            if price is None or price <= 0:
                problems.append(problem(f"{path}/price", "invalid", "price must be > 0"))
            quantity = offering.get("quantity")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                problems.append(
                    problem(f"{path}/quantity", "invalid", "quantity must be an integer >= 0")
                )
            enabled = offering.get("is_enabled", True)
            if not isinstance(enabled, bool):
                problems.append(problem(f"{path}/is_enabled", "invalid", "must be a boolean"))
            kept.append({"price": price, "quantity": quantity, "is_enabled": enabled})
        values = product.get("property_values", [])
        clean.append({"sku": sku, "offerings": kept, "property_values": values})
    return clean, problems


def page(request: Request, default: int = 25, maximum: int = 100) -> tuple[int, int] | Response:
    """(limit, offset) from the query, limit clamped to ``maximum``; a 400 when malformed."""
    limit = as_int(request.arg("limit") or default)
    offset = as_int(request.arg("offset") or 0)
    problems = []
    if limit is None or limit < 1:
        problems.append(problem("/limit", "invalid", "limit must be an integer >= 1"))
    if offset is None or offset < 0:
        problems.append(problem("/offset", "invalid", "offset must be an integer >= 0"))
    if problems or limit is None or offset is None:
        return json_response(400, problems)
    return min(limit, maximum), offset


def epoch(when: datetime | None) -> int:
    """Epoch seconds of ``when`` (now when None)."""
    return int((when or datetime.now(UTC)).timestamp())


def new_listing(
    listing_id: int, shop_id: int, user_id: int, fields: dict[str, Any], now: int
) -> dict[str, Any]:
    """A draft listing from the validated fields of createDraftListing."""
    return {
        "listing_id": listing_id,
        "shop_id": shop_id,
        "user_id": user_id,
        "title": fields["title"],
        "description": fields["description"],
        "state": "draft",
        "quantity": fields["quantity"],
        "price": money(fields["price"]),
        "url": f"https://www.etsy.com/listing/{listing_id}",
        "taxonomy_id": fields["taxonomy_id"],
        "who_made": fields["who_made"],
        "when_made": fields["when_made"],
        "is_supply": fields["is_supply"],
        "type": fields["type"],
        "shipping_profile_id": fields.get("shipping_profile_id"),
        "readiness_state_id": fields.get("readiness_state_id"),
        "tags": fields.get("tags", []),
        "skus": [],
        "created_timestamp": now,
        "updated_timestamp": now,
    }


def new_inventory(products: list[dict[str, Any]], next_id: Callable[[], int]) -> dict[str, Any]:
    """An inventory record from products checked by :func:`inventory_products`."""
    shaped = [
        {
            "product_id": 7_000_000_000 + next_id(),
            "sku": product["sku"],
            "is_deleted": False,
            "offerings": [
                {
                    "offering_id": 6_000_000_000 + next_id(),
                    "quantity": offering["quantity"],
                    "is_enabled": offering["is_enabled"],
                    "is_deleted": False,
                    "price": money(offering["price"]),
                }
                for offering in product["offerings"]
            ],
            "property_values": product["property_values"],
        }
        for product in products
    ]
    return {
        "products": shaped,
        "price_on_property": [],
        "quantity_on_property": [],
        "sku_on_property": [],
    }


def inventory_totals(inventory: dict[str, Any]) -> dict[str, Any]:
    """What an inventory makes of its listing: quantity (sum of enabled offerings), price
    (the lowest) and skus."""
    offers = [o for p in inventory["products"] for o in p["offerings"]]
    enabled = [o for o in offers if o["is_enabled"]] or offers
    return {
        "quantity": sum(o["quantity"] for o in enabled),
        "price": dict(min((o["price"] for o in enabled), key=lambda m: m["amount"])),
        "skus": [p["sku"] for p in inventory["products"] if p["sku"]],
    }


def new_receipt(
    ids: tuple[int, int], listing: dict[str, Any], quantity: int, stamp: int, buyer: str
) -> dict[str, Any]:
    """A paid receipt (ids: receipt_id, transaction_id) with one transaction for a listing."""
    receipt_id, transaction_id = ids
    price = dict(listing["price"])
    return {
        "receipt_id": receipt_id,
        "seller_user_id": listing["user_id"],
        "name": buyer,
        "status": "paid",
        "is_paid": True,
        "is_shipped": False,
        "created_timestamp": stamp,
        "updated_timestamp": stamp,
        "grandtotal": dict(price, amount=price["amount"] * quantity),
        "transactions": [
            {
                "transaction_id": transaction_id,
                "listing_id": listing["listing_id"],
                "sku": listing["skus"][0] if listing["skus"] else "",
                "title": listing["title"],
                "quantity": quantity,
                "price": price,
            }
        ],
    }
