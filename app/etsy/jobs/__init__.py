"""Registry of Etsy job handlers, keyed ``{action}_etsy``.

``ETSY_HANDLERS`` is built on first access: the window reads the field specs in
:mod:`app.etsy.jobs.fields` long before any job runs, and need not load the handlers and
their HTTP client for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.marketplace.base_handler import BaseJobHandler

    ETSY_HANDLERS: dict[str, type[BaseJobHandler]]  # made by __getattr__ below


def __getattr__(name: str) -> Any:
    """``ETSY_HANDLERS``, imported with the handlers on first use."""
    if name != "ETSY_HANDLERS":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from app.etsy.jobs.delete import DeleteEtsyHandler
    from app.etsy.jobs.orders import SyncOrdersEtsyHandler
    from app.etsy.jobs.publish import PublishEtsyHandler
    from app.etsy.jobs.sync import SyncEtsyHandler
    from app.etsy.jobs.update import UpdateEtsyHandler

    registry = {
        f"{cls.action_code}_etsy": cls
        for cls in (
            PublishEtsyHandler,
            UpdateEtsyHandler,
            DeleteEtsyHandler,
            SyncEtsyHandler,
            SyncOrdersEtsyHandler,
        )
    }
    globals()[name] = registry
    return registry
