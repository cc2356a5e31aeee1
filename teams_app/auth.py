"""API authentication: `Authorization: Bearer <key>`, or `X-API-Key: <key>`. Never cookies."""

from asgiref.sync import sync_to_async
from django.http import HttpRequest
from ninja.security.base import AuthBase

from core.errors import Forbidden, Unauthenticated

from . import key_cache, keys
from .models import ApiKey
from .selectors import api_key_authenticate
from .services import api_key_touch


def _authenticate_sync(raw: str) -> ApiKey | None:
    key = api_key_authenticate(raw=raw)
    if key is not None:
        api_key_touch(api_key=key)
    return key


async def authenticate(raw: str) -> ApiKey | None:
    """The active key for a raw value: from this process's short cache, else the database."""
    digest = keys.digest(raw)
    key = key_cache.get(digest)
    if key is None:
        key = await sync_to_async(_authenticate_sync)(raw)
        if key is not None:
            key_cache.put(digest, key)
    return key


class ApiKeyAuth(AuthBase):
    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, scope: str | None = None):
        super().__init__()
        self.scope = scope

    async def __call__(self, request: HttpRequest) -> ApiKey:
        raw = raw_key(request)
        if not raw:
            raise Unauthenticated(
                "Missing API key: send it as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>')"
            )
        key = await authenticate(raw)
        if key is None:
            raise Unauthenticated(
                "Invalid or revoked API key; create a new one on the console's Team page"
            )
        if self.scope and not key.has_scope(self.scope):
            raise Forbidden(
                f"This API key lacks the '{self.scope}' scope; create a key that has it"
            )
        return key


def raw_key(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("X-API-Key", "").strip()
