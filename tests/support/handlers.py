"""Handwritten test handlers: real ``BaseJobHandler`` subclasses with controllable behaviour.

They are registered only by tests (the product's registries stay free of placeholders).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from app.marketplace.base_handler import BaseJobHandler
from app.marketplace.errors import AuthRequiredError, PermanentJobError, RetryableJobError
from app.models.user.marketplace_job import MarketplaceJob

ACTIONS = {
    "vinted": ("message", "orders", "publish", "update", "delete", "sync", "link_product"),
    "ebay": ("publish", "update", "delete", "sync", "sync_orders"),
    "etsy": ("publish", "update", "delete", "sync", "sync_orders"),
}


class ScriptedHandler(BaseJobHandler):
    """Does what the job's ``input_data`` says.

    ``{"sleep": s}`` waits s seconds first; ``{"fail": "retry"|"permanent"|"auth"}``
    raises that kind of error; ``{"ignore_cancel": true}`` swallows cancellation once.
    Every start is recorded in ``ScriptedHandler.started`` (job ids, in order).
    """

    started: ClassVar[list[int]] = []

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        data = job.input_data or {}
        ScriptedHandler.started.append(job.id)
        if data.get("ignore_cancel"):
            try:
                await asyncio.sleep(float(data.get("sleep", 0)))
            except asyncio.CancelledError:
                await asyncio.sleep(float(data.get("sleep", 0)))
        elif data.get("sleep"):
            await asyncio.sleep(float(data["sleep"]))
        fail = data.get("fail")
        if fail == "retry":
            raise RetryableJobError("marketplace busy", retry_after=data.get("retry_after"))
        if fail == "permanent":
            raise PermanentJobError("listing rejected: title too long")
        if fail == "auth":
            raise AuthRequiredError("Reconnect your account")
        return {"success": True, "job_id": job.id, "marketplace": job.marketplace}


def scripted_registry() -> dict[str, type[BaseJobHandler]]:
    """Every action of every marketplace mapped to :class:`ScriptedHandler`."""
    return {f"{code}_{mp}": ScriptedHandler for mp, codes in ACTIONS.items() for code in codes}
