"""Viewer links: a signed, short-lived URL that shows one session live with no console around it
(for an iframe, or notte-sdk's `session.viewer()`). It needs no login, opens only its own
session, stops working when the session ends or after PERISCOPE_VIEWER_URL_SECONDS."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core.http import PublicUrls

from .models import BrowserSession

SALT = "periscope.viewer"


@dataclass(frozen=True, slots=True)
class ViewerGrant:
    session_id: str
    team_id: str
    interactive: bool  # may take control of the page (links handed to API keys that drive sessions)


def viewer_token(session: BrowserSession, *, interactive: bool = True) -> str:
    return signing.dumps(
        {"s": str(session.id), "t": str(session.team_id), "i": int(interactive)},
        salt=SALT,
        compress=True,
    )


def viewer_grant(token: str) -> ViewerGrant | None:
    """The grant a token carries, or None when it is forged, malformed or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.PERISCOPE_VIEWER_URL_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not {"s", "t", "i"} <= set(data):
        return None
    return ViewerGrant(
        session_id=str(data["s"]), team_id=str(data["t"]), interactive=bool(data["i"])
    )


def viewer_url(session: BrowserSession, urls: PublicUrls) -> str:
    return urls.http + reverse("viewer", args=[viewer_token(session)])
