"""eBay's rules as the fake applies them: error bodies, field validation, dates, paging.

Pure functions, no state: :mod:`tests.fakes.ebay` calls them from its routes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from tests.fakes.wire import Request, Response

SCOPE_BASE = "https://api.ebay.com/oauth/api_scope"
SELL_SCOPES = (
    SCOPE_BASE,
    f"{SCOPE_BASE}/sell.inventory",
    f"{SCOPE_BASE}/sell.fulfillment",
    f"{SCOPE_BASE}/sell.account",
)
CONDITIONS = frozenset(
    {
        "NEW",
        "LIKE_NEW",
        "NEW_OTHER",
        "USED_EXCELLENT",
        "USED_VERY_GOOD",
        "USED_GOOD",
        "USED_ACCEPTABLE",
        "FOR_PARTS_OR_NOT_WORKING",
    }
)
LANGUAGES = frozenset(
    {
        "en-US", "en-GB", "en-AU", "en-CA", "en-IE", "en-IN", "en-SG", "en-MY", "en-PH",
        "fr-FR", "fr-BE", "fr-CA", "fr-CH", "de-DE", "de-AT", "de-CH", "it-IT", "es-ES",
        "nl-NL", "nl-BE", "pl-PL", "zh-HK",
    }
)  # fmt: skip
MARKETPLACES = frozenset(
    {
        "EBAY_US", "EBAY_GB", "EBAY_DE", "EBAY_FR", "EBAY_IT", "EBAY_ES", "EBAY_AU",
        "EBAY_CA", "EBAY_AT", "EBAY_BE", "EBAY_CH", "EBAY_IE", "EBAY_NL", "EBAY_PL",
        "EBAY_HK", "EBAY_SG", "EBAY_MY", "EBAY_PH", "EBAY_IN", "EBAY_MOTORS",
    }
)  # fmt: skip
OFFER_TEXT_FIELDS = (
    "categoryId",
    "listingPolicies.fulfillmentPolicyId",
    "listingPolicies.paymentPolicyId",
    "listingPolicies.returnPolicyId",
    "merchantLocationKey",
)
_MISSING = object()
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DECIMAL = re.compile(r"\d+(\.\d+)?")


def error_body(
    error_id: int,
    message: str,
    *,
    domain: str = "API_INVENTORY",
    category: str = "REQUEST",
    long_message: str | None = None,
    parameters: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One entry of eBay's ``errors`` array."""
    return {
        "errorId": error_id,
        "domain": domain,
        "category": category,
        "message": message,
        "longMessage": long_message or message,
        "parameters": parameters or [],
    }


