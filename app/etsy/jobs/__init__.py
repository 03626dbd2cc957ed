"""Registry of Etsy job handlers, keyed ``{action}_etsy``."""

from __future__ import annotations

from app.etsy.jobs.delete import DeleteEtsyHandler
from app.etsy.jobs.orders import SyncOrdersEtsyHandler
from app.etsy.jobs.publish import PublishEtsyHandler
from app.etsy.jobs.sync import SyncEtsyHandler
from app.etsy.jobs.update import UpdateEtsyHandler
from app.marketplace.base_handler import BaseJobHandler

ETSY_HANDLERS: dict[str, type[BaseJobHandler]] = {
    f"{cls.action_code}_etsy": cls
    for cls in (
        PublishEtsyHandler,
        UpdateEtsyHandler,
        DeleteEtsyHandler,
        SyncEtsyHandler,
        SyncOrdersEtsyHandler,
    )
}
