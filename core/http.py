from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.http import HttpRequest
from django.utils.cache import patch_vary_headers


@dataclass(frozen=True, slots=True)
class PublicUrls:
    """The server's own base URLs as a client reaches them: PERISCOPE_PUBLIC_URL when set (behind
    a proxy), else the request's scheme and host."""

    http: str
    ws: str

    @classmethod
    def for_request(cls, request: HttpRequest) -> "PublicUrls":
        base = settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"
        scheme, _, rest = base.partition("://")
        return cls(http=base, ws=("wss://" if scheme == "https" else "ws://") + rest)


def htmx_partial(request: HttpRequest) -> bool:
    """A fragment was asked for: htmx, but not a boosted link nor a history restore (which needs
    the whole page). Views answering both must send `Vary: HX-Request` (see vary_on_htmx)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def vary_on_htmx(view):
    """The same URL answers a page or a fragment: caches must keep them apart."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ("HX-Request",))
        return response

    return wrapper
