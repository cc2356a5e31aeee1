"""What a CDP client attached to one session may do: pure rules, no I/O (cdp_proxy.py applies them).

A worker's Chromium is shared by the sessions of many teams, each in its own BrowserContext. A
client attached to one session therefore sees a browser that holds only that context: commands
that act on the whole browser are refused with an error naming the method, commands naming
another context or target are refused, and navigations obey the session's URL policy.

Inside the session's own targets (pages, tabs, frames, workers) nearly everything passes: those
commands act on the session's own pages. The exceptions below reach the server or the rest of the
browser from inside a page session.
"""

from typing import Any

from .url_policy import navigation_refusal

# Chromium's filter when a client gives none: everything but the browser and tab targets.
DEFAULT_FILTER: list[dict[str, Any]] = [
    {"type": "browser", "exclude": True},
    {"type": "tab", "exclude": True},
    {},
]

# What auto-attach at the browser level reaches: top-level targets. Frames and workers of a page
# are reached through the page's own auto-attach.
ROOT_TARGET_TYPES = frozenset({"page", "tab", "service_worker", "shared_worker"})

SHARED = "which other sessions share"

# Whole domains a client never uses, wherever it sends them.
REFUSED_DOMAINS = {
    "SystemInfo": f"it describes the machine and the browser, {SHARED}",
    "Tracing": f"a trace records the whole browser process, {SHARED}",
    "Tethering": "it opens ports on the server",
    "Extensions": "it installs code into the browser of every session on this worker",
    "PWA": "it installs applications into the browser's profile",
    "Cast": f"it reaches the browser's media router, {SHARED}",
}

# Single methods refused inside the session's targets.
REFUSED_IN_SESSIONS = {
    "DOM.setFileInputFiles": "it reads files from the server's disk; send the files' contents instead "
    "(Playwright does when connect_over_cdp is not told is_local)",
    "Memory.getBrowserSamplingProfile": f"it profiles the whole browser, {SHARED}",
    "Memory.getAllTimeSamplingProfile": f"it profiles the whole browser, {SHARED}",
    "Memory.simulatePressureNotification": f"it acts on the whole browser, {SHARED}",
    "Memory.setPressureNotificationsSuppressed": f"it acts on the whole browser, {SHARED}",
    "Target.sendMessageToTarget": "this endpoint speaks flattened sessions only (a sessionId on each message)",
    "Target.exposeDevToolsProtocol": "it hands a page the browser's DevTools protocol",
    "Target.createBrowserContext": "a client works in its session's own browser context only",
    "Target.disposeBrowserContext": "a client works in its session's own browser context only",
    "Target.setRemoteLocations": "it makes the browser connect to other hosts",
    "Target.autoAttachRelated": f"it acts on the whole browser, {SHARED}",
    "Target.openDevTools": f"it acts on the whole browser, {SHARED}",
    "Target.setDiscoverTargets": "discover targets on the browser connection itself (no sessionId)",
}

# Commands a client's library sends that would change how the worker itself runs the session:
# they are answered with success and change nothing (see cdp_proxy for why).
ANSWERED_WITHOUT_EFFECT = frozenset({"Browser.setDownloadBehavior", "Page.setDownloadBehavior"})

# Methods that carry a URL the browser would open.
URL_METHODS = {
    "Page.navigate": "url",
    "Target.createTarget": "url",
    "Network.loadNetworkResource": "url",
}


class Refused(Exception):
    """A command this client may not send; the message names the method and says why."""

    code = -32000

    def __init__(self, method: str, why: str):
        super().__init__(f"{method} is refused by this session's CDP endpoint: {why}")
        self.method = method


def filter_matches(target_filter: list[dict[str, Any]] | None, target_type: str) -> bool:
    """Chromium's TargetFilter: the first entry whose type matches (no type: any) decides."""
    for entry in DEFAULT_FILTER if target_filter is None else target_filter:
        if "type" not in entry or entry["type"] == target_type:
            return not entry.get("exclude", False)
    return False


def checked_filter(method: str, value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("type", ""), str)
        and isinstance(e.get("exclude", False), bool)
        for e in value
    ):
        raise Refused(method, "filter must be a list of {type, exclude} objects")
    return value


def check_context(method: str, params: dict[str, Any], context_id: str) -> None:
    """A command naming a browser context must name the session's own."""
    named = params.get("browserContextId")
    if named is not None and named != context_id:
        raise Refused(method, "it names a browser context that is not this session's")


def check_url(method: str, params: dict[str, Any]) -> None:
    field = URL_METHODS.get(method)
    if field is None:
        return
    url = params.get(field)
    if method == "Target.createTarget" and url in (None, ""):
        return  # about:blank
    refusal = navigation_refusal(url)
    if refusal:
        raise Refused(method, refusal)


def check_everywhere(method: str, params: dict[str, Any], context_id: str) -> None:
    domain = method.partition(".")[0]
    if domain in REFUSED_DOMAINS:
        raise Refused(method, REFUSED_DOMAINS[domain])
    check_context(method, params, context_id)
    check_url(method, params)


def check_in_session(method: str, params: dict[str, Any], context_id: str) -> None:
    """Raise Refused for a command sent inside one of the session's targets that must not pass."""
    check_everywhere(method, params, context_id)
    if method in REFUSED_IN_SESSIONS:
        raise Refused(method, REFUSED_IN_SESSIONS[method])


def refused_at_root(method: str) -> Refused:
    """Deny by default: anything the browser-level emulation does not know acts on the browser."""
    if method in ("Browser.crash", "Browser.crashGpuProcess"):
        why = f"it would end the browser, {SHARED}"
    else:
        why = REFUSED_IN_SESSIONS.get(method) or f"it acts on the whole browser, {SHARED}"
    return Refused(method, why)
