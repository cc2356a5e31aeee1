"""Reads. Every lookup is scoped to a team: another team's agent answers exactly like an unknown one."""

import uuid

from asgiref.sync import sync_to_async
from django.db.models import Count, QuerySet

from core.errors import NotFound
from core.pagination import paginate
from teams_app.models import Team

from .models import AgentRun, AgentState, AgentStep


def _parse_id(agent_id) -> uuid.UUID:
    try:
        return uuid.UUID(str(agent_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound(f"Agent {str(agent_id)[:100]} not found") from None


def agent_queryset(*, team: Team) -> QuerySet[AgentRun]:
    return (
        AgentRun.objects.filter(team=team)
        .select_related("team", "session", "started_by_user", "started_by_key")
        .annotate(step_count=Count("steps"))
    )


def agent_get_for_team(*, team: Team, agent_id) -> AgentRun:
    pk = _parse_id(agent_id)
    run = agent_queryset(team=team).filter(pk=pk).first()
    if run is None:
        raise NotFound(f"Agent {agent_id} not found")
    return run


async def aagent_get_for_team(*, team: Team, agent_id) -> AgentRun:
    return await sync_to_async(agent_get_for_team)(team=team, agent_id=agent_id)


def agent_list_for_team(
    *, team: Team, only_active: bool = False, state: str | None = None, session_id=None
) -> QuerySet[AgentRun]:
    runs = agent_queryset(team=team)
    if only_active:
        runs = runs.exclude(state=AgentState.CLOSED)
    if state:
        runs = runs.filter(state=state)
    if session_id:
        runs = runs.filter(session_id=session_id)
    return runs.order_by("-created_at")


async def aagent_page_for_team(
    *, team: Team, only_active: bool, page: int, page_size: int
) -> list[AgentRun]:
    runs = agent_list_for_team(team=team, only_active=only_active)
    return await sync_to_async(lambda: list(paginate(runs, page=page, page_size=page_size)))()


def agent_steps(*, run: AgentRun, after_index: int = 0) -> list[AgentStep]:
    return list(AgentStep.objects.filter(run=run, index__gt=after_index).order_by("index"))


def agent_open_for_session(*, session_id) -> AgentRun | None:
    return AgentRun.objects.filter(session_id=session_id).exclude(state=AgentState.CLOSED).first()


def agent_for_worker(*, agent_id) -> AgentRun:
    """The run as the loop in a worker reads it (the command that names it was authorized)."""
    return AgentRun.objects.select_related("team", "session").get(pk=agent_id)


def agent_team_requires_approval(*, agent_id) -> bool:
    """Whether the run's team wants a person to approve card use and payment forms."""
    return AgentRun.objects.filter(pk=agent_id, team__agent_approval_required=True).exists()
