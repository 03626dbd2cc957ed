"""Cross-listing price rules: exact decimal arithmetic, rounding edges, text and file forms."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from app.inventory.price_rules import (
    RULES_FILE,
    PriceRule,
    Rounding,
    RuleError,
    describe,
    load_rules,
    parse_rule,
    save_rules,
)
from app.marketplace.fields import parse_price

D = Decimal


def test_identity_lists_the_catalog_price() -> None:
    rule = PriceRule()
    assert rule.is_identity
    assert rule.apply(D("45.00")) == D("45.00")
    assert str(rule.apply(D("45"))) == "45.00"


def test_percent_then_amount_exactly() -> None:
    # 0.1 + 0.2 style traps: 19.99 * 1.10 = 21.989 exactly, then to the cent (half up)
    assert PriceRule(percent=D(10)).apply(D("19.99")) == D("21.99")
    assert PriceRule(percent=D("12.5")).apply(D("10.00")) == D("11.25")
    assert PriceRule(percent=D(-5)).apply(D("20.00")) == D("19.00")
    assert PriceRule(percent=D(10), amount=D("2.00")).apply(D("10.00")) == D("13.00")
    assert PriceRule(amount=D("-1.50")).apply(D("10.00")) == D("8.50")
    # 0.125 is a tie: halves go up, never to the even neighbour
    assert PriceRule(percent=D(25)).apply(D("0.10")) == D("0.13")
    assert PriceRule(percent=D("0.5")).apply(D("0.01")) == D("0.01")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("49.50", "49.99"),
        ("50.00", "49.99"),
        ("49.49", "49.99"),  # a tie (0.50 either way) goes up
        ("49.48", "48.99"),
        ("48.99", "48.99"),
        ("49.99", "49.99"),
        ("0.30", "0.99"),  # never below 0.99
        ("1.00", "0.99"),
        ("1.49", "1.99"),
    ],
)
def test_round_to_99(raw: str, expected: str) -> None:
    assert PriceRule(rounding=Rounding.NINETY_NINE).apply(D(raw)) == D(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10.24", "10.00"),
        ("10.25", "10.50"),
        ("10.74", "10.50"),
        ("10.75", "11.00"),
        ("10.50", "10.50"),
        ("0.10", "0.50"),  # never below 0.50
    ],
)
def test_round_to_half(raw: str, expected: str) -> None:
    assert PriceRule(rounding=Rounding.HALF).apply(D(raw)) == D(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10.49", "10.00"), ("10.50", "11.00"), ("10.99", "11.00"), ("0.20", "1.00")],
)
def test_round_to_whole(raw: str, expected: str) -> None:
    assert PriceRule(rounding=Rounding.WHOLE).apply(D(raw)) == D(expected)


def test_rounding_happens_after_percent_and_amount() -> None:
    rule = PriceRule(percent=D(10), amount=D("1.00"), rounding=Rounding.NINETY_NINE)
    assert rule.apply(D("40.00")) == D("44.99")  # 44.00 + 1.00 = 45.00 -> 44.99


def test_minimum_is_applied_last_as_given() -> None:
    rule = PriceRule(percent=D(-50), rounding=Rounding.WHOLE, minimum=D("7.25"))
    assert rule.apply(D("10.00")) == D("7.25")  # 5.00 is raised, not rounded
    assert rule.apply(D("20.00")) == D("10.00")


def test_nothing_left_to_sell_is_kept_for_the_preview() -> None:
    assert PriceRule(amount=D("-10.00"), rounding=Rounding.NINETY_NINE).apply(D("5.00")) == D(
        "-5.00"
    )
    assert PriceRule(amount=D("-5.00")).apply(D("5.00")) == D("0.00")
    assert PriceRule(amount=D("-5.00"), minimum=D(1)).apply(D("5.00")) == D("1.00")


def test_nonsense_rules_are_refused() -> None:
    with pytest.raises(RuleError, match="more than -100"):
        PriceRule(percent=D(-100))
    with pytest.raises(RuleError, match="at most 2 decimals"):
        PriceRule(amount=D("0.001"))
    with pytest.raises(RuleError, match="minimum"):
        PriceRule(minimum=D(-1))


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", PriceRule()),
        ("no change", PriceRule()),
        ("+10%", PriceRule(percent=D(10))),
        ("10%, round .99", PriceRule(percent=D(10), rounding=Rounding.NINETY_NINE)),
        ("-12.5% -1.50", PriceRule(percent=D("-12.5"), amount=D("-1.50"))),
        ("round to whole, at least 5", PriceRule(rounding=Rounding.WHOLE, minimum=D(5))),
        ("+2 round=.50 min=3.5", PriceRule(amount=D(2), rounding=Rounding.HALF, minimum=D("3.5"))),
    ],
)
def test_parse(text: str, rule: PriceRule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    "rule",
    [
        PriceRule(),
        PriceRule(percent=D(10)),
        PriceRule(percent=D("-7.5"), amount=D("0.50"), rounding=Rounding.HALF, minimum=D(3)),
        PriceRule(amount=D("-2.00"), rounding=Rounding.WHOLE),
    ],
)
def test_describe_reads_back(rule: PriceRule) -> None:
    assert parse_rule(describe(rule)) == rule


def test_describe_words() -> None:
    rule = PriceRule(percent=D(10), amount=D(2), rounding=Rounding.NINETY_NINE, minimum=D(5))
    assert describe(rule) == "+10% +2.00 round .99 min 5.00"
    assert describe(PriceRule(percent=D("-12.50"))) == "-12.5%"
    assert describe(PriceRule()) == "no change"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10", "cannot read '10'"),
        ("+10% +5%", "cannot read '\\+5%'"),
        ("round up", "round takes none, .99, .50 or whole"),
        ("min -3", "a minimum must be a price"),
        ("-100%", "more than -100"),
    ],
)
def test_parse_errors_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(RuleError, match=words):
        parse_rule(text)


def test_rules_are_saved_per_marketplace(tmp_path: Path) -> None:
    assert load_rules(tmp_path) == {}
    rules = {
        "ebay": PriceRule(percent=D(10), rounding=Rounding.NINETY_NINE),
        "etsy": PriceRule(),
    }
    path = save_rules(tmp_path / "data", rules)
    assert path == tmp_path / "data" / RULES_FILE
    assert json.loads(path.read_text()) == {
        "version": 1,
        "rules": {"ebay": "+10% round .99", "etsy": "no change"},
    }
    assert load_rules(tmp_path / "data") == rules
    assert not list((tmp_path / "data").glob("*.tmp"))


def test_unreadable_rules_are_left_out_with_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "marketdesk.inventory")
    (tmp_path / RULES_FILE).write_text("{not json")
    assert load_rules(tmp_path) == {}
    (tmp_path / RULES_FILE).write_text(json.dumps({"rules": {"ebay": "+10%", "etsy": "+x"}}))
    assert load_rules(tmp_path) == {"ebay": PriceRule(percent=D(10))}
    assert "price rule of etsy" in caplog.text


@pytest.mark.parametrize(
    ("value", "price"),
    [("49.99", "49.99"), ("12.5", "12.50"), (12, "12.00"), (" 7.000 ", "7.00")],
)
def test_job_price_overrides_are_read_exactly(value: object, price: str) -> None:
    assert parse_price(value) == D(price)
    assert str(parse_price(value)) == price


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "more than 0"),
        ("-3", "more than 0"),
        ("1.005", "at most 2 decimals"),
        ("ten", "a number like 12.50"),
        ("NaN", "a number like 12.50"),
        (True, "a number like 12.50"),
        ("100000000", "at most"),
    ],
)
def test_bad_job_prices_are_refused(value: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_price(value)
