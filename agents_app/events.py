"""Live events of agent runs. They go to their session's group through the sessions app's
publisher, so every watcher of the session (the console's run page, the logs sockets) gets them
beside the page's own events. Payloads are typed below; `agent.step` carries what the logs socket
needs to send the step as an AgentCompletion.
"""

from typing import Any, Literal, TypedDict

from django.urls import reverse

from sessions_app import events as session_events

from .models import AgentRun, AgentStep


class AgentStepEvent(TypedDict):
    type: Literal["agent.step"]
    agent_id: str
    index: int
    state: dict[str, Any]
    action: dict[str, Any]
    success: bool
    message: str
    url_after: str
    prompt_tokens: int
    completion_tokens: int
    llm_ms: float
    loop_ms: float
    screenshot_url: str | None
    started_at: str
    ended_at: str


class AgentStatusEvent(TypedDict):
    type: Literal["agent.status"]
    agent_id: str
    state: str
    status: str  # the wire status: active or closed
    stop_reason: str
    success: bool | None
    answer: str | None
    pending_approval: dict[str, Any] | None


def step_event(step: AgentStep, session_id: str) -> AgentStepEvent:
    screenshot = (
        reverse("sessions_app:step_screenshot", args=[session_id, step.session_step_index])
        if step.session_step_index
        else None
    )
    return AgentStepEvent(
        type="agent.step",
        agent_id=str(step.run_id),
        index=step.index,
        state=step.state,
        action=step.action,
        success=step.success,
        message=step.message,
        url_after=step.url_after,
        prompt_tokens=step.prompt_tokens,
        completion_tokens=step.completion_tokens,
        llm_ms=round(step.llm_ms, 1),
        loop_ms=round(step.loop_ms, 1),
        screenshot_url=screenshot,
        started_at=step.started_at.isoformat(),
        ended_at=step.ended_at.isoformat(),
    )


def status_event(run: AgentRun) -> AgentStatusEvent:
    return AgentStatusEvent(
        type="agent.status",
        agent_id=str(run.id),
        state=run.state,
        status=run.status,
        stop_reason=run.stop_reason,
        success=run.success,
        answer=run.answer,
        pending_approval=run.pending_approval,
    )


def step_recorded(step: AgentStep, *, session_id: str) -> None:
    """From a transaction: sent once it commits."""
    session_events.publish_on_commit(session_id, step_event(step, session_id))  # type: ignore[arg-type]


def status_changed(run: AgentRun) -> None:
    """From a transaction: sent once it commits."""
    session_events.publish_on_commit(str(run.session_id), status_event(run))  # type: ignore[arg-type]
