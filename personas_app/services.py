"""Writes: one transaction per state change."""

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from teams_app.models import ApiKey, Team
from vaults_app.actors import system_actor
from vaults_app.services import vault_create

from . import selectors
from .extract import find_codes, find_links
from .mail_parse import parse_email
from .models import InboundEmail, InboundSms, Persona, PersonaStatus
from .names import mailbox_name, random_name

NUMBER_POOL_HELP = (
    "set PERISCOPE_SMS_NUMBERS to the comma-separated E.164 numbers your SMS provider forwards to "
    "POST /api/personas/sms/inbound (e.g. +15551230001,+15551230002)"
)
MAX_SMS_BODY = 10_000


def _vault_for_new_persona(*, team: Team, email: str) -> str:
    """The persona's own vault, where credentials made during its sign-ups are kept encrypted.
    Made in the persona's transaction: no persona without its vault, and the other way round.
    A sealed vault store answers 503 before anything is written."""
    vault = vault_create(
        actor=system_actor(team, label=f"persona {email}"),
        name=f"Persona {email}"[:100],
        for_persona=True,
    )
    return str(vault.pk)


@transaction.atomic
def persona_create(
    *,
    team: Team,
    create_vault: bool = False,
    create_phone_number: bool = False,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Persona:
    domain = settings.PERISCOPE_MAIL_DOMAIN
    while True:  # the random suffix makes a second round all but impossible
        first_name, last_name = random_name()
        email = f"{mailbox_name(first_name, last_name)}@{domain}"
        if not Persona.objects.filter(email=email).exists():
            break
    persona = Persona.objects.create(
        team=team,
        first_name=first_name,
        last_name=last_name,
        email=email,
        created_by=user if user is not None and user.is_authenticated else None,
        created_by_key=api_key,
        vault_id=_vault_for_new_persona(team=team, email=email) if create_vault else None,
    )
    if create_phone_number:
        _assign_number(persona, field="create_phone_number")
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona) -> bool:
    """Deletes its mail and SMS and frees its number; the address stays reserved. False when the
    persona was deleted already."""
    locked = Persona.objects.select_for_update().get(pk=persona.pk)
    if not locked.is_active:
        return False
    InboundEmail.objects.filter(persona=locked).delete()
    InboundSms.objects.filter(persona=locked).delete()
    locked.status = PersonaStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.phone_number = None
    locked.save(update_fields=["status", "closed_at", "phone_number"])
    persona.status, persona.closed_at, persona.phone_number = locked.status, locked.closed_at, None
    return True


@transaction.atomic
def persona_number_assign(*, persona: Persona) -> tuple[str, bool]:
    """(number, newly assigned). A persona that has a number keeps it."""
    locked = Persona.objects.select_for_update().get(pk=persona.pk)
    if not locked.is_active:
        raise Conflict(f"Persona {persona.pk} is deleted; create a new persona")
    if locked.phone_number:
        return locked.phone_number, False
    number = _assign_number(locked, field="phone_number")
    persona.phone_number = number
    return number, True


@transaction.atomic
def persona_number_release(*, persona: Persona) -> str | None:
    """Gives the number back to the pool; its SMS stay with the persona. None if it had none."""
    locked = Persona.objects.select_for_update().get(pk=persona.pk)
    number = locked.phone_number
    if number:
        locked.phone_number = None
        locked.save(update_fields=["phone_number"])
        persona.phone_number = None
    return number


def _assign_number(persona: Persona, *, field: str) -> str:
    pool = settings.PERISCOPE_SMS_NUMBERS
    if not pool:
        raise InvalidInput(field, f"this server has no phone numbers: {NUMBER_POOL_HELP}")
    held = set(Persona.objects.filter(phone_number__in=pool).values_list("phone_number", flat=True))
    for number in (n for n in pool if n not in held):
        try:
            with transaction.atomic():  # another request may take it first: try the next one
                Persona.objects.filter(pk=persona.pk).update(phone_number=number)
        except IntegrityError:
            continue
        persona.phone_number = number
        return number
    raise Conflict(
        f"All {len(pool)} phone number(s) of this server are held by personas: delete a persona's "
        "number, or add numbers to PERISCOPE_SMS_NUMBERS"
    )


# -- inbound messages ---------------------------------------------------------------------------


