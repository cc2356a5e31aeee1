"""Agent runs and their steps.

A run belongs to one session; at most one run per session is not closed (a database
constraint, so two starts racing cannot both win). Its steps keep the action as the model gave
it: vault placeholders stay placeholders, and no secret ever reaches the model, so none is here.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import UUIDModel
from sessions_app.models import BrowserSession
from teams_app.models import ApiKey, Team


class AgentState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused (a person holds control)"
    NEEDS_PERSON = "needs_person", "Waiting for a person"
    NEEDS_APPROVAL = "needs_approval", "Waiting for approval"
    CLOSED = "closed", "Closed"


class AgentRun(UUIDModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="agent_runs")
    session = models.ForeignKey(BrowserSession, on_delete=models.CASCADE, related_name="agent_runs")
    started_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    task = models.TextField()
    url = models.TextField(blank=True)
    max_steps = models.PositiveIntegerField(default=20)
    use_vision = models.BooleanField(default=True)
    response_format = models.JSONField(null=True, blank=True)
    reasoning_model = models.CharField(
        max_length=200, blank=True, help_text="as the client asked for it"
    )
    model = models.CharField(max_length=200, blank=True, help_text="the model that actually ran")
    vault_id = models.CharField(max_length=100, blank=True)
    persona_id = models.CharField(max_length=100, blank=True)

    state = models.CharField(max_length=20, choices=AgentState.choices, default=AgentState.RUNNING)
    # What waits for a member's decision: the action (as the model gave it) and why it needs one.
    pending_approval = models.JSONField(null=True, blank=True)
    success = models.BooleanField(null=True, blank=True)
    # None until the run answers: the wire tells "no answer yet" from an empty answer.
    answer = models.TextField(null=True, blank=True)  # noqa: DJ001
    structured_answer = models.JSONField(null=True, blank=True)
    stop_reason = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session"], condition=~Q(state="closed"), name="one_open_agent_per_session"
            )
        ]

    def __str__(self) -> str:
        return str(self.id)

    @property
    def status(self) -> str:
        """The wire status: the Notte client accepts only these two."""
        return "closed" if self.state == AgentState.CLOSED else "active"

    @property
    def is_open(self) -> bool:
        return self.state != AgentState.CLOSED

    @property
    def started_by_label(self) -> str:
        if self.started_by_user_id:
            return str(self.started_by_user)
        if self.started_by_key_id:
            return f"key {self.started_by_key}"
        return "-"


class AgentStep(models.Model):
    run = models.ForeignKey(AgentRun, on_delete=models.CASCADE, related_name="steps")
    index = models.PositiveIntegerField()
    state = models.JSONField(default=dict)  # the model's reading: goal status, memory, next goal...
    action = models.JSONField(
        default=dict
    )  # as the model gave it: placeholders kept, never a secret
    success = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    url_before = models.TextField(blank=True)
    url_after = models.TextField(blank=True)
    # The element the action resolved to, robust enough to find again without observe ids.
    target = models.JSONField(null=True, blank=True)
    session_step_index = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    llm_ms = models.FloatField(default=0)
    loop_ms = models.FloatField(default=0)  # the step's own time, the model's excluded
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="one_agent_step_per_index")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index}"
