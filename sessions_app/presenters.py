"""Model -> wire dicts for the Notte and v1 APIs."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .models import BrowserSession, SessionStatus, Step


def base_url(request: HttpRequest) -> str:
    return settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def ws_base_url(request: HttpRequest) -> str:
    base = base_url(request)
    return "wss://" + base[len("https://") :] if base.startswith("https://") else "ws://" + base.split("://", 1)[1]


def step_to_wire(step: Step) -> dict[str, Any]:
    return {
        "index": step.index,
        "action": step.action,
        "success": step.success,
        "message": step.message,
        "url_before": step.url_before,
        "url_after": step.url_after,
        "duration_ms": step.duration_ms,
        "created_at": step.created_at.isoformat(),
    }


def session_to_wire(session: BrowserSession, request: HttpRequest, steps: list[Step] | None = None) -> dict[str, Any]:
    # "starting" is internal: from the API's point of view a start has not answered yet.
    status = SessionStatus.ACTIVE if session.status == SessionStatus.STARTING else session.status
    duration = session.duration
    base = base_url(request)
    return {
        "session_id": str(session.id),
        "idle_timeout_minutes": session.idle_timeout_minutes,
        "timeout_minutes": session.idle_timeout_minutes,
        "max_duration_minutes": session.max_duration_minutes,
        "created_at": session.created_at,
        "last_accessed_at": session.last_accessed_at,
        "closed_at": session.closed_at,
        "duration": duration.total_seconds() if isinstance(duration, timedelta) else None,
        "status": status,
        "steps": [step_to_wire(s) for s in steps or []],
        "error": session.error or None,
        "proxies": session.proxies,
        "browser_type": session.browser_type,
        "use_file_storage": session.use_file_storage,
        "user_agent": session.user_agent or None,
        "viewport_width": session.viewport_width,
        "viewport_height": session.viewport_height,
        "headless": session.headless,
        "solve_captchas": session.solve_captchas,
        "cdp_url": f"{ws_base_url(request)}/cdp/{session.id}",
        "viewer_url": base + reverse("sessions_app:detail", args=[session.id]),
        "web_bot_auth": session.web_bot_auth,
        "vault_id": session.vault_id or None,
    }


def tab_debug_to_wire(session: BrowserSession, request: HttpRequest, tab: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": tab,
        "debug_url": base_url(request) + reverse("sessions_app:detail", args=[session.id]),
        "ws_url": f"{ws_base_url(request)}/cdp/{session.id}",
    }


def session_debug_to_wire(session: BrowserSession, request: HttpRequest, tabs: list[dict] | None = None) -> dict[str, Any]:
    ws = ws_base_url(request)
    return {
        "debug_url": base_url(request) + reverse("sessions_app:detail", args=[session.id]),
        "ws": {
            "cdp": f"{ws}/cdp/{session.id}",
            "recording": f"{ws}/api/sessions/{session.id}/debug/recording",
            "logs": f"{ws}/api/sessions/{session.id}/debug/logs",
        },
        "tabs": [tab_debug_to_wire(session, request, t) for t in tabs or []],
    }


def session_to_v1(session: BrowserSession) -> dict[str, Any]:
    status = SessionStatus.ACTIVE if session.status == SessionStatus.STARTING else session.status
    expires_at = None
    if session.is_live:
        by_idle = session.last_accessed_at + timedelta(minutes=session.idle_timeout_minutes)
        by_max = session.created_at + timedelta(minutes=session.max_duration_minutes)
        expires_at = min(by_idle, by_max)
    return {
        "session_id": str(session.id),
        "status": status,
        "viewport_width": session.viewport_width,
        "viewport_height": session.viewport_height,
        "user_agent": session.user_agent or None,
        "created_at": session.created_at,
        "last_activity": session.last_accessed_at,
        "expires_at": expires_at,
    }


def cookie_from_browser(cookie: dict[str, Any]) -> dict[str, Any]:
    expires = cookie.get("expires", -1)
    wire = {
        "name": cookie["name"],
        "value": cookie["value"],
        "domain": cookie["domain"],
        "path": cookie.get("path", "/"),
        "httpOnly": bool(cookie.get("httpOnly", False)),
        "secure": bool(cookie.get("secure", False)),
        "hostOnly": not cookie["domain"].startswith("."),
        "session": expires is None or expires < 0,
    }
    if cookie.get("sameSite") in ("Lax", "None", "Strict"):
        wire["sameSite"] = cookie["sameSite"]
    if expires is not None and expires >= 0:
        wire["expires"] = expires
        wire["expirationDate"] = expires
    return wire


def cookie_to_browser(cookie: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": cookie["name"],
        "value": cookie["value"],
        "domain": cookie["domain"],
        "path": cookie.get("path") or "/",
        "httpOnly": bool(cookie.get("httpOnly")),
        "secure": bool(cookie.get("secure")),
    }
    if cookie.get("sameSite"):
        out["sameSite"] = cookie["sameSite"]
    expires = cookie.get("expires") if cookie.get("expires") is not None else cookie.get("expirationDate")
    if expires is not None and not cookie.get("session"):
        out["expires"] = float(expires)
    return out


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


def observation_to_wire(raw: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, Any]:
    """A worker's observation (epoch times, all actions) as the Notte Observation."""
    return {
        "started_at": iso(raw["started_at"]),
        "ended_at": iso(raw["ended_at"]),
        "metadata": raw["metadata"],
        "screenshot": raw["screenshot"],
        "space": {"description": raw["description"], "interaction_actions": actions, "category": raw["category"]},
    }