def errors(
    status: int, *entries: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    """An eBay error answer: ``{"errors": [...]}``."""
    return Response(status, {"errors": list(entries)}, dict(headers or {}))


def error(
    status: int,
    error_id: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Response:
    """An eBay error answer with one entry (other keyword arguments as for
    :func:`error_body`)."""
    return errors(status, error_body(error_id, message, **kwargs), headers=headers)


def field_error(name: str, problem: str = "missing") -> dict[str, Any]:
    """errorId 25002 naming a missing or invalid field."""
    what = "Missing field" if problem == "missing" else "Invalid value for field"
    return error_body(
        25002,
        f"A user error has occurred. {what} {name}.",
        parameters=[{"name": "field", "value": name}],
    )


def not_found(message: str = "We didn't find the entity you are requesting.") -> Response:
    """errorId 25710, the inventory API's 404."""
    return error(404, 25710, message)


def offer_not_found() -> Response:
    """errorId 25713, an unknown offer."""
    return error(404, 25713, "This Offer is not available.")


def content_language_error(request: Request) -> Response | None:
    """400 errorId 25709 unless a valid ``Content-Language`` header is present."""
    if request.header("Content-Language") in LANGUAGES:
        return None
    return error(400, 25709, "Invalid value for header Content-Language.")


def dig(data: Any, dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``, or a sentinel when any level is missing."""
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _text_problem(data: Any, name: str) -> dict[str, Any] | None:
    value = dig(data, name)
    if value is _MISSING or value is None:
        return field_error(name)
    if not isinstance(value, str) or not value.strip():
        return field_error(name, "invalid")
    return None


def inventory_item_errors(body: Any) -> list[dict[str, Any]]:
    """Every problem of an inventory item body (empty when it is acceptable)."""
    if not isinstance(body, dict):
        return [field_error("body", "invalid")]
    found = []
    title = dig(body, "product.title")
    if title is _MISSING or title is None:
        found.append(field_error("product.title"))
    elif not isinstance(title, str) or not title.strip() or len(title) > 80:
        found.append(field_error("product.title", "invalid"))
    quantity_field = "availability.shipToLocationAvailability.quantity"
    quantity = dig(body, quantity_field)
    if quantity is _MISSING:
        found.append(field_error(quantity_field))
    elif not _is_count(quantity):
        found.append(field_error(quantity_field, "invalid"))
    condition = body.get("condition", _MISSING)
    if condition is _MISSING:
        found.append(field_error("condition"))
    elif condition not in CONDITIONS:
        found.append(field_error("condition", "invalid"))
    return found


def offer_errors(body: Any) -> list[dict[str, Any]]:
    """Every problem of an offer body (empty when it is acceptable)."""
    if not isinstance(body, dict):
        return [field_error("body", "invalid")]
    found = []
    if (problem := _text_problem(body, "sku")) is not None:
        found.append(problem)
    market = body.get("marketplaceId", _MISSING)
    if market is _MISSING:
        found.append(field_error("marketplaceId"))
    elif market not in MARKETPLACES:
        found.append(field_error("marketplaceId", "invalid"))
    fmt = body.get("format", _MISSING)
    if fmt is _MISSING:
        found.append(field_error("format"))
    elif fmt != "FIXED_PRICE":
        found.append(field_error("format", "invalid"))
    found += [p for name in OFFER_TEXT_FIELDS if (p := _text_problem(body, name)) is not None]
    value = dig(body, "pricingSummary.price.value")
    if value is _MISSING:
        found.append(field_error("pricingSummary.price.value"))
    elif not isinstance(value, str) or not _positive_decimal(value):
        found.append(field_error("pricingSummary.price.value", "invalid"))
    currency = dig(body, "pricingSummary.price.currency")
    if currency is _MISSING:
        found.append(field_error("pricingSummary.price.currency"))
    elif not isinstance(currency, str) or re.fullmatch(r"[A-Z]{3}", currency) is None:
        found.append(field_error("pricingSummary.price.currency", "invalid"))
    quantity = body.get("availableQuantity", _MISSING)
    if quantity is _MISSING:
        found.append(field_error("availableQuantity"))
    elif not _is_count(quantity):
        found.append(field_error("availableQuantity", "invalid"))
    return found


def _positive_decimal(text: str) -> bool:
    if _DECIMAL.fullmatch(text) is None:
        return False
    try:
        return Decimal(text) > 0
    except InvalidOperation:
        return False


def page(request: Request, default: int, maximum: int) -> tuple[int, int] | Response:
    """(limit, offset) from the query, limit clamped to ``maximum``; a 400 when malformed."""
    try:
        limit = int(request.arg("limit") or default)
        offset = int(request.arg("offset") or 0)
    except ValueError:
        return error(400, 25706, "Invalid value for limit or offset.")
    if limit < 1 or offset < 0:
        return error(400, 25706, "Invalid value for limit or offset.")
    return min(limit, maximum), offset


def iso(moment: datetime) -> str:
    """eBay's timestamp format: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime | None:
    """A UTC datetime from ``2026-01-01T00:00:00.000Z`` (None if malformed)."""
    if _ISO.fullmatch(text) is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def utc(moment: datetime | None) -> datetime:
    """``moment`` in UTC truncated to milliseconds (now when None; naive counts as UTC)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def order_filter(text: str | None) -> dict[str, Any] | str:
    """The order search filter as {name: (low, high) or set}; an error message if malformed.

    Understood: ``lastmodifieddate:[a..b]``, ``creationdate:[a..b]`` (either bound may be
    empty) and ``orderfulfillmentstatus:{A|B}``, separated by commas.
    """
    result: dict[str, Any] = {}
    if not text:
        return result
    for raw_name, low, high, values in re.findall(
        r"(\w+):(?:\[([^\]]*?)\.\.([^\]]*)\]|\{([^}]*)\})", text
    ):
        name = raw_name.lower()
        if name in ("lastmodifieddate", "creationdate") and not values:
            bounds = [parse_iso(b) if b else None for b in (low, high)]
            if (low and bounds[0] is None) or (high and bounds[1] is None):
                return f"Invalid date in filter {name}."
            result[name] = tuple(bounds)
        elif name == "orderfulfillmentstatus" and values:
            result[name] = set(values.split("|"))
        else:
            return f"Unsupported filter {name}."
    if not result:
        return f"Invalid filter {text}."
    return result


def page_body(
    base_url: str, path: str, params: dict[str, str], *, limit: int, offset: int, total: int
) -> dict[str, Any]:
    """The paging members of a list answer: href, total, limit, offset, next/prev links."""

    def link(at: int) -> str:
        return f"{base_url}{path}?{urlencode(params | {'limit': limit, 'offset': at})}"

    body: dict[str, Any] = {"href": link(offset), "total": total, "limit": limit}
    body["offset"] = offset
    if offset + limit < total:
        body["next"] = link(offset + limit)
    if offset > 0:
        body["prev"] = link(max(0, offset - limit))
    return body


def new_order(
    order_id: str,
    line: dict[str, Any],
    *,
    price: str,
    currency: str,
    buyer: str,
    moment: datetime,
) -> dict[str, Any]:
    """A paid, unshipped order with one line item (``line`` has lineItemId, sku, title,
    quantity and maybe legacyItemId)."""
    line = line | {"lineItemCost": {"value": price, "currency": currency}}
    total = (Decimal(price) * line["quantity"]).quantize(Decimal("0.01"))
    return {
        "orderId": order_id,
        "creationDate": iso(moment),
        "lastModifiedDate": iso(moment),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "buyer": {"username": buyer},
        "pricingSummary": {"total": {"value": str(total), "currency": currency}},
        "lineItems": [line],
    }


def order_matches(order: dict[str, Any], modified: datetime, wanted: dict[str, Any]) -> bool:
    """Whether an order passes a filter parsed by :func:`order_filter`."""
    created = parse_iso(order["creationDate"])
    for name, moment in (("lastmodifieddate", modified), ("creationdate", created)):
        low, high = wanted.get(name, (None, None))
        if moment is None or (low and moment < low) or (high and moment > high):
            return False
    statuses = wanted.get("orderfulfillmentstatus")
    return statuses is None or order["orderFulfillmentStatus"] in statuses
