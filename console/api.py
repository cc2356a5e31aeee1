"""The two NinjaAPIs: the Notte API under /api, the v1 browser-sessions API under /api/v1."""

import logging

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from core.errors import PeriscopeError
from sessions_app import api as sessions_api
from sessions_app import api_page, api_scrape
from sessions_app import api_v1 as sessions_api_v1
from sessions_app.schemas import HealthResponse
from sessions_app.selectors import worker_count_alive
from vaults_app import api as vaults_api
from vaults_app.unseal import vault_state

VERSION = "0.1.0"
log = logging.getLogger(__name__)

api = NinjaAPI(title="Periscope (Notte API)", version=VERSION, urls_namespace="api")
api.add_router("/sessions", sessions_api.router)
api.add_router("/sessions", api_page.router)
api.add_router("", api_scrape.router)
api.add_router("/vaults", vaults_api.router)


def _error(api_: NinjaAPI, request: HttpRequest, status: int, message: str, detail=None, headers=None):
    response = api_.create_response(
        request, {"status": status, "message": message, "detail": detail if detail is not None else message},
        status=status,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _clean_loc(loc) -> list:
    # ninja puts the parameter name after the source ("body", "body", "field");
    # FastAPI clients expect ("body", "field").
    loc = list(loc)
    if len(loc) > 2 and loc[0] in ("body", "query") and loc[1] in ("body", "query", "payload"):
        del loc[1]
    return loc


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for error in errors[:5]:
        loc = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "payload")]
        parts.append(f"{'.'.join(loc) or 'body'}: {error.get('msg')}")
    return "Invalid request: " + "; ".join(parts)


@api.exception_handler(PeriscopeError)
def periscope_error(request, exc: PeriscopeError):
    return _error(api, request, exc.status, exc.message, exc.detail, exc.headers)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = [
        {"loc": _clean_loc(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
        for e in exc.errors
    ]
    return _error(api, request, 422, _validation_message(errors), errors)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _error(api, request, 401, "Missing or invalid API key: send 'Authorization: Bearer <key>'")


@api.exception_handler(Exception)
def unexpected_error(request, exc: Exception):
    # Still JSON with a status, so clients (and the Notte SDK's retry on >= 500) can act on it.
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _error(api, request, 500, "Internal server error; the server log has the details")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    return _error(api, request, exc.status_code, str(exc))


class Health(HealthResponse):
    vault: str  # "sealed" or "unsealed"; the reason is in the server log and the console


@api.get("/health", auth=None, response=Health, tags=["Health"], operation_id="healthCheck")
async def health(request):
    return {
        "status": "healthy",
        "version": VERSION,
        "workers": await sync_to_async(worker_count_alive)(),
        "vault": await sync_to_async(vault_state)(),
    }


# -- v1: FastAPI-style errors: {"detail": [...]} for validation, {"detail": "..."} otherwise -----

api_v1 = NinjaAPI(title="Periscope browser sessions (v1)", version="1", urls_namespace="api_v1")
api_v1.add_router("/browser/sessions", sessions_api_v1.router)


@api_v1.exception_handler(ValidationError)
def v1_validation_error(request, exc: ValidationError):
    errors = [
        {"loc": _clean_loc(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
        for e in exc.errors
    ]
    return api_v1.create_response(request, {"detail": errors}, status=422)


@api_v1.exception_handler(PeriscopeError)
def v1_periscope_error(request, exc: PeriscopeError):
    if exc.status == 422 and isinstance(exc.detail, list):
        return api_v1.create_response(request, {"detail": exc.detail}, status=422)
    response = api_v1.create_response(request, {"detail": exc.message}, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api_v1.exception_handler(AuthenticationError)
def v1_authentication_error(request, exc):
    return api_v1.create_response(request, {"detail": "Missing or invalid API key: send X-API-Key"}, status=401)
