"""Wire shapes of the agents API (as notte-sdk 1.8.28 sends and reads them) and of the model's
answer at each step.

AgentCompletion is what the model must answer, and also what the logs socket and the status's
`steps` carry: the model's reading of the page (`state`) and one action from the same action
model as POST /sessions/{id}/page/execute, timed with started_at and ended_at on the wire.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from sessions_app.schemas import (
    MAX_PAGE,
    CaptchaSolveAction,
    CheckAction,
    ClickAction,
    CompletionAction,
    DownloadFileAction,
    FillAction,
    FormFillAction,
    GotoAction,
    HelpAction,
    PressKeyAction,
    ReadMessagesAction,
    ScrapeAction,
    ScrollAction,
    SelectDropdownOptionAction,
    SwitchTabAction,
    TabOrHistoryAction,
    WaitAction,
)

from .models import AgentRun, AgentStep

# What the SDK sends when its caller names no model; any string is accepted.
DEFAULT_REASONING_MODEL = "gemini/gemini-2.5-flash"
MAX_TASK_LENGTH = 20_000
MAX_RESPONSE_FORMAT_BYTES = 50_000


class AgentStartRequest(Schema):
    # The SDK may grow fields; an unknown one is ignored rather than refused.
    model_config = ConfigDict(extra="ignore")

    task: str = Field(..., min_length=1, max_length=MAX_TASK_LENGTH)
    url: str | None = Field(None, max_length=8192)
    response_format: dict[str, Any] | None = None
    session_offset: int | None = Field(None, ge=0)
    reasoning_model: str = Field(DEFAULT_REASONING_MODEL, max_length=200)
    use_vision: bool = True
    max_steps: int = Field(20, ge=1, le=150)
    session_id: str | None = Field(None, max_length=100)
    vault_id: str | None = Field(None, max_length=100)
    persona_id: str | None = Field(None, max_length=100)
    notifier_config: dict[str, Any] | None = None


class AgentListQuery(Schema):
    only_active: bool = True
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(10, ge=1, le=100)
    only_saved: bool = False


class AgentStopQuery(Schema):
    session_id: str | None = Field(None, max_length=100)


class AgentCodeQuery(Schema):
    as_workflow: bool = False


class AgentDecisionRequest(Schema):
    approve: bool


# -- the model's answer ---------------------------------------------------------------------------


class RelevantInteraction(BaseModel):
    id: str = Field(..., max_length=20)
    reason: str = Field(..., max_length=2000)


class AgentStepState(BaseModel):
    """The model's reading of where it stands, written before it acts."""

    model_config = ConfigDict(extra="ignore")

    previous_goal_status: Literal["success", "failure", "unknown"]
    previous_goal_eval: str = Field(..., max_length=4000)
    page_summary: str = Field(..., max_length=4000)
    relevant_interactions: list[RelevantInteraction] = Field(default_factory=list, max_length=50)
    memory: str = Field(..., max_length=8000)
    next_goal: str = Field(..., max_length=4000)


# The API's action model, less what an agent has no business doing on its own: running script in
# the page (a page could talk it into reading a field back) and uploading files from the server.
AgentAction = Annotated[
    ClickAction
    | FillAction
    | CheckAction
    | SelectDropdownOptionAction
    | DownloadFileAction
    | GotoAction
    | TabOrHistoryAction
    | SwitchTabAction
    | WaitAction
    | PressKeyAction
    | ScrollAction
    | CaptchaSolveAction
    | FormFillAction
    | HelpAction
    | CompletionAction
    | ScrapeAction
    | ReadMessagesAction,
    Field(discriminator="type"),
]


class AgentCompletion(BaseModel):
    """One step as the model must answer it: its state and exactly one action."""

    model_config = ConfigDict(extra="ignore")

    state: AgentStepState
    action: AgentAction


# -- responses -----------------------------------------------------------------------------------


class AgentResponse(Schema):
    agent_id: str
    created_at: datetime
    session_id: str
    status: Literal["active", "closed"]
    closed_at: datetime | None = None
    saved: bool = False

    @classmethod
    def fields_of(cls, run: AgentRun) -> dict[str, Any]:
        return {
            "agent_id": str(run.id),
            "created_at": run.created_at,
            "session_id": str(run.session_id),
            "status": run.status,
            "closed_at": run.closed_at,
            "saved": False,
        }

    @classmethod
    def from_run(cls, run: AgentRun) -> "AgentResponse":
        return cls(**cls.fields_of(run))


class AgentStatusResponse(AgentResponse):
    """What the SDK reads (task, url, success, answer, steps) plus what Periscope adds: why and
    how the run ended, the model that ran, what waits for a person, the tokens used."""

    task: str
    url: str | None = None
    success: bool | None = None
    answer: str | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    state: str
    stop_reason: str = ""
    reasoning_model: str = ""
    model: str = ""
    max_steps: int
    structured_answer: Any = None
    pending_approval: dict[str, Any] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def from_run(cls, run: AgentRun, steps: list[AgentStep] | None = None) -> "AgentStatusResponse":
        return cls(
            **AgentResponse.fields_of(run),
            task=run.task,
            url=run.url or None,
            success=run.success,
            answer=run.answer,
            steps=[step_wire(s) for s in steps or []],
            state=run.state,
            stop_reason=run.stop_reason,
            reasoning_model=run.reasoning_model,
            model=run.model,
            max_steps=run.max_steps,
            structured_answer=run.structured_answer,
            pending_approval=run.pending_approval,
            prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens,
        )


class AgentFunctionCodeResponse(Schema):
    python_script: str
    json_actions: list[dict[str, Any]]


def on_the_wire(step: AgentStep) -> bool:
    """Whether a step is shown to API clients. A completion the server refused (its answer did
    not match response_format, so the run went on) is not: the SDK takes any completion step for
    the end of the run."""
    return step.success or step.action.get("type") != "completion"


def step_wire(step: AgentStep) -> dict[str, Any]:
    """A recorded step as an AgentCompletion on the wire (status steps, the logs socket)."""
    return {
        "state": step.state,
        "action": step.action,
        "started_at": step.started_at.isoformat(),
        "ended_at": step.ended_at.isoformat(),
    }
