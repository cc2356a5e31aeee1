"""The HTTP path of the APIs, apart from the console's.

API calls authenticate with keys, never cookies, so the console's middleware (sessions, CSRF,
messages, htmx, the current team) has nothing to do for them; in async mode each of those
would cost a thread hop per request. /api requests therefore go to their own Django handler
whose only middleware is `api_guard`, native async. It also makes every answer under /api JSON
in the API's error shape: unknown routes, wrong methods, a foreign Host, an oversized body.
The handler's requests make no thread hop of their own either: see console/request_threads.py.
"""

import asyncio
import json
from contextlib import closing, suppress

from asgiref.sync import ThreadSensitiveContext, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import set_script_prefix

from . import request_threads

API_PREFIX = "/api/"
V1_PREFIX = "/api/v1/"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
REASONS = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    500: "Internal server error",
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def error_json(path: str, status: int, message: str) -> bytes:
    """The error shape of the API that owns `path`: v1 answers FastAPI-style."""
    if path.startswith(V1_PREFIX):
        return json.dumps({"detail": message}).encode()
    return json.dumps({"status": status, "message": message, "detail": message}).encode()


def _json_error_response(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return HttpResponse(
        error_json(request.path, status, message), status=status, content_type="application/json"
    )


def _explain(request: HttpRequest, response: HttpResponse) -> str:
    if response.status_code == 404:
        return f"No API route {request.method} {request.path}; the routes are listed at /api/docs"
    if response.status_code == 405:
        allowed = response.get("Allow", "")
        return f"{request.method} is not allowed on {request.path}" + (
            f"; use {allowed}" if allowed else ""
        )
    return REASONS.get(response.status_code, "Request failed")


def api_guard(get_response):
    async def middleware(request: HttpRequest) -> HttpResponse:
        try:
            request.get_host()
        except DisallowedHost:
            host = request.META.get("HTTP_HOST", "")[:100]
            response = _json_error_response(
                request,
                400,
                f"Host {host!r} is not served here; the operator lists host names in DJANGO_ALLOWED_HOSTS",
            )
        else:
            if settings.SECURE_SSL_REDIRECT and not request.is_secure():
                # The console redirects; an API client would resend its key over plain http.
                return _json_error_response(
                    request,
                    400,
                    f"This server answers over https: use https://{request.get_host()}{request.path}",
                )
            response = await get_response(request)
            if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
                "application/json"
            ):
                response = _json_error_response(
                    request, response.status_code, _explain(request, response)
                )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    markcoroutinefunction(middleware)
    return middleware


class _Answered(Exception):
    pass


class ApiHandler(ASGIHandler):
    """Django's ASGI handler with `api_guard` as its whole middleware chain, whose requests make no
    thread hop of their own: their sync calls run on a borrowed thread, and the request_started
    and request_finished signals are not sent (console/request_threads.py says why that is safe
    and does what their receivers would)."""

    def load_middleware(self, is_async=False):
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        handler = convert_exception_to_response(self._get_response_async)
        self._middleware_chain = convert_exception_to_response(api_guard(handler))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"The API handler serves HTTP only, not {scope['type']}")
        thread = request_threads.lend()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            request_threads.give_back(thread)

    async def handle(self, scope, receive, send):
        """Django's own handle() without the two signals, the response released on the loop."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            set_script_prefix(get_script_prefix(scope))
            request, error_response = self.create_request(scope, body_file)
            if request is None:
                await self.send_response(error_response, send)
                return
            response = None
            try:
                try:
                    async with asyncio.TaskGroup() as tasks:
                        tasks.create_task(self.listen_for_disconnect(receive))
                        response = await self.run_get_response(request)
                        await self.send_response(response, send)
                        raise _Answered
                except* (_Answered, RequestAborted):
                    pass
            except BaseExceptionGroup as group:
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise
            if response is not None:
                _release(response)


def _release(response: HttpResponse) -> None:
    """HttpResponse.close() less its request_finished signal: close the request's uploaded files
    and whatever the response holds. API answers hold bytes, so nothing here blocks."""
    for closer in response._resource_closers:
        with suppress(Exception):
            closer()
    response._resource_closers.clear()
    response.closed = True


class BodyLimit:
    """Refuse a request body over `settings.DATA_UPLOAD_MAX_MEMORY_SIZE` with 413 before it is
    read: by its Content-Length, or while it streams in (chunked)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(scope, send, limit)
        received = 0
        refused = False

        async def limited_receive():
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    refused = True
                    await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        await self.app(scope, limited_receive, send)

    @staticmethod
    async def _refuse(scope, send, limit: int) -> None:
        body = error_json(
            scope["path"],
            413,
            f"The request body is larger than this server accepts ({limit} bytes)",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
