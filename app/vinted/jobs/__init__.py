"""Registry of Vinted job handlers, keyed ``{action}_vinted``.

The handlers arrive with the plugin bridge; until then the registry is empty and a
Vinted job fails with ``Unknown action: <key>`` rather than pretending to run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.marketplace.base_handler import BaseJobHandler

HANDLERS: dict[str, type[BaseJobHandler]] = {}
