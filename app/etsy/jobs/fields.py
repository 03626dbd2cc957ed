"""Etsy's job fields and the listing fields built from a product and them."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.marketplace.fields import FieldError, FieldSpec, product_problems

if TYPE_CHECKING:
    from app.models.user.product import Product

WHO_MADE = ("i_did", "someone_else", "collective")
WHEN_MADE = (
    "made_to_order",
    "2020_2026",
    "2010_2019",
    "2007_2009",
    "before_2007",
    "2000_2006",
    "1990s",
    "1980s",
    "1970s",
    "1960s",
    "1950s",
    "1940s",
    "1930s",
    "1920s",
    "1910s",
    "1900s",
    "1800s",
    "1700s",
    "before_1700",
)
TITLE_LIMIT = 140

ETSY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("taxonomy_id", "Category (taxonomy id)", "integer"),
    FieldSpec("who_made", "Who made it", "choice", choices=WHO_MADE),
    FieldSpec("when_made", "When it was made", "choice", choices=WHEN_MADE),
    FieldSpec("is_supply", "Craft supply", "boolean", required=False, default=False),
    FieldSpec("shipping_profile_id", "Shipping profile id", "integer"),
    FieldSpec("readiness_state_id", "Processing profile id", "integer"),
)


def check_product(product: Product, *, publishing: bool) -> None:
    """Refuse a product Etsy would refuse, naming the field."""
    problems = product_problems(product, "Etsy", title_limit=TITLE_LIMIT, publishing=publishing)
    if problems:
        raise FieldError("Etsy", problems)


def draft_fields(product: Product, fields: dict[str, Any], price: Decimal) -> dict[str, Any]:
    """The createDraftListing form of ``product`` at ``price``."""
    return {
        "quantity": product.quantity,
        "title": product.title,
        "description": product.description or "",
        "price": f"{price:.2f}",
        "who_made": fields["who_made"],
        "when_made": fields["when_made"],
        "is_supply": "true" if fields.get("is_supply") else "false",
        "taxonomy_id": fields["taxonomy_id"],
        "type": "physical",
        "shipping_profile_id": fields["shipping_profile_id"],
        "readiness_state_id": fields["readiness_state_id"],
    }


def inventory_products(product: Product, sku: str | None, price: Decimal) -> list[dict[str, Any]]:
    """The updateListingInventory products of a single-variation listing at ``price``."""
    return [
        {
            "sku": sku or "",
            "offerings": [
                {"price": float(price), "quantity": product.quantity, "is_enabled": True}
            ],
            "property_values": [],
        }
    ]
