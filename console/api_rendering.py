"""JSON in and out of the APIs with orjson: faster than the standard library, and strict about
what a request body may be (JSON, an object or array of bounded depth)."""

from typing import Any

import orjson
from django.http import HttpRequest
from ninja.parser import Parser
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

from core.errors import PeriscopeError, UnsupportedMediaType

MAX_DEPTH = 32
_fallback = NinjaJSONEncoder()


class InvalidJSON(PeriscopeError):
    status = 422

    def __init__(self, message: str, kind: str = "json_invalid"):
        super().__init__(
            f"body: {message}", detail=[{"loc": ["body"], "msg": message, "type": kind}]
        )


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=_fallback.default)


class FastJSONParser(Parser):
    """ninja turns any parser exception into a plain 400; the API's HttpError handler answers
    with the PeriscopeError kept as its cause instead (415 or 422 with a message)."""

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(
                f"send the body as JSON with 'Content-Type: application/json' (got {content_type or 'none'!r})"
            )
        try:
            data = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise InvalidJSON(f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            # Every body these APIs take is an object: an array or a string is a mistake, never
            # a request for the defaults.
            raise InvalidJSON(f"send a JSON object, not {type(data).__name__}", "model_type")
        if _depth_exceeds(data, MAX_DEPTH):
            raise InvalidJSON(f"nested more than {MAX_DEPTH} levels deep", "json_too_deep")
        return data


def _depth_exceeds(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
