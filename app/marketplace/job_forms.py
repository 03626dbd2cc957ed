"""What the new-job form needs to know, without Qt: fields and product needs per action.

The window's job form, the CLI and tests share these rules: which actions work on a
product, which marketplace fields an action takes, and how a form's raw values become a
job's ``input_data`` (checked field by field with :mod:`app.marketplace.fields`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.ebay.jobs.fields import EBAY_FIELDS
from app.etsy.jobs.fields import ETSY_FIELDS
from app.marketplace.fields import FieldSpec, resolve_fields
from app.marketplace.names import MARKETPLACE_NAMES
from app.vinted.fields import LINK_FIELDS, MESSAGE_FIELDS, VINTED_FIELDS

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "vinted": VINTED_FIELDS,
    "ebay": EBAY_FIELDS,
    "etsy": ETSY_FIELDS,
}
DISPLAY = MARKETPLACE_NAMES
#: Actions that act on one catalog product (the others act on the account).
PRODUCT_ACTIONS = frozenset({"publish", "update", "delete", "link_product"})
#: Actions whose jobs carry the marketplace's listing fields.
FIELD_ACTIONS = frozenset({"publish", "update"})
#: Actions with fields of their own.
ACTION_FIELDS: dict[tuple[str, str], tuple[FieldSpec, ...]] = {
    ("vinted", "message"): MESSAGE_FIELDS,
    ("vinted", "link_product"): LINK_FIELDS,
}


def needs_product(action_code: str) -> bool:
    """True when a job of ``action_code`` needs a product."""
    return action_code in PRODUCT_ACTIONS


def fields_for(marketplace: str, action_code: str) -> tuple[FieldSpec, ...]:
    """The marketplace fields the form shows for ``action_code``."""
    own = ACTION_FIELDS.get((marketplace, action_code))
    if own is not None:
        return own
    return FIELDS.get(marketplace, ()) if action_code in FIELD_ACTIONS else ()


def input_data(
    marketplace: str,
    action_code: str,
    values: Mapping[str, Any],
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A job's ``input_data`` from a form (raises FieldError naming each bad field).

    Empty fields fall back to the seller's defaults; values equal to the default are
    still written, so a job keeps what the seller saw when it was created.
    """
    specs = fields_for(marketplace, action_code)
    if not specs:
        return {}
    given = {name: value for name, value in values.items() if value not in (None, "")}
    return resolve_fields(DISPLAY[marketplace], specs, given, defaults)
