"""Writes for agent runs. Sync functions are one transaction each, with their events sent after
commit; the async ones orchestrate a change that needs the session's worker (reserve the run ->
tell the worker -> answer).

Who may: API keys need the `agents` scope (checked by the router); console members need a role
that may operate (viewers only watch). Approving or rejecting a waiting action is a person's
decision in the console, never an API key's: the program that started the agent must not be able
to approve its own payment.
"""

import logging
from datetime import datetime
from typing import Any

import jsonschema
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import llm
from core.errors import Conflict, Forbidden, InvalidInput, NotFound, PeriscopeError
from personas_app.selectors import persona_get_for_team
from sessions_app import services as session_services
from sessions_app.models import BrowserSession, SessionStatus
from sessions_app.start_options import build_start_options
from sessions_app.worker import client
from teams_app.models import ApiKey, AuditAction, Membership, Team
from teams_app.services import audit_record
from vaults_app.fill import vault_check_usable

from . import events
from .model_client import served_model
from .models import AgentRun, AgentState, AgentStep
from .schemas import MAX_RESPONSE_FORMAT_BYTES, AgentStartRequest

log = logging.getLogger(__name__)


def _actor_label(user: AbstractBaseUser | None, api_key: ApiKey | None) -> str:
    if user is not None and user.is_authenticated:
        return str(user)
    return f"key {api_key}" if api_key is not None else "the system"


def _require_operator(*, team: Team, user: AbstractBaseUser | None, verb: str) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise Forbidden(f"You are not a member of team {team.name}")
    if not membership.can_operate:
        raise Forbidden(
            f"Viewers can watch agents but not {verb} them; ask a team admin for the member role"
        )
    return membership


def check_response_format(schema: dict[str, Any] | None) -> None:
    if schema is None:
        return
    import json

    if len(json.dumps(schema)) > MAX_RESPONSE_FORMAT_BYTES:
        raise InvalidInput(
            "response_format", f"the schema is larger than {MAX_RESPONSE_FORMAT_BYTES} bytes"
        )
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise InvalidInput("response_format", f"not a valid JSON schema: {exc.message}") from None


# -- start ---------------------------------------------------------------------------------------


def _check_start(
    *,
    team: Team,
    session: BrowserSession,
    options: AgentStartRequest,
    user: AbstractBaseUser | None,
    api_key: ApiKey | None,
) -> None:
    """Vault and persona belong to the team and may be used by whoever starts the agent."""
    if options.vault_id:
        vault_check_usable(
            team=team,
            vault_id=options.vault_id,
            actor=session_services.vault_actor(team=team, user=user, api_key=api_key),
        )
    if options.persona_id:
        try:
            persona = persona_get_for_team(team=team, persona_id=options.persona_id)
        except NotFound:
            raise InvalidInput(
                "persona_id", f"this team has no persona {options.persona_id}"
            ) from None
        if not persona.is_active:
            raise InvalidInput("persona_id", f"persona {options.persona_id} was deleted")
    session_services.session_attach_vault(
        session_id=str(session.pk),
        vault_id=options.vault_id or "",
        persona_id=options.persona_id or "",
    )


@transaction.atomic
def agent_reserve(
    *,
    team: Team,
    session: BrowserSession,
    options: AgentStartRequest,
    user: AbstractBaseUser | None,
    api_key: ApiKey | None,
) -> AgentRun:
    """The run's row, in `running`: one open run per session (the constraint settles races)."""
    locked = BrowserSession.objects.select_for_update().filter(pk=session.pk).first()
    if locked is None or locked.status != SessionStatus.ACTIVE:
        raise Conflict(
            f"Session {session.pk} is {locked.status if locked else 'gone'}; start a new session "
            "for the agent"
        )
    try:
        with transaction.atomic():
            run = AgentRun.objects.create(
                team=team,
                session=session,
                started_by_user=user if user and user.is_authenticated else None,
                started_by_key=api_key,
                task=options.task,
                url=options.url or "",
                max_steps=options.max_steps,
                use_vision=options.use_vision,
                response_format=options.response_format,
                reasoning_model=options.reasoning_model,
                model=served_model(options.reasoning_model),
                vault_id=options.vault_id or locked.vault_id,
                persona_id=options.persona_id or locked.persona_id,
                state=AgentState.RUNNING,
            )
    except IntegrityError:
        running = AgentRun.objects.filter(session=session).exclude(state=AgentState.CLOSED).first()
        raise Conflict(
            f"Session {session.pk} is already running agent {running.pk if running else ''}; stop "
            "it or wait for it to finish"
        ) from None
    events.status_changed(run)
    return run


