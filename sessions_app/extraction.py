"""Structured extraction from page text through the configured LLM, checked against the caller's
JSON schema; and the check that a request asking for it can be served at all."""

from typing import Any

import jsonschema

from core import llm
from core.errors import InvalidInput

PAGE_CHARS = 60_000  # what is sent of the page: enough for an article, bounded for the prompt


def check_structured_request(
    instructions: str | None, response_format: dict[str, Any] | None
) -> None:
    if response_format is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(response_format)
        except jsonschema.SchemaError as exc:
            raise InvalidInput(
                "response_format", f"is not a valid JSON schema: {exc.message}"
            ) from None
    if instructions or response_format:
        llm.require("response_format" if response_format else "instructions")


def wants_structured(options: dict[str, Any]) -> bool:
    return bool(options.get("instructions") or options.get("response_format"))


async def structured(
    *, markdown: str, instructions: str | None, response_format: dict[str, Any] | None
) -> dict:
    """{success, error, data} extracted from the page's markdown."""
    prompt = f"Instructions: {instructions or 'Extract the data described by the schema.'}\n\nPage:\n{markdown[:PAGE_CHARS]}"
    data = await llm.complete_json(
        system="You extract data from a web page's markdown and answer with JSON only.",
        user=prompt,
        schema=response_format,
    )
    if response_format:
        try:
            jsonschema.validate(data, response_format)
        except jsonschema.ValidationError as exc:
            return {
                "success": False,
                "error": f"the LLM's answer does not match response_format: {exc.message}",
                "data": data,
            }
    return {"success": True, "error": None, "data": data}


async def with_structured(data: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """A DataSpace with its `structured` part added when the options ask for one."""
    if wants_structured(options):
        data["structured"] = await structured(
            markdown=data["markdown"],
            instructions=options.get("instructions"),
            response_format=options.get("response_format"),
        )
    return data
