"""Vaults, their logins and card, the keys that protect them, and the vault audit trail.

Secret values exist here only as AES-GCM ciphertext (`*_ct` columns) under a per-item data key,
itself wrapped by a key-encryption key from the keyring file (see crypto.py and keyring.py).
What is stored in clear is metadata every team member may see: the vault name, the site a
login is for and its username or email, a card's brand, last four digits and expiry.
"""

from django.db import models

from core.models import UUIDModel
from teams_app.models import Team

from .crypto import SCHEMA_VERSION


class Vault(UUIDModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="vaults")
    name = models.CharField(max_length=100)
    # Made for a persona (its sign-ups store their logins here); the persona app keeps the link.
    for_persona = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "created_at"]
        indexes = [models.Index(fields=["team", "created_at"])]

    def __str__(self) -> str:
        return self.name


class SealedItem(UUIDModel):
    """An item whose secret fields share one data key (DEK), wrapped by the KEK `kek_id`."""

    kek_id = models.CharField(max_length=40, db_index=True)
    wrapped_dek = models.BinaryField()
    schema_version = models.PositiveSmallIntegerField(default=SCHEMA_VERSION)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)

    # field name (as bound in the associated data) -> model attribute holding its ciphertext
    SEALED_FIELDS: dict[str, str] = {}

    class Meta:
        abstract = True


class VaultCredential(SealedItem):
    """A website login. `url` is a domain (`example.com`) or an origin (`http://127.0.0.1:8001`)."""

    vault = models.ForeignKey(Vault, on_delete=models.CASCADE, related_name="credentials")
    url = models.CharField(max_length=300)
    username = models.CharField(max_length=256, blank=True)
    email = models.CharField(max_length=256, blank=True)
    password_ct = models.BinaryField()
    mfa_secret_ct = models.BinaryField(null=True, blank=True)

    SEALED_FIELDS = {"password": "password_ct", "mfa_secret": "mfa_secret_ct"}

    class Meta:
        ordering = ["url"]
        constraints = [
            models.UniqueConstraint(fields=["vault", "url"], name="one_login_per_url_per_vault")
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.login})"

    @property
    def login(self) -> str:
        return self.email or self.username

    @property
    def has_totp(self) -> bool:
        return self.mfa_secret_ct is not None


class VaultCard(SealedItem):
    """The vault's payment card (one per vault, as in Notte)."""

    vault = models.OneToOneField(Vault, on_delete=models.CASCADE, related_name="card")
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    # Sites the card may be filled on (domains or origins); empty: any site, as in Notte.
    allowed_origins = models.JSONField(default=list, blank=True)
    holder_ct = models.BinaryField()
    number_ct = models.BinaryField()
    expiration_ct = models.BinaryField()
    cvv_ct = models.BinaryField(null=True, blank=True)

    SEALED_FIELDS = {
        "card_holder_name": "holder_ct",
        "card_number": "number_ct",
        "card_full_expiration": "expiration_ct",
        "card_cvv": "cvv_ct",
    }

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    @property
    def has_cvv(self) -> bool:
        return self.cvv_ct is not None


class VaultTeamSettings(models.Model):
    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="vault_settings"
    )
    store_cvv = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"vault settings of {self.team}"


class KeyPurpose(models.TextChoices):
    KEK = "kek", "Key-encryption key"
    AUDIT = "audit", "Audit chain key"


class VaultKey(models.Model):
    """What the database knows about a keyring key: never the key, only its key-check value."""

    kid = models.CharField(max_length=40, primary_key=True)
    purpose = models.CharField(max_length=10, choices=KeyPurpose.choices, default=KeyPurpose.KEK)
    check_value = models.CharField(max_length=64)
    # AES-GCM with random 96-bit nonces stays safe for about 2**32 encryptions under one key.
    wrap_count = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.kid


class AuditOutcome(models.TextChoices):
    OK = "ok", "OK"
    DENIED = "denied", "Denied"
    ERROR = "error", "Error"


class VaultAuditAction(models.TextChoices):
    VAULT_CREATED = "vault.created"
    VAULT_RENAMED = "vault.renamed"
    VAULT_DELETED = "vault.deleted"
    CREDENTIAL_CREATED = "credential.created"
    CREDENTIAL_UPDATED = "credential.updated"
    CREDENTIAL_DELETED = "credential.deleted"
    CREDENTIAL_REVEALED = "credential.revealed"
    CREDENTIAL_USED = "credential.used"
    CARD_SET = "card.set"
    CARD_DELETED = "card.deleted"
    CARD_REVEALED = "card.revealed"
    CARD_USED = "card.used"
    SETTINGS_CHANGED = "settings.changed"


REVEAL_ACTIONS = (VaultAuditAction.CREDENTIAL_REVEALED, VaultAuditAction.CARD_REVEALED)


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The vault audit trail is append-only")

    def delete(self):
        raise TypeError("The vault audit trail is append-only")


class VaultAuditHead(models.Model):
    """The end of a team's audit chain: a deleted last row shows as a gap against it."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="+")
    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"audit head of {self.team_id} at {self.seq}"


class VaultAuditEvent(models.Model):
    """Append-only, never a secret value. Each row's `mac` chains it to the row before it.

    Who, what and where are copied in as plain values (no foreign keys that could be nulled
    later), so a row stays exactly as it was written and its MAC keeps verifying.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField()
    created_at = models.DateTimeField()
    action = models.CharField(max_length=40, choices=VaultAuditAction.choices)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    actor_kind = models.CharField(max_length=10)  # user | key | system
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    vault_id = models.UUIDField(null=True, blank=True)
    vault_name = models.CharField(max_length=100, blank=True)
    item_id = models.UUIDField(null=True, blank=True)
    item_label = models.CharField(max_length=300, blank=True)
    field = models.CharField(max_length=100, blank=True)
    purpose = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    session_id = models.CharField(max_length=100, blank=True)
    step_index = models.IntegerField(null=True, blank=True)
    target_origin = models.CharField(max_length=300, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["team", "seq"], name="one_audit_seq_per_team")
        ]
        indexes = [
            models.Index(fields=["team", "created_at"]),
            models.Index(fields=["team", "actor_kind", "actor_id", "action", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} #{self.seq} {self.action} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The vault audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The vault audit trail is append-only")

    @property
    def fields(self) -> list[str]:
        return [f for f in self.field.split(",") if f]
