"""The agent loop, running in the browser worker that owns the session.

Each step: wait while a person holds the page, observe it, build the prompt, ask the model,
validate its answer, wait for a member's approval when the team wants one for this action,
carry the action out through the session (the API's own execute path: the session's lock,
vault fills by placeholder, masking, the session's step row and live events), and record the
step. The run ends on the model's completion (its answer checked against response_format when
one was given), on max_steps, on stop, after PERISCOPE_AGENT_MAX_FAILURES failed steps in a row,
or with its session; always with a stop_reason.

Times: llm_ms is the time spent waiting on the model; loop_ms is the rest of the step (observe,
prompt, action, record), without any wait for a person.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jsonschema
from asgiref.sync import sync_to_async
from django.conf import settings

from core import llm

from . import approval, selectors, services
from .model_client import ModelAnswer, ModelClient
from .models import AgentRun, AgentState
from .prompt import PromptContext, StepMemory, build_messages
from .prompt_context import prompt_context

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how often a waiting loop looks at the control lease and the run's row
MAX_ACTIONS = 150
INITIAL_STATE = {
    "previous_goal_status": "success",
    "previous_goal_eval": "Nothing performed yet",
    "page_summary": "No page summary yet",
    "relevant_interactions": [],
    "memory": "No memory yet",
    "next_goal": "Start working on the task",
}


def db(fn):
    # Its own thread: the loop's writes must not queue behind the web requests' queries.
    return sync_to_async(fn, thread_sensitive=False)


def _now() -> datetime:
    return datetime.now(tz=UTC)


def action_dict(action) -> dict[str, Any]:
    """The action as the model set it, without the fields only the API's clients send."""
    return action.model_dump(
        mode="json", exclude_unset=True, exclude={"category", "description"}
    ) | {"type": action.type}


def check_answer(answer: str, schema: dict[str, Any] | None) -> tuple[str | None, Any]:
    """(what is wrong with the answer, or None; the parsed structured answer)."""
    if schema is None:
        return None, None
    try:
        data = json.loads(answer)
    except json.JSONDecodeError:
        return "the answer must be a JSON document matching response_format", None
    error = jsonschema.exceptions.best_match(
        jsonschema.validators.validator_for(schema)(schema).iter_errors(data)
    )
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        return (
            f"the answer does not match response_format{f' at {where}' if where else ''}: {error.message}",
            None,
        )
    return None, data


class Stopped(Exception):
    """The run ended from outside (stop, rejection, its session): leave without writing."""


