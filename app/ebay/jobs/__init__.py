"""Registry of eBay job handlers, keyed ``{action}_ebay``."""

from __future__ import annotations

from app.ebay.jobs.delete import DeleteEbayHandler
from app.ebay.jobs.orders import SyncOrdersEbayHandler
from app.ebay.jobs.publish import PublishEbayHandler
from app.ebay.jobs.sync import SyncEbayHandler
from app.ebay.jobs.update import UpdateEbayHandler
from app.marketplace.base_handler import BaseJobHandler

EBAY_HANDLERS: dict[str, type[BaseJobHandler]] = {
    f"{cls.action_code}_ebay": cls
    for cls in (
        PublishEbayHandler,
        UpdateEbayHandler,
        DeleteEbayHandler,
        SyncEbayHandler,
        SyncOrdersEbayHandler,
    )
}
