"""Writes for agent runs. Sync functions are one transaction each (events after commit); the
async ones orchestrate a state change that needs the session's worker."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from sessions_app.models import BrowserSession
from teams_app.models import ApiKey, Team

from .models import AgentRun
from .schemas import AgentStartRequest


async def agent_start(
    *,
    team: Team,
    session_or_none: BrowserSession | None,
    options: AgentStartRequest,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> AgentRun:
    raise NotImplementedError


async def agent_stop(
    *, run: AgentRun, user: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> AgentRun:
    raise NotImplementedError


def agent_decide(*, run: AgentRun, user: AbstractBaseUser, approve: bool) -> AgentRun:
    raise NotImplementedError


def agent_finish(
    *,
    agent_id,
    stop_reason: str,
    success: bool | None = None,
    answer: str | None = None,
    structured_answer: Any = None,
) -> bool:
    raise NotImplementedError
