"""message_vinted: answer a buyer in a Vinted conversation (text from the job's input)."""

from __future__ import annotations

from typing import Any

from app.marketplace.fields import FieldError
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler

MAX_BODY = 2000


def message_input(input_data: dict[str, Any] | None) -> tuple[str, str]:
    """``(conversation_id, body)`` from the job's input, checked."""
    given = input_data or {}
    problems: dict[str, str] = {}
    conversation = str(given.get("conversation_id") or "").strip()
    body = str(given.get("body") or "").strip()
    if not conversation.isdigit():
        problems["conversation_id"] = "the number of the Vinted conversation is required"
    if not body:
        problems["body"] = "the message text is required"
    elif len(body) > MAX_BODY:
        problems["body"] = f"Vinted messages hold at most {MAX_BODY} characters"
    if problems:
        raise FieldError("Vinted", problems)
    return conversation, body


class MessageVintedHandler(VintedJobHandler):
    """Send a reply in a Vinted conversation."""

    action_code = "message"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        conversation, body = message_input(job.input_data)

        async def send() -> dict[str, Any]:
            data = await self.vinted(
                "send_message", {"conversation_id": conversation, "body": body}
            )
            return {"message_id": data.get("message_id")}

        sent = await self.step("send", send)
        return {"success": True, "conversation_id": conversation, **sent}
