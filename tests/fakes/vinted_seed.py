"""The fake Vinted's seeding hooks: items, sales and conversations put in place by a test.

:class:`VintedSeeding` is mixed into :class:`tests.fakes.vinted.FakeVinted`, which owns the
state these methods fill (under its lock).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from tests.fakes import vinted_rules as rules
from tests.fakes.vinted_rules import ItemFields, StoredConversation, StoredItem, StoredOrder


class VintedSeeding:
    """Test hooks that change the fake's wardrobe, orders and inbox directly."""

    lock: threading.RLock
    user_id: int
    currency: str
    _items: dict[int, StoredItem]
    _deleted: dict[int, StoredItem]
    _orders: dict[int, StoredOrder]
    _conversations: dict[int, StoredConversation]
    _item_ids: itertools.count[int]
    _order_ids: itertools.count[int]
    _conversation_ids: itertools.count[int]
    _touches: itertools.count[int]
    #: FakeVinted's: stores a photo, returns its id.
    _store_photo: Callable[[bytes, str, str, str], int]

    def add_item(
        self,
        title: str,
        price: Decimal | str | float = Decimal("10"),
        *,
        description: str = "Seeded item.",
        brand: str | None = None,
        size: str | None = None,
        catalog_id: int = 1904,
        condition: str = "very_good",
        package_size: str = "small",
        state: str = "active",
        photos: int = 1,
    ) -> int:
        """Put an item in the wardrobe directly (no validation; ``photos`` placeholder
        photos are stored); returns its id. ``state`` is one of ``vinted_rules.STATES``."""
        if state not in rules.STATES:
            raise ValueError(f"state must be one of {rules.STATES}")
        with self.lock:
            item_id = next(self._item_ids)
            photo_ids = tuple(
                self._store_photo(f"seeded-{item_id}-{n}".encode(), f"{n}.jpg", "image/jpeg", "")
                for n in range(photos)
            )
            fields = ItemFields(
                title=title,
                description=description,
                price=Decimal(str(price)),
                currency=self.currency,
                catalog_id=catalog_id,
                brand=brand,
                size=size,
                status_id=rules.STATUS_IDS[condition],
                package_size_id=rules.PACKAGE_SIZE_IDS[package_size],
                photo_ids=photo_ids,
            )
            self._items[item_id] = StoredItem(item_id, self.user_id, fields, state)
            return item_id

    def set_item_state(self, item_id: int, state: str) -> None:
        """Make an item active, sold, reserved, hidden or draft (no order is created)."""
        if state not in rules.STATES:
            raise ValueError(f"state must be one of {rules.STATES}")
        with self.lock:
            self._items[item_id].state = state

    def sell_item(
        self,
        item_id: int,
        *,
        buyer: str = "marie_b",
        status: str = "completed",
        when: datetime | None = None,
    ) -> int:
        """A buyer bought the item: it is closed (sold) and a sold order exists; returns the
        order's transaction id."""
        with self.lock:
            self._items[item_id].state = "sold"
            return self.add_sold_order(item_id, buyer=buyer, status=status, when=when)

    def add_sold_order(
        self,
        item_id: int | None = None,
        *,
        title: str | None = None,
        price: Decimal | str | float | None = None,
        buyer: str = "marie_b",
        status: str = "completed",
        when: datetime | None = None,
    ) -> int:
        """Record a sale (the item is not changed); title and price default to the item's.
        Without ``item_id`` the order is for an item the wardrobe never had."""
        with self.lock:
            if item_id is None:
                item_id = next(self._item_ids)
            item = self._items.get(item_id) or self._deleted.get(item_id)
            if price is None:
                price = item.fields.price if item else Decimal("10")
            transaction_id = next(self._order_ids)
            self._orders[transaction_id] = StoredOrder(
                transaction_id=transaction_id,
                item_id=item_id,
                title=title or (item.fields.title if item else "Sold item"),
                price=Decimal(str(price)),
                currency=self.currency,
                status=status,
                date=when or datetime.now(UTC).replace(microsecond=0),
                buyer=buyer,
            )
            return transaction_id

    def add_conversation(
        self,
        other_user: str = "marie_b",
        last_message: str = "Bonjour, est-il toujours disponible ?",
        *,
        item_id: int | None = None,
        unread: bool = True,
        description: str | None = None,
    ) -> int:
        """Start a conversation in the inbox (newest first); returns its id. The description
        (subject) defaults to the item's title, else the last message."""
        with self.lock:
            item = self._items.get(item_id) if item_id is not None else None
            conversation_id = next(self._conversation_ids)
            self._conversations[conversation_id] = StoredConversation(
                id=conversation_id,
                description=description or (item.fields.title if item else last_message),
                other_user=other_user,
                last_message=last_message,
                unread=unread,
                item_id=item_id,
                touched=next(self._touches),
            )
            return conversation_id
