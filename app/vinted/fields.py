"""Vinted's job fields (publish and update), declared like eBay's and Etsy's."""

from __future__ import annotations

from app.marketplace.fields import FieldSpec

#: Vinted's item conditions, as its listing form names them.
CONDITIONS = ("new_with_tags", "new_without_tags", "very_good", "good", "satisfactory")
PACKAGE_SIZES = ("small", "medium", "large")

VINTED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "brand", "Brand", required=False, help="As Vinted spells it; the product's brand by default"
    ),
    FieldSpec("size", "Size", required=False),
    FieldSpec("condition", "Condition", "choice", choices=CONDITIONS),
    FieldSpec("package_size", "Package size", "choice", choices=PACKAGE_SIZES, default="small"),
)
