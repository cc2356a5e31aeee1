"""The Notte agents resource: start, status, list, stop, workflow code.

Every route needs an API key with the `agents` scope. Another team's agent answers 404, exactly
like an unknown id; so does another team's session given to start.
"""

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import Query, Router

from sessions_app import selectors as session_selectors
from teams_app.auth import ApiKeyAuth
from teams_app.models import Scope

from . import export, selectors, services
from .schemas import (
    AgentCodeQuery,
    AgentFunctionCodeResponse,
    AgentListQuery,
    AgentResponse,
    AgentStartRequest,
    AgentStatusResponse,
    AgentStopQuery,
)

router = Router(tags=["Agents"], auth=ApiKeyAuth(scope=Scope.AGENTS))


@router.post("/start", response=AgentResponse, operation_id="agentStart")
async def agent_start(request: HttpRequest, body: AgentStartRequest):
    team = request.auth.team
    session = (
        await session_selectors.asession_get_for_team(team=team, session_id=body.session_id)
        if body.session_id
        else None
    )
    run = await services.agent_start(
        team=team, session_or_none=session, options=body, api_key=request.auth
    )
    return AgentResponse.from_run(run)


async def _list(request: HttpRequest, query: AgentListQuery):
    runs = await selectors.aagent_page_for_team(
        team=request.auth.team,
        only_active=query.only_active,
        page=query.page,
        page_size=query.page_size,
    )
    return [AgentResponse.from_run(run) for run in runs]


@router.get("/", response=list[AgentResponse], operation_id="listAgents")
async def agent_list(request: HttpRequest, query: Query[AgentListQuery]):
    return await _list(request, query)


@router.get("", response=list[AgentResponse], include_in_schema=False)
async def agent_list_no_slash(request: HttpRequest, query: Query[AgentListQuery]):
    return await _list(request, query)


async def _status(run) -> AgentStatusResponse:
    steps = await sync_to_async(selectors.agent_steps)(run=run)
    return AgentStatusResponse.from_run(run, steps)


@router.get("/{agent_id}", response=AgentStatusResponse, operation_id="agentStatus")
async def agent_status(request: HttpRequest, agent_id: str):
    run = await selectors.aagent_get_for_team(team=request.auth.team, agent_id=agent_id)
    return await _status(run)


@router.delete("/{agent_id}/stop", response=AgentStatusResponse, operation_id="agentStop")
async def agent_stop(request: HttpRequest, agent_id: str, query: Query[AgentStopQuery]):
    run = await selectors.aagent_get_for_team(team=request.auth.team, agent_id=agent_id)
    run = await services.agent_stop(run=run, api_key=request.auth)
    return await _status(run)


@router.get(
    "/{agent_id}/workflow/code",
    response=AgentFunctionCodeResponse,
    operation_id="agentWorkflowCode",
)
async def agent_workflow_code(request: HttpRequest, agent_id: str, query: Query[AgentCodeQuery]):
    run = await selectors.aagent_get_for_team(team=request.auth.team, agent_id=agent_id)
    steps = await sync_to_async(selectors.agent_steps)(run=run)
    exported = [
        export.ExportStep(
            action=s.action,
            target=s.target,
            url_before=s.url_before,
            url_after=s.url_after,
            success=s.success,
        )
        for s in steps
    ]
    return export.workflow_code(exported, start_url=run.url or None, as_workflow=query.as_workflow)
