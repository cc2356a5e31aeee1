from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import UUIDModel
from teams_app.models import ApiKey, Team


class PersonaStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Deleted"


class Persona(UUIDModel):
    """A disposable identity: a generated name, a mailbox on the server's mail domain, optionally
    a phone number from the operator's pool.

    Deleting a persona keeps this row (status closed) so its address is never handed out again:
    whoever got a recycled address could receive password resets meant for the old persona.
    Its mail and SMS are deleted, and its phone number goes back to the pool.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="personas")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.CharField(
        max_length=254, unique=True, help_text="lower-case, on PERISCOPE_MAIL_DOMAIN"
    )
    # Unique: a pool number belongs to one persona at a time (NULLs never collide).
    phone_number = models.CharField(max_length=16, null=True, blank=True, unique=True)
    # The persona's own vault, once vaults exist; null until then.
    vault_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=PersonaStatus.choices, default=PersonaStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["team", "status", "-created_at"], name="persona_team_status")
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_active(self) -> bool:
        return self.status == PersonaStatus.ACTIVE

    @property
    def created_by_label(self) -> str:
        if self.created_by_id:
            return str(self.created_by)
        if self.created_by_key_id:
            return f"key {self.created_by_key}"
        return "—"


class InboundEmail(UUIDModel):
    """One accepted message for one persona. The HTML is stored already sanitised; attachments
    are listed (name, type, size) but their content is not kept."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="emails")
    envelope_sender = models.CharField(max_length=254, blank=True, help_text="SMTP MAIL FROM")
    recipient = models.CharField(max_length=254, help_text="SMTP RCPT TO, as the sender wrote it")
    message_id = models.CharField(max_length=998, blank=True)
    sender_email = models.CharField(max_length=254, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.TextField(blank=True)
    text_content = models.TextField(blank=True)
    html_content = models.TextField(blank=True, help_text="sanitised")
    attachments = models.JSONField(default=list, blank=True)
    codes = models.JSONField(
        default=list, blank=True, help_text="one-time codes, most likely first"
    )
    links = models.JSONField(default=list, blank=True, help_text="[{url, text, verification}]")
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True, help_text="first handed out by the API")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["persona", "-created_at"], name="email_persona_created"),
            models.Index(fields=["envelope_sender", "created_at"], name="email_sender_created"),
            models.Index(fields=["created_at"], name="email_created"),
        ]

    def __str__(self) -> str:
        return f"{self.subject!r} from {self.sender_email} to {self.recipient}"

    @property
    def verification_links(self) -> list[str]:
        return [link["url"] for link in self.links if link.get("verification")]


class InboundSms(UUIDModel):
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="sms")
    sender = models.CharField(max_length=32, blank=True)
    to_number = models.CharField(max_length=16)
    body = models.TextField(blank=True)
    # The provider's message id: a webhook delivered twice is stored once.
    provider_sid = models.CharField(max_length=64, unique=True)
    codes = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["persona", "-created_at"], name="sms_persona_created"),
            models.Index(fields=["created_at"], name="sms_created"),
        ]

    def __str__(self) -> str:
        return f"SMS from {self.sender} to {self.to_number}"
