"""The two NinjaAPIs: the Notte API under /api, the v1 browser-sessions API under /api/v1.

Every answer under /api is JSON in its API's error shape, whatever went wrong: the handlers
here cover what ninja sees, and console/api_http.py covers what happens before ninja (unknown
routes, wrong methods, oversized bodies, a foreign Host).
"""

import logging

from django.http import HttpRequest
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from agents_app import api as agents_api
from core.errors import PeriscopeError
from personas_app import api as personas_api
from personas_app import api_sms as personas_api_sms
from sessions_app.api import browser_sessions_v1, page, scraping, sessions
from sessions_app.schemas import ACTION_TYPES, HealthResponse
from vaults_app import api as vaults_api

from .api_rendering import FastJSONParser, FastJSONRenderer
from .probes import readiness

VERSION = "0.1.0"
log = logging.getLogger(__name__)


def error_body(status: int, message: str, detail=None) -> dict:
    return {
        "status": status,
        "message": message,
        "detail": detail if detail is not None else message,
    }


def v1_error_body(status: int, message: str, detail=None) -> dict:
    return {"detail": detail if isinstance(detail, list) else message}


api = NinjaAPI(
    title="Periscope (Notte API)",
    version=VERSION,
    urls_namespace="api",
    renderer=FastJSONRenderer(),
    parser=FastJSONParser(),
)
api.add_router("/sessions", sessions.router)
api.add_router("/sessions", page.router)
api.add_router("", scraping.router)
api.add_router("/personas", personas_api_sms.router)
api.add_router("/personas", personas_api.router)
api.add_router("/vaults", vaults_api.router)
api.add_router("/agents", agents_api.router)

api_v1 = NinjaAPI(
    title="Periscope browser sessions (v1)",
    version="1",
    urls_namespace="api_v1",
    renderer=FastJSONRenderer(),
    parser=FastJSONParser(),
)
api_v1.add_router("/browser/sessions", browser_sessions_v1.router)


def _clean_loc(loc) -> list:
    # ninja puts the parameter name after the source ("body", "body", "field");
    # FastAPI clients expect ("body", "field").
    loc = list(loc)
    if (
        len(loc) > 1
        and loc[0] in ("body", "query")
        and loc[1] in ("body", "query", "payload", "action")
    ):
        del loc[1]
    if len(loc) > 1 and loc[0] == "body" and loc[1] in ACTION_TYPES:
        del loc[
            1
        ]  # the action union names the member (its type) first: not a field the client sent
    return loc


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for error in errors[:5]:
        loc = [
            str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "payload")
        ]
        parts.append(f"{'.'.join(loc) or 'body'}: {error.get('msg')}")
    return "Invalid request: " + "; ".join(parts)


def _validation_errors(exc: ValidationError) -> list[dict]:
    errors = []
    for e in exc.errors:
        loc = _clean_loc(e.get("loc", []))
        kind = e.get("type", "value_error")
        if kind.startswith("union_tag"):
            loc = ["body", "type"]
        errors.append({"loc": loc, "msg": e.get("msg", ""), "type": kind})
    return errors


def _install_handlers(target: NinjaAPI, body) -> None:
    """The same failures, each API answering them in its own error shape."""

    def respond(request: HttpRequest, status: int, message: str, detail=None, headers=None):
        response = target.create_response(request, body(status, message, detail), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @target.exception_handler(PeriscopeError)
    def periscope_error(request, exc: PeriscopeError):
        return respond(request, exc.status, exc.message, exc.detail, exc.headers)

    @target.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors = _validation_errors(exc)
        return respond(request, 422, _validation_message(errors), errors)

    @target.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return respond(
            request,
            401,
            "Missing or invalid API key: send 'Authorization: Bearer <key>' or 'X-API-Key'",
        )

    @target.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        cause = exc.__cause__
        if isinstance(cause, PeriscopeError):  # raised by the body parser, wrapped by ninja
            return periscope_error(request, cause)
        return respond(request, exc.status_code, str(exc))

    @target.exception_handler(Exception)
    def unexpected_error(request, exc: Exception):
        # Still JSON with a status, so clients (and the Notte SDK's retry on >= 500) can act on it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(request, 500, "Internal server error; the server log has the details")


_install_handlers(api, error_body)
_install_handlers(api_v1, v1_error_body)


class Health(HealthResponse):
    vault: str  # "sealed", "unsealed" or "unknown"; the reason is in the server log and the console


@api.get(
    "/health",
    auth=None,
    response={200: Health, 503: Health},
    tags=["Health"],
    operation_id="healthCheck",
)
async def health(request):
    """The Notte health check: the same cached checks as /readyz, in Notte's shape (503 when
    the database or the channel layer is down)."""
    report = await readiness.report()
    body = {
        "status": "healthy" if report.ready else "unhealthy",
        "version": VERSION,
        "workers": report.checks.get("workers") or 0,
        "vault": report.checks.get("vault", "unknown"),
    }
    return Status(200 if report.ready else 503, body)
