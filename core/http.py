from functools import wraps

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils.cache import patch_vary_headers
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A console request after login; CurrentTeamMiddleware sets the team and membership."""

    user: AbstractBaseUser
    htmx: HtmxDetails


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
