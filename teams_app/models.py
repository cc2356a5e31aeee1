from django.conf import settings
from django.db import models

from core.models import UUIDModel


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Scope(models.TextChoices):
    SESSIONS = "sessions", "Sessions"
    AGENTS = "agents", "Agents"
    PERSONAS = "personas", "Personas"
    VAULTS_USE = "vaults.use", "Use vault items"
    VAULTS_MANAGE = "vaults.manage", "Manage vaults"
    VAULTS_REVEAL = "vaults.reveal", "Reveal vault secrets"


DEFAULT_SCOPES = [s.value for s in Scope if s != Scope.VAULTS_REVEAL]


class Team(UUIDModel):
    name = models.CharField(max_length=100, unique=True)
    # Agents wait for a member's approval before they use a vault card or submit a payment form.
    agent_approval_required = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]
        ordering = ["team__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_manage_team(self) -> bool:
        return self.role in {Role.OWNER, Role.ADMIN}

    @property
    def can_operate(self) -> bool:
        """Start and stop sessions: everyone but viewers."""
        return self.role != Role.VIEWER


class ApiKey(UUIDModel):
    """Stored as HMAC-SHA256(pepper, key) plus a visible prefix for lookup: a leaked database holds
    no usable key, and checking one costs microseconds (a password hasher would cost 0.5 s)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class AuditAction(models.TextChoices):
    KEY_CREATED = "api_key.created"
    KEY_REVOKED = "api_key.revoked"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"
    ROLE_CHANGED = "member.role_changed"
    SESSION_STARTED = "session.started"
    SESSION_STOPPED = "session.stopped"
    CONTROL_TAKEN = "session.control_taken"
    CONTROL_RELEASED = "session.control_released"
    CONTROL_TAKEN_OVER = "session.control_taken_over"
    CONTROL_EXPIRED = "session.control_expired"
    CDP_ATTACHED = "session.cdp_attached", "CDP client attached"
    CDP_DETACHED = "session.cdp_detached", "CDP client detached"
    AGENT_STARTED = "agent.started", "Agent started"
    AGENT_STOPPED = "agent.stopped", "Agent stopped"
    AGENT_APPROVED = "agent.approved", "Agent action approved"
    AGENT_REJECTED = "agent.rejected", "Agent action rejected"
    AGENT_APPROVAL_CHANGED = "team.agent_approval_changed", "Agent approval setting changed"


class AuditEvent(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_events")
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"

    @property
    def actor_label(self) -> str:
        if self.actor_user_id:
            return str(self.actor_user)
        if self.actor_key_id:
            return f"key {self.actor_key}"
        return "system"
