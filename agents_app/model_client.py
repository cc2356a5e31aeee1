"""The agent's calls to the configured LLM (any OpenAI-compatible endpoint).

Each step asks for one AgentCompletion, as a JSON-schema response format or as a forced tool
call (LLM_STRUCTURED_OUTPUT: local servers support one or the other). An answer that is not
valid JSON or does not validate is sent back once more with the error (bounded by
PERISCOPE_AGENT_REPAIR_ATTEMPTS). Every call is bounded by LLM_TIMEOUT_SECONDS. Token usage and
the time spent waiting on the model are summed over the step's calls.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from pydantic import ValidationError

from .schemas import AgentCompletion

TOOL_NAME = "agent_step"


class ModelFailed(Exception):
    """The model gave no usable answer: it timed out, errored, or kept answering invalid JSON."""


@dataclass
class ModelAnswer:
    completion: AgentCompletion | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_ms: float = 0.0
    calls: int = 0
    error: str = ""  # why there is no completion
    repairs: list[str] = field(default_factory=list)  # the validation errors sent back


def served_model(reasoning_model: str) -> str:
    """The model that runs for a requested name: mapped by LLM_MODEL_MAP, else LLM_MODEL."""
    return settings.LLM_MODEL_MAP.get(reasoning_model) or settings.LLM_MODEL


# Action fields the model never needs to set: they only cost tokens in the schema.
_UNASKED = frozenset({"category", "description", "timeout", "text_label"})


def completion_schema() -> dict[str, Any]:
    """AgentCompletion's JSON schema, without titles and the fields the model never sets."""

    def compact(node: Any, in_action: bool = False) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "title":
                    continue
                if key == "properties" and in_action:
                    value = {k: v for k, v in value.items() if k not in _UNASKED}
                out[key] = compact(value, in_action)
            if in_action and "required" in out:
                out["required"] = [r for r in out["required"] if r not in _UNASKED]
            return out
        if isinstance(node, list):
            return [compact(v, in_action) for v in node]
        return node

    schema = AgentCompletion.model_json_schema()
    defs = schema.get("$defs", {})
    for name, definition in defs.items():
        defs[name] = compact(definition, in_action=name.endswith("Action"))
    return compact({k: v for k, v in schema.items() if k != "$defs"}) | {"$defs": defs}


_SCHEMA: dict[str, Any] | None = None


def _schema() -> dict[str, Any]:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = completion_schema()
    return _SCHEMA


class ModelClient:
    def __init__(self, *, model: str):
        from openai import AsyncOpenAI

        self.model = model
        self.mode = settings.LLM_STRUCTURED_OUTPUT
        self.timeout = float(settings.LLM_TIMEOUT_SECONDS)
        self._client = AsyncOpenAI(
            base_url=settings.LLM_BASE_URL,
            api_key=settings.LLM_API_KEY or "not-needed",
            timeout=self.timeout,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    async def next_step(self, messages: list[dict[str, Any]]) -> ModelAnswer:
        answer = ModelAnswer()
        messages = list(messages)
        for attempt in range(settings.PERISCOPE_AGENT_REPAIR_ATTEMPTS + 1):
            try:
                raw = await self._call(messages, answer)
            except ModelFailed as exc:
                answer.error = str(exc)
                return answer
            try:
                answer.completion = AgentCompletion.model_validate(json.loads(raw))
                answer.error = ""
                return answer
            except (json.JSONDecodeError, ValidationError, TypeError) as exc:
                problem = _problem(exc)
                answer.error = f"the model's answer was not a valid step ({problem})"
                answer.repairs.append(problem)
                if attempt == settings.PERISCOPE_AGENT_REPAIR_ATTEMPTS:
                    break
                messages += [
                    {"role": "assistant", "content": raw[:4000]},
                    {
                        "role": "user",
                        "content": (
                            f"That answer is invalid: {problem}. Answer again with exactly one JSON object "
                            'of the form {"state": {...}, "action": {...}} as described, and nothing else.'
                        ),
                    },
                ]
        return answer

    async def _call(self, messages: list[dict[str, Any]], answer: ModelAnswer) -> str:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.mode == "tools":
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL_NAME,
                        "description": "Report the state and take the next action",
                        "parameters": _schema(),
                    },
                }
            ]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": TOOL_NAME}}
        else:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": TOOL_NAME, "schema": _schema()},
            }
        started = time.perf_counter()
        answer.calls += 1
        try:
            response = await asyncio.wait_for(
                self._client.chat.completions.create(**kwargs), self.timeout
            )
        except TimeoutError:
            raise ModelFailed(
                f"the model did not answer within {self.timeout:g} s (LLM_TIMEOUT_SECONDS)"
            ) from None
        except Exception as exc:
            raise ModelFailed(
                f"the model at {settings.LLM_BASE_URL} failed: {_short(exc)}"
            ) from None
        finally:
            answer.llm_ms += (time.perf_counter() - started) * 1000
        if response.usage is not None:
            answer.prompt_tokens += response.usage.prompt_tokens or 0
            answer.completion_tokens += response.usage.completion_tokens or 0
        if not response.choices:
            return ""
        message = response.choices[0].message
        if message.tool_calls:
            return message.tool_calls[0].function.arguments or ""
        return _strip_fence(message.content or "")


def _strip_fence(text: str) -> str:
    """Some servers wrap JSON in a Markdown fence even when asked for JSON."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors()[:4]:
            loc = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{loc or 'answer'}: {error.get('msg')}")
        return "; ".join(parts)
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at character {exc.pos})"
    return str(exc)[:300]


def _short(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:300]
