import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models

from core.models import UUIDModel
from teams_app.models import ApiKey, Team


class SessionStatus(models.TextChoices):
    # "starting" is internal: the API answers start only once the page is usable, so clients
    # only ever see the four Notte statuses.
    STARTING = "starting", "Starting"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"
    ERROR = "error", "Error"
    TIMED_OUT = "timed_out", "Timed out"


LIVE_STATUSES = (SessionStatus.STARTING, SessionStatus.ACTIVE)


class ReplayStatus(models.TextChoices):
    NONE = "", "Not built"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class BrowserWorker(models.Model):
    """A process that owns one Chromium; it heartbeats so others can tell when it is gone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.IntegerField()
    capacity = models.PositiveIntegerField()
    sessions = models.PositiveIntegerField(default=0)
    contexts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"


class BrowserSession(UUIDModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="browser_sessions")
    started_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.STARTING
    )
    error = models.TextField(blank=True)
    worker = models.ForeignKey(
        BrowserWorker, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    worker_channel = models.CharField(max_length=200, blank=True)

    headless = models.BooleanField(default=True)
    browser_type = models.CharField(max_length=20, default="chromium")
    user_agent = models.CharField(max_length=512, blank=True)
    viewport_width = models.PositiveIntegerField()
    viewport_height = models.PositiveIntegerField()
    idle_timeout_minutes = models.PositiveIntegerField(default=3)
    max_duration_minutes = models.PositiveIntegerField(default=15)
    extra_http_headers = models.JSONField(default=dict, blank=True)
    chrome_args = models.JSONField(default=list, blank=True)
    proxies = models.BooleanField(default=False)
    solve_captchas = models.BooleanField(default=False)
    use_file_storage = models.BooleanField(default=True)
    screenshot_type = models.CharField(max_length=20, default="last_action")
    web_bot_auth = models.BooleanField(default=False)
    vault_id = models.CharField(max_length=100, blank=True)
    persona_id = models.CharField(max_length=100, blank=True)
    # Bytes the session's pages sent and received through the egress proxy.
    network_request_bytes = models.PositiveBigIntegerField(default=0)
    network_response_bytes = models.PositiveBigIntegerField(default=0)
    replay_status = models.CharField(
        max_length=10, choices=ReplayStatus.choices, default=ReplayStatus.NONE, blank=True
    )
    replay_claimed_at = models.DateTimeField(null=True, blank=True)
    replay_frames = models.PositiveIntegerField(default=0)
    # When vault secrets were first filled into the session's pages. From then on a CDP client
    # could read them back (Runtime.evaluate), so only keys of the team that carry the
    # vaults.reveal scope may attach.
    vault_filled_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_accessed_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def duration(self) -> timedelta | None:
        if self.created_at is None:
            return None
        from django.utils import timezone

        return (self.closed_at or timezone.now()) - self.created_at

    @property
    def started_by_label(self) -> str:
        if self.started_by_user_id:
            return str(self.started_by_user)
        if self.started_by_key_id:
            return f"key {self.started_by_key}"
        return "-"


class SessionEvent(models.Model):
    """Every state change of a session, with why it happened."""

    session = models.ForeignKey(BrowserSession, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=SessionStatus.choices)
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"


class Step(models.Model):
    """One executed page action (recorded by the perception layer)."""

    session = models.ForeignKey(BrowserSession, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    action = models.JSONField(default=dict)
    success = models.BooleanField(default=True)
    message = models.TextField(blank=True)
    url_before = models.TextField(blank=True)
    url_after = models.TextField(blank=True)
    duration_ms = models.FloatField(default=0)
    # The element the action acted on, described so a fresh load of the page finds it again
    # (browser/perception/target.py): what an exported script replays. Null for actions on no element.
    target = models.JSONField(null=True, blank=True)
    screenshot = models.FileField(upload_to="steps/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "index"]
        constraints = [
            models.UniqueConstraint(fields=["session", "index"], name="one_step_per_index")
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.index}"


class SessionControl(models.Model):
    """Who drives a session's page by hand from the live view: one holder at a time. While a
    lease exists, API calls that act on the page answer 409 naming the holder."""

    session = models.OneToOneField(
        BrowserSession, on_delete=models.CASCADE, primary_key=True, related_name="control"
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    holder_label = models.CharField(max_length=150)
    since = models.DateTimeField()
    last_input_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.holder_label} controls {self.session_id}"
