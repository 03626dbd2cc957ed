"""Registry of Vinted job handlers, keyed ``{action}_vinted``.

Vinted jobs run in the seller's browser: each handler calls the Marketdesk plugin through
the bridge (:mod:`app.bridge`), see ``docs/bridge-protocol.md``.
"""

from __future__ import annotations

from app.marketplace.base_handler import BaseJobHandler
from app.vinted.jobs.delete import DeleteVintedHandler
from app.vinted.jobs.link_product import LinkProductVintedHandler
from app.vinted.jobs.message import MessageVintedHandler
from app.vinted.jobs.orders import OrdersVintedHandler
from app.vinted.jobs.publish import PublishVintedHandler
from app.vinted.jobs.sync import SyncVintedHandler
from app.vinted.jobs.update import UpdateVintedHandler

HANDLERS: dict[str, type[BaseJobHandler]] = {
    f"{cls.action_code}_vinted": cls
    for cls in (
        PublishVintedHandler,
        UpdateVintedHandler,
        DeleteVintedHandler,
        SyncVintedHandler,
        OrdersVintedHandler,
        MessageVintedHandler,
        LinkProductVintedHandler,
    )
}
