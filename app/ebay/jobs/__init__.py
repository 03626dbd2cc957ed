"""Registry of eBay job handlers, keyed ``{action}_ebay``.

``EBAY_HANDLERS`` is built on first access: the window reads the field specs in
:mod:`app.ebay.jobs.fields` long before any job runs, and need not load the handlers and
their HTTP client for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.marketplace.base_handler import BaseJobHandler

    EBAY_HANDLERS: dict[str, type[BaseJobHandler]]  # made by __getattr__ below


def __getattr__(name: str) -> Any:
    """``EBAY_HANDLERS``, imported with the handlers on first use."""
    if name != "EBAY_HANDLERS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from app.ebay.jobs.delete import DeleteEbayHandler
    from app.ebay.jobs.orders import SyncOrdersEbayHandler
    from app.ebay.jobs.publish import PublishEbayHandler
    from app.ebay.jobs.sync import SyncEbayHandler
    from app.ebay.jobs.update import UpdateEbayHandler

    registry = {
        f"{cls.action_code}_ebay": cls
        for cls in (
            PublishEbayHandler,
            UpdateEbayHandler,
            DeleteEbayHandler,
            SyncEbayHandler,
            SyncOrdersEbayHandler,
        )
    }
    globals()[name] = registry
    return registry
