"""The configured LLM: any OpenAI-compatible endpoint (LLM_BASE_URL, LLM_API_KEY, LLM_MODEL)."""

import json
from typing import Any

from django.conf import settings

from .errors import InvalidInput, PeriscopeError

NOT_CONFIGURED = (
    "this needs an LLM and none is configured: set LLM_BASE_URL (any OpenAI-compatible endpoint, "
    "e.g. http://127.0.0.1:11434/v1 for Ollama), LLM_API_KEY and LLM_MODEL on the server"
)


class LLMFailed(PeriscopeError):
    status = 502


def configured() -> bool:
    return bool(settings.LLM_BASE_URL)


def require(field: str) -> None:
    if not configured():
        raise InvalidInput(field, NOT_CONFIGURED)


def _client():
    from openai import AsyncOpenAI

    return AsyncOpenAI(
        base_url=settings.LLM_BASE_URL,
        api_key=settings.LLM_API_KEY or "not-needed",
        timeout=settings.LLM_TIMEOUT_SECONDS,
        max_retries=1,
    )


async def complete_json(*, system: str, user: str, schema: dict[str, Any] | None = None) -> Any:
    """Ask for a JSON answer (with a JSON schema when given) and parse it."""
    response_format: dict[str, Any] = {"type": "json_object"}
    if schema:
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema},
        }
    try:
        completion = await _client().chat.completions.create(
            model=settings.LLM_MODEL,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            response_format=response_format,
        )
    except Exception as exc:
        raise LLMFailed(f"the LLM at {settings.LLM_BASE_URL} failed: {exc}") from None
    text = completion.choices[0].message.content or ""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise LLMFailed("the LLM did not answer with JSON") from None