class AgentLoop:
    def __init__(self, handle, agent_id: str):
        self.handle = handle
        self.agent_id = agent_id
        self.stopped = asyncio.Event()
        self.client: ModelClient | None = None
        self.index = 0
        self.failures = 0
        self.history: list[StepMemory] = []
        self.notes: list[str] = []
        self.data: str | None = None  # what the last action read, for the next prompt
        self.waited_ms = 0.0

    async def run(self) -> None:
        try:
            run = await db(selectors.agent_for_worker)(agent_id=self.agent_id)
            if str(run.session_id) != self.handle.session_id or not run.is_open:
                return
            if not llm.configured():
                # The web process had a model, this worker has none: never fall back to a default
                # endpoint somewhere else.
                await db(services.agent_finish)(
                    agent_id=self.agent_id,
                    stop_reason="this browser worker has no LLM configured (LLM_BASE_URL)",
                )
                return
            self.client = ModelClient(model=run.model)
            await self._run(run, await db(prompt_context)(run=run))
        except Stopped:
            pass
        except asyncio.CancelledError:
            # The session ended (its worker cancels its programs); the session_ended receiver
            # closes the run with the session's reason.
            raise
        except Exception as exc:
            log.exception("agent %s failed", self.agent_id)
            await db(services.agent_finish)(
                agent_id=self.agent_id, stop_reason=f"the agent failed: {exc}"
            )
        finally:
            if self.client is not None:
                await self.client.close()

    # -- the steps -------------------------------------------------------------------------------

    async def _run(self, run: AgentRun, ctx: PromptContext) -> None:
        limit = settings.PERISCOPE_AGENT_MAX_FAILURES
        if run.url:
            await self._between_steps()
            started, t0 = _now(), time.perf_counter()
            action = {"type": "goto", "url": run.url}
            result = await self.handle.execute(action)
            await self._record(INITIAL_STATE, action, result, started, t0, ModelAnswer())
            if not result["success"]:
                await self._failed(result["message"], limit)
        model_steps = 0
        while model_steps < run.max_steps:
            await self._between_steps()
            started, t0 = _now(), time.perf_counter()
            self.waited_ms = 0.0
            observation = await self.handle.observe(max_nb_actions=MAX_ACTIONS)
            model_steps += 1
            messages = build_messages(
                ctx,
                observation=observation,
                history=self.history,
                step=model_steps,
                max_steps=run.max_steps,
                use_vision=run.use_vision,
                notes=self.notes,
                data=self.data,
            )
            answer = await self._ask(messages)
            self.notes, self.data = [], None
            if answer.completion is None:
                await db(services.agent_tokens_add)(
                    agent_id=self.agent_id,
                    prompt_tokens=answer.prompt_tokens,
                    completion_tokens=answer.completion_tokens,
                )
                self.notes.append(f"your previous answer could not be used: {answer.error}")
                await self._failed(answer.error, limit)
                continue
            state = answer.completion.state.model_dump(mode="json")
            action = action_dict(answer.completion.action)
            kind = action["type"]
            if kind == "completion":
                problem, structured = check_answer(action["answer"], run.response_format)
                if problem:
                    await self._record(
                        state, action, self._outcome(False, problem), started, t0, answer
                    )
                    await self._failed(problem, limit)
                    continue
                await self._record(
                    state,
                    action,
                    self._outcome(True, "the agent gave its answer"),
                    started,
                    t0,
                    answer,
                )
                await db(services.agent_finish)(
                    agent_id=self.agent_id,
                    success=bool(action["success"]),
                    answer=action["answer"],
                    structured_answer=structured,
                    stop_reason="completed"
                    if action["success"]
                    else "completed: the agent could not do the task",
                )
                return
            if kind == "help":
                await self._record(
                    state,
                    action,
                    self._outcome(True, f"asked for a person: {action['reason']}"),
                    started,
                    t0,
                    answer,
                )
                await self._wait_for_person()
                self.notes.append(
                    "a person helped on the page after you asked; check where things stand"
                )
                continue
            reason = approval.approval_reason(action, observation)
            if reason and await db(selectors.agent_team_requires_approval)(agent_id=self.agent_id):
                await self._wait_for_approval(action, reason, observation)
            if self.handle.control_holder:
                # A person took the page while the model thought: this action was chosen for a page
                # they may have changed. Wait, then decide again on a fresh listing.
                model_steps -= 1
                await self._add_tokens(answer)
                self.notes.append(
                    "a person used the page meanwhile; decide again from the listing below"
                )
                continue
            result = await self.handle.execute(action)
            await self._record(state, action, result, started, t0, answer)
            data = result.get("data")
            if isinstance(data, dict) and data.get("markdown"):
                # A scrape or a mailbox read: the worker masked it like any text it hands out.
                self.data = data["markdown"]
            if result["success"]:
                self.failures = 0
            else:
                await self._failed(result["message"], limit)
        await db(services.agent_finish)(
            agent_id=self.agent_id,
            success=False,
            stop_reason=f"max_steps reached ({run.max_steps}) without an answer",
        )

    async def _ask(self, messages: list[dict[str, Any]]) -> ModelAnswer:
        """The model's answer, unless the run is stopped meanwhile."""
        assert self.client is not None
        asking = asyncio.ensure_future(self.client.next_step(messages))
        stopping = asyncio.ensure_future(self.stopped.wait())
        try:
            await asyncio.wait({asking, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not asking.done():  # stopped, or the session ended: no call outlives the run
                asking.cancel()
        if asking.cancelled():
            raise Stopped
        return asking.result()

    async def _failed(self, why: str, limit: int) -> None:
        self.failures += 1
        if self.failures >= limit:
            await db(services.agent_finish)(
                agent_id=self.agent_id,
                success=False,
                stop_reason=f"stopped after {self.failures} failed steps in a row; the last: {why}",
            )
            raise Stopped

    def _outcome(self, success: bool, message: str) -> dict[str, Any]:
        now = time.time()
        return {"success": success, "message": message, "started_at": now, "ended_at": now}

    async def _add_tokens(self, answer: ModelAnswer) -> None:
        await db(services.agent_tokens_add)(
            agent_id=self.agent_id,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
        )

    async def _record(
        self,
        state: dict[str, Any],
        action: dict[str, Any],
        result: dict[str, Any],
        started: datetime,
        t0: float,
        answer: ModelAnswer,
    ) -> None:
        self.index += 1
        total_ms = (time.perf_counter() - t0) * 1000
        url_after = result.get("url_after", "")
        await db(services.agent_step_record)(
            agent_id=self.agent_id,
            session_id=self.handle.session_id,
            index=self.index,
            state=state,
            action=action,
            success=bool(result["success"]),
            message=result.get("message", ""),
            url_before=result.get("url_before", ""),
            url_after=url_after,
            target=result.get("target"),
            session_step_index=result.get("session_step_index"),
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            llm_ms=answer.llm_ms,
            loop_ms=max(total_ms - answer.llm_ms - self.waited_ms, 0.0),
            started_at=started,
            ended_at=_now(),
        )
        self.history.append(
            StepMemory(
                index=self.index,
                state=state,
                action=action,
                success=bool(result["success"]),
                message=result.get("message", ""),
            )
        )

    # -- waiting for people ----------------------------------------------------------------------

    async def _sleep(self) -> None:
        """One poll interval; raises Stopped when the run ends meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopped.wait(), POLL_SECONDS)
        if self.stopped.is_set() or not self.handle.is_open:
            raise Stopped

    async def _check_open(self) -> tuple[str, dict[str, Any] | None]:
        row = await db(services.agent_state_of)(agent_id=self.agent_id)
        if (
            self.stopped.is_set()
            or not self.handle.is_open
            or row is None
            or row[0] == AgentState.CLOSED
        ):
            raise Stopped
        return row

    async def _set_state(self, state: str, pending: dict[str, Any] | None = None) -> None:
        if (
            await db(services.agent_set_state)(
                agent_id=self.agent_id, state=state, pending_approval=pending
            )
            is None
        ):
            raise Stopped

    async def _between_steps(self) -> None:
        """Stop if the run ended; pause while a person holds the page."""
        await self._check_open()
        if self.handle.control_holder:
            waited = time.perf_counter()
            await self._set_state(AgentState.PAUSED)
            while self.handle.control_holder:
                await self._sleep()
            await self._set_state(AgentState.RUNNING)
            self.notes.append(
                "a person used the page while you were paused; check where things stand"
            )
            self.waited_ms += (time.perf_counter() - waited) * 1000

    async def _wait_for_person(self) -> None:
        """The agent asked for help: a member takes control of the page, then hands it back."""
        await self._set_state(AgentState.NEEDS_PERSON)
        ticks = 0
        while not self.handle.control_holder:
            await self._sleep()
            ticks += 1
            if ticks % 8 == 0:
                await self._check_open()
        while self.handle.control_holder:
            await self._sleep()
        await self._set_state(AgentState.RUNNING)

    async def _wait_for_approval(
        self, action: dict[str, Any], reason: str, observation: dict[str, Any]
    ) -> None:
        """Until a member approves (returns) or rejects (the run is closed: Stopped)."""
        waited = time.perf_counter()
        pending = {
            "id": uuid.uuid4().hex,
            "action": action,
            "reason": reason,
            "url": (observation.get("metadata") or {}).get("url", ""),
            "step": self.index + 1,
        }
        await self._set_state(AgentState.NEEDS_APPROVAL, pending)
        while True:
            await self._sleep()
            state, _ = await self._check_open()
            if state != AgentState.NEEDS_APPROVAL:
                break
        self.waited_ms += (time.perf_counter() - waited) * 1000
