"""Domain errors that every entry point (API, console, worker) maps to a status and a message.

The message always tells the user what to change; `detail` carries machine-readable specifics.
"""

from typing import Any


class PeriscopeError(Exception):
    status = 400

    def __init__(self, message: str, *, detail: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail if detail is not None else message
        self.headers = headers or {}


class Unauthenticated(PeriscopeError):
    status = 401


class Forbidden(PeriscopeError):
    status = 403


class NotFound(PeriscopeError):
    status = 404


class Conflict(PeriscopeError):
    status = 409


class InvalidInput(PeriscopeError):
    """422, naming the offending field the way the API's validation errors do."""

    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(
            f"{field}: {message}",
            detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
        )
        self.field = field


class RateLimited(PeriscopeError):
    status = 429


class Unavailable(PeriscopeError):
    status = 503


class PayloadTooLarge(PeriscopeError):
    status = 413


class UnsupportedMediaType(PeriscopeError):
    status = 415


class UpstreamFailed(PeriscopeError):
    """A service outside this server (an LLM, a search endpoint) failed or answered nonsense."""

    status = 502


class ServerError(PeriscopeError):
    status = 500


class TimedOut(PeriscopeError):
    """504: the work was started but did not finish in time (a page that does not answer)."""

    status = 504


ERROR_BY_STATUS: dict[int, type[PeriscopeError]] = {
    cls.status: cls
    for cls in (
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
        UpstreamFailed,
        Unavailable,
        ServerError,
        TimedOut,
    )
}


def error_for_status(status: int, message: str) -> PeriscopeError:
    """The domain error a status stands for (a worker's reply carries only the number)."""
    return ERROR_BY_STATUS.get(status, ServerError)(message)
