"""The third matching rule of a listing import: same title, close price.

A sync (:func:`app.marketplace.listings.reconcile`) links a marketplace listing to a
catalog product by listing id first, then by SKU. A listing still unlinked after both is
compared with the catalog by title and price:

* **Titles** are compared *normalized*: accents folded (``é`` -> ``e``), case folded
  (``ß`` -> ``ss``), apostrophes dropped (``Levi's`` -> ``levis``), every other
  punctuation mark or symbol turned into a space, runs of whitespace made one space, ends
  trimmed. ``"Veste  en JEAN - Levi's"`` and ``"veste en jean levis"`` are the same title.
* **Prices** are close when the listing's price is within 10 % of the catalog price
  (``|listing - product| <= 10 % x product``); the **currencies** must be the same when
  both are known.
* **Candidates** are catalog products with no listing row on that marketplace yet (a
  product listed there, even ended, is never a candidate: it would need two listings).
* A link is made only when the match is **one to one**: the listing has exactly one
  candidate and no other listing of the same sync claims that product. The row's
  ``data["matched_by"]`` then says ``"title"``.
* Otherwise, with one or more candidates, the listing is **ambiguous**: it stays unlinked
  and ``data["candidates"]`` keeps the candidate product ids for the seller to confirm in
  the window. A listing whose price the marketplace did not give is never linked by this
  rule: its title matches are offered as candidates.
* With no candidate, the listing is **unmatched** (``data["candidates"]`` removed).

The seller's own decision on a listing (linked or confirmed, imported as a new product,
dismissed, unlinked) is kept in ``data["decided"]``; a decided listing is never matched
again by a sync (see :mod:`app.marketplace.listing_review`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.user.marketplace_listing import MarketplaceListing
from app.models.user.product import Product

#: How far a listing's price may be from the catalog price (a share of the catalog price).
PRICE_TOLERANCE = Decimal("0.10")
#: Keys of ``MarketplaceListing.data`` written by the matching and by the seller.
CANDIDATES = "candidates"
MATCHED_BY = "matched_by"
DECIDED = "decided"

_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc\u2018`\u00b4")
_NOT_WORD = re.compile(r"[\W_]+")


class Decision(StrEnum):
    """What the seller decided about a listing (``data["decided"]``)."""

    LINKED = "linked"
    IMPORTED = "imported"
    DISMISSED = "dismissed"
    UNLINKED = "unlinked"


def decided(row: MarketplaceListing) -> str | None:
    """The seller's decision on ``row``, if any (a sync then leaves its link alone)."""
    value = (row.data or {}).get(DECIDED)
    return str(value) if value else None


def with_data(row: MarketplaceListing, changes: Mapping[str, Any]) -> None:
    """Set (or, with None, remove) keys of ``row.data`` (a new dict, so the change is saved)."""
    data = dict(row.data or {})
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    row.data = data


def normalize_title(text: str | None) -> str:
    """The title as the rule compares it (empty for no title)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = bare.casefold().translate(_APOSTROPHES)
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def price_close(listing_price: Decimal, product_price: Decimal) -> bool:
    """True when ``listing_price`` is within :data:`PRICE_TOLERANCE` of ``product_price``."""
    return abs(listing_price - product_price) <= abs(product_price) * PRICE_TOLERANCE


def same_currency(first: str | None, second: str | None) -> bool:
    """True unless both currencies are known and differ."""
    return not first or not second or first.upper() == second.upper()


@dataclass(frozen=True)
class CatalogEntry:
    """A catalog product as the rule sees it."""

    id: int
    title: str
    price: Decimal
    currency: str | None


@dataclass(frozen=True)
class ListingKey:
    """A listing as the rule sees it."""

    title: str | None
    price: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class TitleMatch:
    """The rule's answer for one listing: a product to link, or candidates to confirm."""

    product_id: int | None = None
    candidates: tuple[int, ...] = ()

    @property
    def ambiguous(self) -> bool:
        """Candidates were found but none can be linked without the seller."""
        return self.product_id is None and bool(self.candidates)


class TitleIndex:
    """Catalog entries by normalized title."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._by_title: dict[str, list[CatalogEntry]] = {}
        for entry in entries:
            key = normalize_title(entry.title)
            if key:
                self._by_title.setdefault(key, []).append(entry)

    def candidates(self, listing: ListingKey) -> tuple[int, ...]:
        """Ids of the entries with the listing's title, a close price and the same currency."""
        found = self._by_title.get(normalize_title(listing.title), ())
        return tuple(
            entry.id
            for entry in found
            if same_currency(listing.currency, entry.currency)
            and (listing.price is None or price_close(listing.price, entry.price))
        )


def match_titles(listings: Sequence[ListingKey], index: TitleIndex) -> list[TitleMatch]:
    """The rule for the unlinked listings of one sync (one answer per listing, in order)."""
    found = [index.candidates(listing) for listing in listings]
    claims = Counter(product_id for candidates in found for product_id in candidates)
    answers: list[TitleMatch] = []
    for listing, candidates in zip(listings, found, strict=True):
        one_to_one = len(candidates) == 1 and claims[candidates[0]] == 1
        if one_to_one and listing.price is not None:
            answers.append(TitleMatch(product_id=candidates[0]))
        else:
            answers.append(TitleMatch(candidates=candidates))
    return answers


def unlisted_products(session: Session, marketplace: str) -> list[CatalogEntry]:
    """Catalog products without any listing row on ``marketplace`` (the candidates)."""
    taken = select(MarketplaceListing.product_id).where(
        MarketplaceListing.marketplace == marketplace,
        MarketplaceListing.product_id.is_not(None),
    )
    rows = session.execute(
        select(Product.id, Product.title, Product.price, Product.currency)
        .where(Product.id.not_in(taken))
        .order_by(Product.id)
    )
    return [
        CatalogEntry(int(pid), str(title), Decimal(price), currency)
        for pid, title, price, currency in rows
    ]


def apply_title_rule(session: Session, marketplace: str, rows: Sequence[MarketplaceListing]) -> int:
    """Match unlinked, undecided ``rows`` by title; how many were linked.

    Linked rows get ``data["matched_by"] = "title"``; the others keep their candidates (if
    any) in ``data["candidates"]``.
    """
    if not rows:
        return 0
    index = TitleIndex(unlisted_products(session, marketplace))
    answers = match_titles([ListingKey(r.title, r.price, r.currency) for r in rows], index)
    linked = 0
    for row, answer in zip(rows, answers, strict=True):
        if answer.product_id is not None:
            row.product_id = answer.product_id
            with_data(row, {MATCHED_BY: "title", CANDIDATES: None})
            linked += 1
        else:
            with_data(row, {CANDIDATES: list(answer.candidates) or None})
    session.flush()
    return linked
