"""Reads that only the console pages need: the runs table with its filters and totals, the
choices of the "New agent" form, what the run page shows beside the steps, and the run's script.
All scoped to one team, like every other selector."""

import json
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from core.errors import NotFound
from personas_app.models import Persona
from personas_app.selectors import persona_get_for_team, persona_list_for_team
from sessions_app.models import BrowserSession, Step
from sessions_app.selectors import session_list_for_team
from teams_app.models import Team
from vaults_app.models import Vault
from vaults_app.selectors import vault_get_for_team, vault_list_for_team

from .export import ExportStep, workflow_code
from .models import AgentRun, AgentState, AgentStep
from .selectors import agent_list_for_team

# The list's filters: query value -> label. Both default to "all".
STATUS_FILTERS = [("", "All"), ("active", "Active"), ("closed", "Closed")]
SUCCESS_FILTERS = [("", "Any outcome"), ("yes", "Succeeded"), ("no", "Failed")]
LIST_LIMIT = 100


def run_rows_for_team(*, team: Team, status: str = "", success: str = "") -> list[AgentRun]:
    runs = agent_list_for_team(team=team, only_active=status == "active").annotate(
        total_tokens=F("prompt_tokens") + F("completion_tokens")
    )
    if status == "closed":
        runs = runs.filter(state=AgentState.CLOSED)
    if success == "yes":
        runs = runs.filter(success=True)
    elif success == "no":
        runs = runs.filter(success=False)
    rows = list(runs[:LIST_LIMIT])
    now = timezone.now()
    for run in rows:
        run.duration = _duration(run, now)
    return rows


def _duration(run: AgentRun, now) -> timedelta:
    return max(timedelta(0), (run.closed_at or now) - run.created_at)


def active_sessions_for_new_agent(*, team: Team) -> list[BrowserSession]:
    """The team's live sessions that no agent is working on: the ones a new agent may take."""
    busy = AgentRun.objects.filter(session=OuterRef("pk")).exclude(state=AgentState.CLOSED)
    return list(session_list_for_team(team=team, only_active=True).filter(~Exists(busy))[:50])


def vaults_for_new_agent(*, team: Team) -> list[Vault]:
    return list(vault_list_for_team(team=team))


def personas_for_new_agent(*, team: Team) -> list[Persona]:
    return list(persona_list_for_team(team=team, only_active=True)[:200])


@dataclass(frozen=True, slots=True)
class RunPage:
    """What the run page shows around its steps."""

    steps: list[AgentStep]
    shot_indexes: frozenset[int]  # the session steps that have a screenshot
    total_tokens: int
    llm_seconds: float
    duration: timedelta


def run_page(*, run: AgentRun) -> RunPage:
    steps = list(AgentStep.objects.filter(run=run).order_by("index"))
    indexes = [s.session_step_index for s in steps if s.session_step_index is not None]
    with_shot = (
        Step.objects.filter(session_id=run.session_id, index__in=indexes)
        .exclude(Q(screenshot="") | Q(screenshot__isnull=True))
        .values_list("index", flat=True)
        if indexes
        else []
    )
    return RunPage(
        steps=steps,
        shot_indexes=frozenset(with_shot),
        total_tokens=run.prompt_tokens + run.completion_tokens,
        llm_seconds=sum(s.llm_ms for s in steps) / 1000,
        duration=_duration(run, timezone.now()),
    )


def last_screenshot_step(*, session: BrowserSession) -> Step | None:
    return (
        Step.objects.filter(session=session)
        .exclude(Q(screenshot="") | Q(screenshot__isnull=True))
        .order_by("-index")
        .first()
    )


def vault_label(*, team: Team, vault_id: str) -> str:
    if not vault_id:
        return ""
    try:
        return vault_get_for_team(team=team, vault_id=vault_id).name
    except NotFound:
        return "a deleted vault"


def persona_label(*, team: Team, persona_id: str) -> str:
    if not persona_id:
        return ""
    try:
        persona = persona_get_for_team(team=team, persona_id=persona_id)
    except NotFound:
        return "a deleted persona"
    return f"{persona.full_name} ({persona.email})"


def run_script(*, run: AgentRun, as_workflow: bool = False) -> str:
    """The run's replay script, built from its recorded steps (placeholders only, no secret)."""
    steps = [
        ExportStep(
            action=s.action,
            target=s.target,
            url_before=s.url_before,
            url_after=s.url_after,
            success=s.success,
        )
        for s in AgentStep.objects.filter(run=run).order_by("index")
    ]
    code = workflow_code(steps, start_url=run.url or None, as_workflow=as_workflow)
    return code["python_script"]


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