async def agent_start(
    *,
    team: Team,
    session_or_none: BrowserSession | None,
    options: AgentStartRequest,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> AgentRun:
    """Start an agent on a session (a new headless one when none is given) and answer at once:
    the loop runs in the session's worker."""
    await sync_to_async(_require_operator)(team=team, user=user, verb="start")
    llm.require("reasoning_model")
    check_response_format(options.response_format)
    session = session_or_none
    if session is None:
        start = build_start_options(
            {"vault_id": options.vault_id, "persona_id": options.persona_id}
        )
        session = await session_services.session_start(
            team=team, options=start, user=user, api_key=api_key
        )
    if session.status != SessionStatus.ACTIVE:
        raise Conflict(
            f"Session {session.pk} is {session.status}; start a new session for the agent"
        )
    await sync_to_async(_check_start)(
        team=team, session=session, options=options, user=user, api_key=api_key
    )
    run = await sync_to_async(agent_reserve)(
        team=team, session=session, options=options, user=user, api_key=api_key
    )
    try:
        await session_services.session_command(
            session=session,
            command={
                "type": "agent.start",
                "agent_id": str(run.pk),
                "vault_id": run.vault_id,
                "persona_id": run.persona_id,
            },
        )
    except PeriscopeError as exc:
        await sync_to_async(agent_finish)(
            agent_id=run.pk, stop_reason=f"could not start: {exc.message}"
        )
        raise
    await sync_to_async(audit_record)(
        team=team,
        action=AuditAction.AGENT_STARTED,
        actor_user=user,
        actor_key=api_key,
        target=f"agent {run.pk}",
        data={"session": str(session.pk), "model": run.model},
    )
    return await AgentRun.objects.select_related("team", "session").aget(pk=run.pk)


# -- stop ----------------------------------------------------------------------------------------


async def agent_stop(
    *, run: AgentRun, user: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> AgentRun:
    """Idempotent: stopping a closed agent answers it as it is."""
    await sync_to_async(_require_operator)(team=run.team, user=user, verb="stop")
    ended = await sync_to_async(agent_finish)(
        agent_id=run.pk, stop_reason=f"stopped by {_actor_label(user, api_key)}", success=False
    )
    if ended:
        await sync_to_async(audit_record)(
            team=run.team,
            action=AuditAction.AGENT_STOPPED,
            actor_user=user,
            actor_key=api_key,
            target=f"agent {run.pk}",
        )
        session = await BrowserSession.objects.aget(pk=run.session_id)
        if session.is_live and session.worker_channel:
            try:
                await session_services.session_command(
                    session=session, command={"type": "agent.stop", "agent_id": str(run.pk)}
                )
            except (PeriscopeError, client.SessionNotOnWorker) as exc:
                # The row is closed: the loop ends at its next step even if this never arrives.
                log.warning("stop of agent %s not confirmed by its worker: %s", run.pk, exc)
    return await AgentRun.objects.select_related("team", "session").aget(pk=run.pk)


# -- human in the loop ---------------------------------------------------------------------------


@transaction.atomic
def agent_decide(*, run: AgentRun, user: AbstractBaseUser, approve: bool) -> AgentRun:
    """A member approves the action the agent waits on (it goes ahead), or rejects it (the run
    ends, unsuccessful, saying who rejected what). Audited either way."""
    _require_operator(team=run.team, user=user, verb="approve or reject actions of")
    locked = AgentRun.objects.select_for_update().get(pk=run.pk)
    if locked.state != AgentState.NEEDS_APPROVAL or not locked.pending_approval:
        raise Conflict(
            f"Agent {run.pk} is not waiting for an approval (it is {locked.get_state_display().lower()})"
        )
    pending = locked.pending_approval
    audit_record(
        team=locked.team,
        action=AuditAction.AGENT_APPROVED if approve else AuditAction.AGENT_REJECTED,
        actor_user=user,
        target=f"agent {run.pk}",
        data={"action": pending.get("action"), "reason": pending.get("reason")},
    )
    locked.pending_approval = None
    if approve:
        locked.state = AgentState.RUNNING
        locked.save(update_fields=["state", "pending_approval"])
    else:
        locked.state = AgentState.CLOSED
        locked.success = False
        locked.closed_at = timezone.now()
        locked.stop_reason = f"{user} rejected the agent's next action ({pending.get('reason', 'it needed approval')})"
        locked.save(
            update_fields=["state", "pending_approval", "success", "closed_at", "stop_reason"]
        )
    events.status_changed(locked)
    return locked


# -- what the loop in the worker writes ----------------------------------------------------------


@transaction.atomic
def agent_set_state(
    *, agent_id, state: str, pending_approval: dict[str, Any] | None = None
) -> AgentRun | None:
    """Move an open run between running, paused, needs_person and needs_approval. None when the
    run was closed meanwhile (stopped, rejected, its session ended)."""
    run = AgentRun.objects.select_for_update().filter(pk=agent_id).first()
    if run is None or not run.is_open:
        return None
    if run.state != state or run.pending_approval != pending_approval:
        run.state = state
        run.pending_approval = pending_approval
        run.save(update_fields=["state", "pending_approval"])
        events.status_changed(run)
    return run


def agent_state_of(*, agent_id) -> tuple[str, dict[str, Any] | None] | None:
    row = AgentRun.objects.filter(pk=agent_id).values_list("state", "pending_approval").first()
    return (row[0], row[1]) if row else None


@transaction.atomic
def agent_step_record(
    *,
    agent_id,
    session_id: str,
    index: int,
    state: dict[str, Any],
    action: dict[str, Any],
    success: bool,
    message: str,
    url_before: str,
    url_after: str,
    target: dict[str, Any] | None,
    session_step_index: int | None,
    prompt_tokens: int,
    completion_tokens: int,
    llm_ms: float,
    loop_ms: float,
    started_at: datetime,
    ended_at: datetime,
) -> AgentStep:
    """One step as it happened. Recorded even when the run was stopped meanwhile: it did happen."""
    step = AgentStep.objects.create(
        run_id=agent_id,
        index=index,
        state=state,
        action=action,
        success=success,
        message=message[:4000],
        url_before=url_before[:2000],
        url_after=url_after[:2000],
        target=target,
        session_step_index=session_step_index,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        llm_ms=llm_ms,
        loop_ms=loop_ms,
        started_at=started_at,
        ended_at=ended_at,
    )
    agent_tokens_add(
        agent_id=agent_id, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
    )
    events.step_recorded(step, session_id=session_id)
    return step


def agent_tokens_add(*, agent_id, prompt_tokens: int, completion_tokens: int) -> None:
    if prompt_tokens or completion_tokens:
        AgentRun.objects.filter(pk=agent_id).update(
            prompt_tokens=F("prompt_tokens") + prompt_tokens,
            completion_tokens=F("completion_tokens") + completion_tokens,
        )


@transaction.atomic
def agent_finish(
    *,
    agent_id,
    stop_reason: str,
    success: bool | None = None,
    answer: str | None = None,
    structured_answer: Any = None,
) -> bool:
    """Close an open run, always with a reason. Idempotent: returns whether this call closed it."""
    run = AgentRun.objects.select_for_update().filter(pk=agent_id).first()
    if run is None or not run.is_open:
        return False
    run.state = AgentState.CLOSED
    run.pending_approval = None
    run.closed_at = timezone.now()
    run.stop_reason = stop_reason[:2000]
    run.success = (
        success if success is not None else (run.success if run.success is not None else False)
    )
    if answer is not None:
        run.answer = answer
    if structured_answer is not None:
        run.structured_answer = structured_answer
    run.save(
        update_fields=[
            "state",
            "pending_approval",
            "closed_at",
            "stop_reason",
            "success",
            "answer",
            "structured_answer",
        ]
    )
    events.status_changed(run)
    return True


def agents_end_with_session(*, session_id: str, status: str, reason: str) -> int:
    """The session ended (stopped, timed out, its worker gone): so do its open agents."""
    ended = 0
    for agent_id in (
        AgentRun.objects.filter(session_id=session_id)
        .exclude(state=AgentState.CLOSED)
        .values_list("pk", flat=True)
    ):
        how = "ended" if status == SessionStatus.CLOSED else f"ended as {status}"
        ended += agent_finish(
            agent_id=agent_id, stop_reason=f"the session {how}: {reason}", success=False
        )
    return ended
