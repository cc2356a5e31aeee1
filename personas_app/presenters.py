"""Models to wire dicts, and durations as the Notte client sends them."""

import re
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

from core.errors import InvalidInput

from .models import InboundEmail, InboundSms, Persona

_TIMEDELTA = TypeAdapter(timedelta)
_SECONDS = re.compile(r"\d+(\.\d+)?")


def persona_to_wire(persona: Persona) -> dict:
    return {
        "persona_id": str(persona.pk),
        "status": persona.status,
        "first_name": persona.first_name,
        "last_name": persona.last_name,
        "email": persona.email,
        "vault_id": str(persona.vault_id) if persona.vault_id else None,
        "phone_number": persona.phone_number,
        "created_at": persona.created_at,
    }


def email_to_wire(email: InboundEmail) -> dict:
    return {
        "email_id": str(email.pk),
        "subject": email.subject,
        "created_at": email.created_at,
        "sender_email": email.sender_email or None,
        "sender_name": email.sender_name or None,
        "text_content": email.text_content or None,
        "html_content": email.html_content or None,
        "codes": email.codes,
        "verification_links": email.verification_links,
        "links": email.links,
        "attachments": email.attachments,
        "recipient": email.recipient,
    }


def sms_to_wire(sms: InboundSms) -> dict:
    return {
        "sms_id": str(sms.pk),
        "body": sms.body,
        "created_at": sms.created_at,
        "sender": sms.sender or None,
        "codes": sms.codes,
    }


def parse_max_age(value: str | None) -> timedelta | None:
    """`timedelta` as clients send it: the Notte client puts str(timedelta) in the query
    ("0:05:00", "1 day, 0:00:05"); others send seconds or ISO 8601 ("PT5M")."""
    if value is None or value == "":
        return None
    value = value.strip()
    try:
        age = (
            timedelta(seconds=float(value))
            if _SECONDS.fullmatch(value)
            else _TIMEDELTA.validate_python(value)
        )
    except (ValidationError, OverflowError, ValueError):
        raise InvalidInput(
            "timedelta",
            f"{value!r} is not a duration: give seconds (300), H:MM:SS (0:05:00) or ISO 8601 (PT5M)",
        ) from None
    if age <= timedelta(0):
        raise InvalidInput("timedelta", "must be a positive duration")
    return age
