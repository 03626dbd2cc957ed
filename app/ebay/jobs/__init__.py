"""Registry of eBay job handlers, keyed ``{action}_ebay``.

The handlers arrive with the eBay API client; until then the registry is empty and an
eBay job fails with ``Unknown action: <key>`` rather than pretending to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.marketplace.base_handler import BaseJobHandler

EBAY_HANDLERS: dict[str, type[BaseJobHandler]] = {}
