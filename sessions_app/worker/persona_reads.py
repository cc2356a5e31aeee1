"""`email_read` and `sms_read`: a session started with a persona reads the persona's inbox.

What an agent needs is the newest code or link from a sender, not whole bodies: the answer's
markdown lists each message's sender, subject, age, extracted codes and links, and a short
excerpt; `structured.data` has the same as fields. Messages read are marked read, as the Notte
client documents (`only_unread` then skips them).
"""

import time
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.utils import timezone

from personas_app.selectors import persona_by_id
from personas_app.services import email_read_for_persona, sms_read_for_persona

EXCERPT_CHARS = 300


def _email(message) -> dict[str, Any]:
    return {
        "email_id": str(message.pk),
        "sender_email": message.sender_email,
        "sender_name": message.sender_name,
        "subject": message.subject,
        "received_at": message.created_at.isoformat(),
        "codes": message.codes,
        "links": [link["url"] for link in message.links][:10],
        "excerpt": " ".join((message.text_content or "").split())[:EXCERPT_CHARS],
    }


def _sms(message) -> dict[str, Any]:
    return {
        "sms_id": str(message.pk),
        "sender": message.sender,
        "received_at": message.created_at.isoformat(),
        "codes": message.codes,
        "links": [link["url"] for link in message.links][:10],
        "body": message.body[:EXCERPT_CHARS],
    }


def _markdown(kind: str, items: list[dict[str, Any]]) -> str:
    if not items:
        return f"No {kind} matched."
    lines = []
    for item in items:
        who = item.get("sender_email") or item.get("sender") or "unknown sender"
        title = f"**{item['subject']}** from {who}" if "subject" in item else f"SMS from {who}"
        lines.append(f"- {title} ({item['received_at']})")
        if item["codes"]:
            lines.append(f"  - codes: {', '.join(item['codes'])}")
        if item["links"]:
            lines.append(f"  - links: {', '.join(item['links'])}")
        text = item.get("excerpt") or item.get("body")
        if text:
            lines.append(f"  - {text}")
    return "\n".join(lines)


def _read(persona_id: str, action: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    persona = persona_by_id(persona_id=persona_id)
    seconds = action.get("timedelta")
    max_age = timedelta(seconds=float(seconds)) if seconds else None
    options = {
        "limit": int(action.get("limit") or 10),
        "only_unread": bool(action.get("only_unread", True)),
        "max_age": max_age,
    }
    if action["type"] == "email_read":
        return "emails", [_email(m) for m in email_read_for_persona(persona=persona, **options)]
    return "SMS", [_sms(m) for m in sms_read_for_persona(persona=persona, **options)]


async def read_messages(persona_id: str, action: dict[str, Any], url: str) -> dict[str, Any]:
    """The action's result, in the shape execute_action returns."""
    started = time.time()
    kind, items = await sync_to_async(_read)(persona_id, action)
    return {
        "started_at": started,
        "ended_at": time.time(),
        "success": True,
        "message": f"Read {len(items)} {kind} of the persona ({timezone.now():%H:%M:%S} UTC)",
        "data": {
            "markdown": _markdown(kind, items),
            "structured": {"success": True, "error": None, "data": items},
        },
        "url_before": url,
        "url_after": url,
        "target": None,
    }
