"""eBay's job fields and the Inventory API bodies built from a product and them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from app.marketplace.fields import FieldError, FieldSpec, product_problems

if TYPE_CHECKING:
    from app.models.user.product import Product

#: Content-Language of each eBay marketplace Marketdesk lists on.
LANGUAGES = {
    "EBAY_US": "en-US",
    "EBAY_GB": "en-GB",
    "EBAY_AU": "en-AU",
    "EBAY_CA": "en-CA",
    "EBAY_IE": "en-IE",
    "EBAY_DE": "de-DE",
    "EBAY_AT": "de-AT",
    "EBAY_CH": "de-CH",
    "EBAY_FR": "fr-FR",
    "EBAY_BE": "fr-BE",
    "EBAY_IT": "it-IT",
    "EBAY_ES": "es-ES",
    "EBAY_NL": "nl-NL",
    "EBAY_PL": "pl-PL",
}
CONDITIONS = (
    "NEW",
    "LIKE_NEW",
    "NEW_OTHER",
    "NEW_WITH_DEFECTS",
    "USED_EXCELLENT",
    "USED_VERY_GOOD",
    "USED_GOOD",
    "USED_ACCEPTABLE",
    "FOR_PARTS_OR_NOT_WORKING",
)
TITLE_LIMIT = 80
SKU_LIMIT = 50

EBAY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("marketplace_id", "eBay site", "choice", choices=tuple(LANGUAGES)),
    FieldSpec("category_id", "Category id", help="The eBay leaf category, e.g. 11450"),
    FieldSpec("condition", "Condition", "choice", choices=CONDITIONS),
    FieldSpec("fulfillment_policy_id", "Shipping policy id"),
    FieldSpec("payment_policy_id", "Payment policy id"),
    FieldSpec("return_policy_id", "Return policy id"),
    FieldSpec("merchant_location_key", "Inventory location key"),
)


def amount(money: Any) -> tuple[Decimal | None, str | None]:
    """eBay's ``{"value", "currency"}`` as a Decimal (None when unreadable) and a currency."""
    if not isinstance(money, dict):
        return None, None
    try:
        value = Decimal(str(money.get("value")))
    except InvalidOperation:
        value = None
    return value, money.get("currency")


def sku_of(product: Product) -> str:
    """The product's SKU on eBay: its own, or one made from its id."""
    return product.sku or f"MD-{product.id}"


def check_product(product: Product, *, publishing: bool) -> None:
    """Refuse a product eBay would refuse, naming the field."""
    problems = product_problems(product, "eBay", title_limit=TITLE_LIMIT, publishing=publishing)
    if len(sku_of(product)) > SKU_LIMIT:
        problems["sku"] = f"eBay SKUs hold at most {SKU_LIMIT} characters"
    if problems:
        raise FieldError("eBay", problems)


def inventory_item(product: Product, fields: dict[str, Any]) -> dict[str, Any]:
    """The inventory item (createOrReplaceInventoryItem body) of ``product``."""
    aspects = {
        name: [value] for name, value in (("Brand", product.brand), ("Size", product.size)) if value
    }
    details: dict[str, Any] = {"title": product.title}
    if product.description:
        details["description"] = product.description
    if aspects:
        details["aspects"] = aspects
    urls = [p for p in product.photos if isinstance(p, str) and p.startswith("https://")]
    if urls:
        details["imageUrls"] = urls
    return {
        "product": details,
        "condition": fields["condition"],
        "availability": {"shipToLocationAvailability": {"quantity": product.quantity}},
    }


def offer(product: Product, fields: dict[str, Any], sku: str, price: Decimal) -> dict[str, Any]:
    """The offer (createOffer / updateOffer body) of ``product`` under ``sku`` at ``price``."""
    body: dict[str, Any] = {
        "sku": sku,
        "marketplaceId": fields["marketplace_id"],
        "format": "FIXED_PRICE",
        "categoryId": fields["category_id"],
        "availableQuantity": product.quantity,
        "pricingSummary": {"price": {"value": f"{price:.2f}", "currency": product.currency}},
        "listingPolicies": {
            "fulfillmentPolicyId": fields["fulfillment_policy_id"],
            "paymentPolicyId": fields["payment_policy_id"],
            "returnPolicyId": fields["return_policy_id"],
        },
        "merchantLocationKey": fields["merchant_location_key"],
    }
    if product.description:
        body["listingDescription"] = product.description
    return body


def language(fields: dict[str, Any]) -> str:
    """The Content-Language of the chosen eBay site."""
    return LANGUAGES[fields["marketplace_id"]]
