"""Reads. Every persona lookup from a request is scoped to the caller's team: another team's
persona answers exactly like one that does not exist."""

import uuid
from datetime import datetime

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import QuerySet

from core.errors import NotFound
from core.pagination import paginate
from teams_app.models import Team

from .models import InboundEmail, InboundSms, Persona, PersonaStatus


def persona_get_for_team(*, team: Team, persona_id) -> Persona:
    try:
        pk = uuid.UUID(str(persona_id))
    except ValueError:
        pk = None
    persona = (
        Persona.objects.filter(team=team, pk=pk)
        .select_related("created_by", "created_by_key")
        .first()
        if pk
        else None
    )
    if persona is None:
        raise NotFound(f"Persona {persona_id} not found")
    return persona


apersona_get_for_team = sync_to_async(persona_get_for_team)


def persona_by_id(*, persona_id) -> Persona:
    """Not scoped to a team: for an id checked against its team already (a session started with
    this persona keeps its id). Raises Persona.DoesNotExist when it was deleted."""
    return Persona.objects.get(pk=persona_id)


def persona_for_vault(*, team: Team, vault_id) -> Persona | None:
    """The active persona that owns this vault, if one does (a session started with a persona's
    vault reads that persona's mail)."""
    try:
        pk = uuid.UUID(str(vault_id))
    except ValueError:
        return None
    return Persona.objects.filter(team=team, vault_id=pk, status=PersonaStatus.ACTIVE).first()


def persona_list_for_team(*, team: Team, only_active: bool = True) -> QuerySet[Persona]:
    personas = Persona.objects.filter(team=team).select_related("created_by", "created_by_key")
    return personas.filter(status=PersonaStatus.ACTIVE) if only_active else personas


def persona_page_for_team(
    *, team: Team, only_active: bool, page: int, page_size: int
) -> list[Persona]:
    return list(
        paginate(
            persona_list_for_team(team=team, only_active=only_active),
            page=page,
            page_size=page_size,
        )
    )


def mailbox_of(address: str) -> tuple[str, str]:
    """(mailbox, domain) of an address, lower-cased; `name+tag@d` delivers to `name@d`."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    return local.split("+", 1)[0].lower(), domain.lower().rstrip(".")


def is_mail_domain(address: str) -> bool:
    return mailbox_of(address)[1] == settings.PERISCOPE_MAIL_DOMAIN


def has_control_characters(value: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in value)


def persona_for_address(*, address: str, for_update: bool = False) -> Persona | None:
    """The active persona this address delivers to, on the server's mail domain only.
    `for_update` locks it, so a delete running at the same time waits or is waited for."""
    mailbox, domain = mailbox_of(address)
    if not mailbox or domain != settings.PERISCOPE_MAIL_DOMAIN or has_control_characters(address):
        return None
    personas = Persona.objects.select_for_update() if for_update else Persona.objects
    return personas.filter(email=f"{mailbox}@{domain}", status=PersonaStatus.ACTIVE).first()


def persona_for_number(*, number: str, for_update: bool = False) -> Persona | None:
    personas = Persona.objects.select_for_update() if for_update else Persona.objects
    return personas.filter(phone_number=number, status=PersonaStatus.ACTIVE).first()


def email_count_from_sender(*, sender: str, since: datetime) -> int:
    return InboundEmail.objects.filter(
        envelope_sender=sender.lower(), created_at__gte=since
    ).count()


def email_list_for_persona(*, persona: Persona, limit: int = 100) -> list[InboundEmail]:
    return list(persona.emails.all()[:limit])


def email_get_for_persona(*, persona: Persona, email_id) -> InboundEmail:
    try:
        pk = uuid.UUID(str(email_id))
    except ValueError:
        pk = None
    found = persona.emails.filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFound(f"Email {email_id} not found")
    return found


def sms_list_for_persona(*, persona: Persona, limit: int = 100) -> list[InboundSms]:
    return list(persona.sms.all()[:limit])
