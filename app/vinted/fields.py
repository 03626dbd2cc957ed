"""Vinted's job fields (publish and update), declared like eBay's and Etsy's.

Vinted has no public catalog API here, so the category is its catalog number (as seen in
the address of the category page); brand and size are sent as the seller writes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.marketplace.fields import FieldSpec

if TYPE_CHECKING:
    from app.models.user.product import Product

#: Vinted's item conditions, as its listing form names them.
CONDITIONS = ("new_with_tags", "new_without_tags", "very_good", "good", "satisfactory")
PACKAGE_SIZES = ("small", "medium", "large")

VINTED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "catalog_id",
        "Category (catalog id)",
        "integer",
        help="The number in the address of the Vinted category the item belongs to",
    ),
    FieldSpec(
        "brand", "Brand", required=False, help="As Vinted spells it; the product's brand by default"
    ),
    FieldSpec("size", "Size", required=False),
    FieldSpec("condition", "Condition", "choice", choices=CONDITIONS),
    FieldSpec("package_size", "Package size", "choice", choices=PACKAGE_SIZES, default="small"),
)

#: The fields a catalog product supplies when neither the job nor the seller's defaults do.
PRODUCT_FIELDS = ("brand", "size", "condition")


def product_defaults(product: Product) -> dict[str, Any]:
    """The Vinted fields taken from ``product`` (its brand, size and a Vinted condition)."""
    values: dict[str, Any] = {"brand": product.brand, "size": product.size}
    if product.condition in CONDITIONS:
        values["condition"] = product.condition
    return values


#: What a message job takes (the form shows these; the handler checks them again).
MESSAGE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "conversation_id",
        "Conversation",
        "integer",
        help="The number at the end of the conversation's address on Vinted",
    ),
    FieldSpec("body", "Message"),
)
#: What a link_product job takes.
LINK_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("item_id", "Vinted item", help="The item's number or its address on Vinted"),
)
