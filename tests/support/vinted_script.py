"""A scripted Vinted behind the scripted plugin: items, photos, orders, conversations.

The answers follow the plugin's side of docs/bridge-protocol.md, so handler tests run the
real handlers over the real bridge without a browser; error paths are scripted by
replacing one answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.support.plugin_client import PluginAnswer


@dataclass
class ScriptedVinted:
    """Just enough Vinted state for the plugin's actions."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    conversations: set[str] = field(default_factory=lambda: {"77"})
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(5001))

    def answers(self) -> dict[str, Any]:
        """The answer functions, by action."""
        return {
            "session_status": lambda _: {"logged_in": True, "user_id": "4242", "login": "anna"},
            "upload_photo": self.upload_photo,
            "create_item": self.create_item,
            "update_item": self.update_item,
            "delete_item": self.delete_item,
            "get_item": self.get_item,
            "wardrobe": self.wardrobe,
            "sold_orders": self.sold_orders,
            "send_message": self.send_message,
            "inbox": self.inbox,
        }

    def add_item(self, title: str, price: str = "10.00", state: str = "active") -> str:
        """An item that exists on Vinted only."""
        item_id = str(next(self._ids))
        self.items[item_id] = {
            "id": item_id,
            "title": title,
            "description": "",
            "price": price,
            "currency": "EUR",
            "url": f"https://www.vinted.fr/items/{item_id}-x",
            "state": state,
            "brand": None,
            "size": None,
            "photo_urls": [],
        }
        return item_id

    def upload_photo(self, payload: dict[str, Any]) -> dict[str, Any]:
        photo_id = str(next(self._ids))
        self.photos[photo_id] = payload
        return {"photo_id": photo_id, "url": f"https://images.example/{photo_id}.jpg"}

    def _item(self, item_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = [p for p in fields.get("photo_ids", []) if p not in self.photos]
        if not fields.get("photo_ids") or unknown:
            raise PluginAnswer("rejected", "Validation failed", fields={"photos": "unknown"})
        return {
            "id": item_id,
            "title": fields["title"],
            "description": fields["description"],
            "price": fields["price"],
            "currency": fields["currency"],
            "url": f"https://www.vinted.fr/items/{item_id}-x",
            "state": "active",
            "brand": fields.get("brand"),
            "size": fields.get("size"),
            "photo_urls": [f"https://images.example/{p}.jpg" for p in fields["photo_ids"]],
            "photo_ids": list(fields["photo_ids"]),
            "fields": fields,
        }

    def create_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        item_id = str(next(self._ids))
        self.items[item_id] = self._item(item_id, payload["item"])
        return {"item": self.items[item_id]}

    def update_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        item_id = str(payload["item_id"])
        if item_id not in self.items:
            raise PluginAnswer("not_found", "item not found", status=404)
        self.items[item_id] = self._item(item_id, payload["item"])
        return {"item": self.items[item_id]}

    def delete_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.items.pop(str(payload["item_id"]), None) is None:
            raise PluginAnswer("not_found", "item not found", status=404)
        return {"deleted": True}

    def get_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        item = self.items.get(str(payload["item_id"]))
        if item is None:
            raise PluginAnswer("not_found", "item not found", status=404)
        return {"item": item}

    def _page(self, key: str, entries: list[dict[str, Any]], payload: dict[str, Any]) -> Any:
        page, per_page = int(payload["page"]), int(payload["per_page"])
        chunk = entries[(page - 1) * per_page : page * per_page]
        total = max(1, -(-len(entries) // per_page))
        return {key: chunk, "page": page, "total_pages": total}

    def wardrobe(self, payload: dict[str, Any]) -> dict[str, Any]:
        items: list[dict[str, Any]] = list(self.items.values())
        return dict(self._page("items", items, payload))

    def sold_orders(self, payload: dict[str, Any]) -> dict[str, Any]:
        newest_first = sorted(self.orders, key=lambda o: o["sold_at"], reverse=True)
        return dict(self._page("orders", newest_first, payload))

    def inbox(self, payload: dict[str, Any]) -> dict[str, Any]:
        last = {str(r["conversation_id"]): r["body"] for r in self.replies}
        conversations = [
            {"id": c, "subject": "", "last_message": last.get(c, ""), "unread": False}
            for c in sorted(self.conversations)
        ]
        return dict(self._page("conversations", conversations, payload))

    def send_message(self, payload: dict[str, Any]) -> dict[str, Any]:
        if str(payload["conversation_id"]) not in self.conversations:
            raise PluginAnswer("not_found", "conversation not found", status=404)
        self.replies.append(payload)
        return {"message_id": str(next(self._ids))}
