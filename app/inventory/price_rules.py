"""Price rules of cross-listing: "+10% on eBay, rounded to .99", kept per marketplace.

A :class:`PriceRule` turns a catalog price into the price listed on one marketplace, in
exact decimal arithmetic, in this order:

1. **percent**: ``price * (100 + percent) / 100`` (``+10`` adds 10 %, ``-5`` takes 5 % off);
2. **amount**: a fixed amount is added (``+2.00``) or taken off (``-1.50``);
3. **rounding** (halves always go up):

   - ``none``: to the cent (12.345 -> 12.35);
   - ``.99``: to the nearest price ending in .99 (49.50 -> 49.99, 50.00 -> 49.99,
     49.49 -> 49.99 as a tie goes up, 49.48 -> 48.99), never below 0.99;
   - ``.50``: to the nearest half unit, x.00 or x.50 (10.24 -> 10.00, 10.25 -> 10.50,
     10.75 -> 11.00), never below 0.50;
   - ``whole``: to the nearest whole unit (10.49 -> 10.00, 10.50 -> 11.00), never below 1;

   a result of 0 or less before rounding is kept as it is (to the cent): nothing to sell;
4. **minimum**: a price below it is raised to it (the minimum is used as given, not
   rounded).

A rule reads and writes as a short text, ``"+10% +2.00 round .99 min 5.00"`` (``"no
change"`` for the identity); :func:`parse_rule` also takes commas, ``round to .99``,
``min=5`` and ``at least 5``. The rules of each marketplace are saved in the data
directory, in ``price_rules.json`` (``{"version": 1, "rules": {"ebay": "+10% round .99"}}``):
a file rather than the marketplace accounts' defaults, because Vinted has no account row
and the rules belong to the desktop that cross-lists, not to a marketplace's settings.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path

log = logging.getLogger("marketdesk.inventory")

RULES_FILE = "price_rules.json"
_VERSION = 1
_CENT = Decimal("0.01")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_PERCENT = re.compile(r"^[+-]?\d+(\.\d+)?%$")
_AMOUNT = re.compile(r"^[+-]\d+(\.\d+)?$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


class RuleError(ValueError):
    """A price rule cannot be read or makes no sense; the message says why."""


class Rounding(StrEnum):
    """How a rule rounds its price (see the module's description)."""

    NONE = "none"
    NINETY_NINE = ".99"
    HALF = ".50"
    WHOLE = "whole"


_ROUNDING_WORDS = {
    "none": Rounding.NONE,
    "cent": Rounding.NONE,
    ".99": Rounding.NINETY_NINE,
    "99": Rounding.NINETY_NINE,
    ".50": Rounding.HALF,
    ".5": Rounding.HALF,
    "50": Rounding.HALF,
    "half": Rounding.HALF,
    "whole": Rounding.WHOLE,
    "1": Rounding.WHOLE,
}


def _round(value: Decimal, rounding: Rounding) -> Decimal:
    """``value`` (more than 0) rounded as ``rounding`` says, to the cent."""
    if rounding is Rounding.WHOLE:
        value = max(value.quantize(_ONE, ROUND_HALF_UP), _ONE)
    elif rounding is Rounding.HALF:
        value = max((value * 2).quantize(_ONE, ROUND_HALF_UP), _ONE) / 2
    elif rounding is Rounding.NINETY_NINE:
        value = max((value + _CENT).quantize(_ONE, ROUND_HALF_UP), _ONE) - _CENT
    return value.quantize(_CENT, ROUND_HALF_UP)


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RuleError(f"{what} must be a number, not {text!r}") from None
    if not value.is_finite():
        raise RuleError(f"{what} must be a number, not {text!r}")
    return value


@dataclass(frozen=True)
class PriceRule:
    """How one marketplace's price follows the catalog price (the identity by default)."""

    percent: Decimal = field(default=Decimal(0))
    amount: Decimal = field(default=Decimal(0))
    rounding: Rounding = Rounding.NONE
    minimum: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.percent > -_HUNDRED:
            raise RuleError("the percentage must be more than -100 %")
        if self.percent > 1000:
            raise RuleError("the percentage must be at most +1000 %")
        if self.amount != self.amount.quantize(_CENT):
            raise RuleError("the amount must have at most 2 decimals")
        if self.minimum is not None and (
            self.minimum < 0 or self.minimum != self.minimum.quantize(_CENT)
        ):
            raise RuleError("the minimum must be 0 or more, with at most 2 decimals")

    @property
    def is_identity(self) -> bool:
        """True when the rule lists the catalog price unchanged."""
        return self == PriceRule()

    def apply(self, price: Decimal) -> Decimal:
        """The listed price for catalog price ``price`` (0 or less: nothing to sell)."""
        value = price * (_HUNDRED + self.percent) / _HUNDRED + self.amount
        # nothing to sell at 0 or less: kept as it is, so that the preview says so
        value = _round(value, self.rounding) if value > 0 else _round(value, Rounding.NONE)
        if self.minimum is not None and value < self.minimum:
            value = self.minimum.quantize(_CENT)
        return value


def describe(rule: PriceRule) -> str:
    """The rule as text :func:`parse_rule` reads back: ``"+10% +2.00 round .99 min 5.00"``."""
    if rule.is_identity:
        return "no change"
    parts = []
    if rule.percent:
        parts.append(f"{'+' if rule.percent > 0 else '-'}{abs(rule.percent).normalize():f}%")
    if rule.amount:
        parts.append(f"{rule.amount:+.2f}")
    if rule.rounding is not Rounding.NONE:
        parts.append(f"round {rule.rounding.value}")
    if rule.minimum is not None:
        parts.append(f"min {rule.minimum:.2f}")
    return " ".join(parts)


def parse_rule(text: str) -> PriceRule:
    """A rule from its text (see the module); raises RuleError naming what is wrong."""
    tokens = [t for t in re.split(r"[\s,;]+", text.strip().lower()) if t]
    if tokens in ([], ["no", "change"], ["none"]):
        return PriceRule()
    percent: Decimal | None = None
    amount: Decimal | None = None
    rounding: Rounding | None = None
    minimum: Decimal | None = None
    tokens.reverse()
    while tokens:
        token = tokens.pop()
        key, _, value = token.partition("=")
        if key in ("round", "min", "at"):
            while value in ("", "to", "least") and tokens:
                value = tokens.pop()
            if key == "round":
                if value not in _ROUNDING_WORDS or rounding is not None:
                    raise RuleError(f"round takes none, .99, .50 or whole, not {value!r}")
                rounding = _ROUNDING_WORDS[value]
            else:
                if not _NUMBER.match(value) or minimum is not None:
                    raise RuleError(f"a minimum must be a price like 5.00, not {value!r}")
                minimum = _decimal(value, "the minimum")
        elif _PERCENT.match(token) and percent is None:
            percent = _decimal(token[:-1], "the percentage")
        elif _AMOUNT.match(token) and amount is None:
            amount = _decimal(token, "the amount")
        else:
            raise RuleError(
                f"cannot read {token!r}: write a rule like '+10% +2.00 round .99 min 5'"
            )
    return PriceRule(
        percent=percent if percent is not None else Decimal(0),
        amount=amount if amount is not None else Decimal(0),
        rounding=rounding or Rounding.NONE,
        minimum=minimum,
    )


def load_rules(data_dir: Path) -> dict[str, PriceRule]:
    """The saved rule of each marketplace (none saved: an empty dict).

    A file or an entry that cannot be read is logged and left out: cross-listing then
    starts from the catalog price, and saving writes the file anew.
    """
    path = data_dir / RULES_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("price rules in %s cannot be read (%s); starting without", path, exc)
        return {}
    entries = stored.get("rules") if isinstance(stored, dict) else None
    if not isinstance(entries, dict):
        log.warning("price rules in %s have no 'rules' object; starting without", path)
        return {}
    rules: dict[str, PriceRule] = {}
    for marketplace, text in entries.items():
        try:
            rules[str(marketplace)] = parse_rule(str(text))
        except RuleError as exc:
            log.warning("price rule of %s in %s left out: %s", marketplace, path, exc)
    return rules


def save_rules(data_dir: Path, rules: Mapping[str, PriceRule]) -> Path:
    """Write every marketplace's rule (atomically: a crash leaves the old file or the new)."""
    path = data_dir / RULES_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    body = {
        "version": _VERSION,
        "rules": {marketplace: describe(rule) for marketplace, rule in sorted(rules.items())},
    }
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
