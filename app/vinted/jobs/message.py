"""message_vinted: answer a buyer in a Vinted conversation (text from the job's input).

A retry after a lost answer first looks in the inbox: when the conversation's last
message is already this text (or the inbox's shortened preview of it), it was sent and is
not sent again. If the buyer answered in between, that check cannot see it: the message
may then go out twice, the one case left.
"""

from __future__ import annotations

from typing import Any

from app.marketplace.fields import FieldError
from app.models.user.marketplace_job import MarketplaceJob
from app.vinted.jobs.base import VintedJobHandler

MAX_BODY = 2000
#: A shortened inbox preview this long that starts our text counts as our message.
PREVIEW_MIN = 20


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


def _words(text: str) -> str:
    return " ".join(text.split())


def already_sent(body: str, last_message: Any) -> bool:
    """True when a conversation's last message (maybe a shortened preview) is ``body``."""
    if not isinstance(last_message, str):
        return False
    sent, preview = _words(body), _words(last_message).rstrip(".…").rstrip()
    if sent == preview:
        return True
    return len(preview) >= PREVIEW_MIN and sent.startswith(preview)


class MessageVintedHandler(VintedJobHandler):
    """Send a reply in a Vinted conversation."""

    action_code = "message"

    async def execute(self, job: MarketplaceJob) -> dict[str, Any]:
        conversation_id, body = message_input(job.input_data)

        async def send() -> dict[str, Any]:
            data = await self.vinted(
                "send_message", {"conversation_id": conversation_id, "body": body}
            )
            return {"message_id": data.get("message_id")}

        async def find_sent() -> dict[str, Any] | None:
            # an earlier attempt may have sent it and lost the answer: never send twice
            def ours(page: list[dict[str, Any]]) -> bool:
                return any(str(c.get("id")) == conversation_id for c in page)

            inbox = await self.pages("inbox", "conversations", 20, stop=ours)
            for conversation in inbox.entries:
                if str(conversation.get("id")) == conversation_id and already_sent(
                    body, conversation.get("last_message")
                ):
                    return {"message_id": None, "found_in_inbox": True}
            return None

        sent = await self.step("send", send, recover=find_sent)
        return {"success": True, "conversation_id": conversation_id, **sent}