def email_receive(
    *, envelope_sender: str, recipients: Iterable[str], raw: bytes
) -> list[InboundEmail]:
    """Stores one accepted message for each recipient that is an active persona (once per
    persona, however many of its addresses are listed). Parsing happens before the transaction."""
    parsed = parse_email(raw)
    return _email_store(
        envelope_sender=envelope_sender,
        recipients=list(recipients),
        raw_size=len(raw),
        parsed=parsed,
    )


@transaction.atomic
def _email_store(*, envelope_sender, recipients, raw_size, parsed) -> list[InboundEmail]:
    stored: list[InboundEmail] = []
    delivered: set = set()
    now = timezone.now()
    for recipient in recipients:
        persona = selectors.persona_for_address(address=recipient, for_update=True)
        if persona is None or persona.pk in delivered:
            continue
        delivered.add(persona.pk)
        stored.append(
            InboundEmail.objects.create(
                persona=persona,
                envelope_sender=envelope_sender.lower()[:254],
                recipient=recipient[:254],
                message_id=parsed.message_id,
                sender_email=(parsed.sender_email or "")[:254],
                sender_name=(parsed.sender_name or "")[:200],
                subject=parsed.subject,
                text_content=parsed.text or "",
                html_content=parsed.html or "",
                attachments=parsed.attachments,
                codes=parsed.codes,
                links=[link.as_dict() for link in parsed.links],
                size=raw_size,
                created_at=now,
            )
        )
    return stored


def sms_receive(*, to_number: str, sender: str | None, body: str, provider_sid: str) -> InboundSms:
    """Stores an SMS for the persona holding `to_number`. A provider's retry of the same message
    (same id) returns the stored one."""
    body = body.replace("\x00", "")[:MAX_SMS_BODY]
    codes = find_codes(body)
    links = [link.as_dict() for link in find_links(body)]
    try:
        return _sms_store(
            to_number=to_number,
            sender=sender,
            body=body,
            provider_sid=provider_sid,
            codes=codes,
            links=links,
        )
    except IntegrityError:  # the same message, delivered twice at once
        return InboundSms.objects.get(provider_sid=provider_sid)


@transaction.atomic
def _sms_store(*, to_number, sender, body, provider_sid, codes, links) -> InboundSms:
    existing = InboundSms.objects.filter(provider_sid=provider_sid).first()
    if existing is not None:
        return existing
    persona = selectors.persona_for_number(number=to_number, for_update=True)
    if persona is None:
        raise NotFound(
            f"No persona holds the number {to_number}: give a persona this number first (it must be "
            "in PERISCOPE_SMS_NUMBERS), or point the provider's webhook for this number elsewhere"
        )
    return InboundSms.objects.create(
        persona=persona,
        sender=(sender or "")[:32],
        to_number=to_number,
        body=body,
        provider_sid=provider_sid,
        codes=codes,
        links=links,
    )


def email_read_for_persona(
    *, persona: Persona, limit: int, only_unread: bool, max_age: timedelta | None
) -> list[InboundEmail]:
    """The newest messages, which are then marked read (as the Notte client documents)."""
    return _read(persona.emails.all(), limit=limit, only_unread=only_unread, max_age=max_age)


def sms_read_for_persona(
    *, persona: Persona, limit: int, only_unread: bool, max_age: timedelta | None
) -> list[InboundSms]:
    return _read(persona.sms.all(), limit=limit, only_unread=only_unread, max_age=max_age)


@transaction.atomic
def _read(messages: QuerySet, *, limit: int, only_unread: bool, max_age: timedelta | None) -> list:
    now = timezone.now()
    if only_unread:
        messages = messages.filter(read_at__isnull=True)
    if max_age is not None:
        messages = messages.filter(created_at__gte=now - max_age)
    found = list(messages[:limit])
    messages.model.objects.filter(pk__in=[m.pk for m in found], read_at__isnull=True).update(
        read_at=now
    )
    return found


def messages_purge_expired(*, now=None) -> tuple[int, int]:
    """Deletes mail and SMS older than PERISCOPE_PERSONA_RETENTION_DAYS: (emails, sms) deleted."""
    days = settings.PERISCOPE_PERSONA_RETENTION_DAYS
    if not days:
        return 0, 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        emails, _ = InboundEmail.objects.filter(created_at__lt=cutoff).delete()
        sms, _ = InboundSms.objects.filter(created_at__lt=cutoff).delete()
    return emails, sms
