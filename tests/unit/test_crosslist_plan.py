"""The cross-listing preview: prices per marketplace and every reason to leave a row out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.inventory.crosslist import PlanRow, batch_fields, plan
from app.inventory.price_rules import PriceRule, Rounding
from app.marketplace.fields import FieldError
from app.models.user.product import Product

D = Decimal


def product(product_id: int, **changes: Any) -> Product:
    values: dict[str, Any] = {
        "id": product_id,
        "title": f"Wool jumper {product_id}",
        "description": "Hand-knitted, worn twice.",
        "price": D("20.00"),
        "currency": "EUR",
        "quantity": 1,
        "sku": None,
        "brand": "Acme",
        "size": "M",
        "condition": "very_good",
        "photos": [f"{product_id}/front.jpg"],
        **changes,
    }
    return Product(**values)


def by_pair(rows: list[PlanRow]) -> dict[tuple[int, str], PlanRow]:
    return {(row.product_id, row.marketplace): row for row in rows}


def test_one_row_per_product_and_marketplace_priced_by_its_rule() -> None:
    rules = {
        "ebay": PriceRule(percent=D(10), rounding=Rounding.NINETY_NINE),
        "vinted": PriceRule(percent=D(-5)),
    }
    rows = plan([product(1), product(2, price=D("9.99"))], ["vinted", "ebay", "etsy"], rules, {})
    assert [(r.product_id, r.marketplace) for r in rows] == [
        (1, "ebay"),
        (1, "etsy"),
        (1, "vinted"),
        (2, "ebay"),
        (2, "etsy"),
        (2, "vinted"),
    ]
    assert [r.price for r in rows] == [
        D("21.99"),
        D("20.00"),
        D("19.00"),
        D("10.99"),
        D("9.99"),
        D("9.49"),
    ]
    assert all(r.included for r in rows)
    assert rows[0].catalog_price == D("20.00") and rows[0].currency == "EUR"


def test_listed_and_queued_products_are_left_out() -> None:
    listed = {(1, "ebay"): "active", (1, "etsy"): "deleted", (2, "ebay"): "ended"}
    rows = by_pair(
        plan([product(1), product(2)], ["ebay", "etsy"], {}, listed, queued={(2, "etsy")})
    )
    assert rows[1, "ebay"].skip == "already on eBay (active)"
    assert rows[1, "etsy"].included  # a deleted listing does not count
    assert rows[2, "ebay"].included  # nor an ended one
    assert rows[2, "etsy"].skip == "a publish job is already waiting on Etsy"


def test_products_a_marketplace_would_refuse_are_left_out_with_the_reason() -> None:
    products = [
        product(1, quantity=0),
        product(2, photos=[]),
        product(3, photos=["https://img.example/1.jpg"]),
        product(4, title="T" * 90),
        product(5, description=""),
        product(6, title="Hat"),
    ]
    rows = by_pair(plan(products, ["ebay", "etsy", "vinted"], {}, {}))
    assert rows[1, "ebay"].skip == "out of stock (quantity 0)"
    assert rows[2, "ebay"].included  # eBay takes photo addresses, not files
    assert rows[2, "etsy"].skip == "Etsy needs at least one photo"
    assert rows[3, "vinted"].skip == "Vinted needs at least one photo"
    assert rows[4, "ebay"].skip == "title: eBay titles hold at most 80 characters"
    assert rows[4, "etsy"].included and rows[4, "vinted"].included
    assert rows[5, "etsy"].skip == "description: Etsy needs a description to publish"
    assert rows[6, "vinted"].skip == "title: Vinted titles need at least 5 characters"
    assert rows[6, "ebay"].included


def test_a_rule_leaving_nothing_to_sell_is_explained() -> None:
    rows = plan([product(1, price=D("2.00"))], ["etsy"], {"etsy": PriceRule(amount=D(-3))}, {})
    assert rows[0].price == D("-1.00")
    assert rows[0].skip == "the price rule gives -1.00"


def test_vinted_condition_comes_from_the_batch_or_the_product() -> None:
    products = [product(1), product(2, condition="used"), product(3, condition=None)]
    without = by_pair(plan(products, ["vinted"], {}, {}, fields={"vinted": {"catalog_id": 5}}))
    assert without[1, "vinted"].included
    assert without[2, "vinted"].skip == (
        "condition: Condition is required (in the job, or as a default in Settings)"
        " (set it on the product or in the batch's fields)"
    )
    assert not without[3, "vinted"].included
    given = plan(products, ["vinted"], {}, {}, fields={"vinted": {"condition": "good"}})
    assert all(row.included for row in given)


def test_batch_fields_fall_back_to_defaults_and_let_products_supply_theirs() -> None:
    defaults = {"category_id": "11450", "condition": "USED_GOOD", "marketplace_id": "EBAY_US"}
    with pytest.raises(FieldError) as caught:
        batch_fields("ebay", {"category_id": "", "condition": None}, defaults)
    assert set(caught.value.problems) == {
        "fulfillment_policy_id",
        "payment_policy_id",
        "return_policy_id",
        "merchant_location_key",
    }
    values = {"fulfillment_policy_id": "F", "payment_policy_id": "P", "return_policy_id": "R"}
    assert batch_fields("ebay", {**values, "merchant_location_key": "home"}, defaults) == {
        **defaults,
        **values,
        "merchant_location_key": "home",
    }
    # Vinted: brand, size and condition may stay empty (each product's own is used)
    assert batch_fields("vinted", {"catalog_id": "1206"}) == {
        "catalog_id": 1206,
        "package_size": "small",
    }
    with pytest.raises(FieldError, match="catalog_id"):
        batch_fields("vinted", {})
