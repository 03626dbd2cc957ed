"""Registry of Etsy job handlers, keyed ``{action}_etsy``.

The handlers arrive with the Etsy API client; until then the registry is empty and an
Etsy job fails with ``Unknown action: <key>`` rather than pretending to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.marketplace.base_handler import BaseJobHandler

ETSY_HANDLERS: dict[str, type[BaseJobHandler]] = {}
