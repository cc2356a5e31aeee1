"""Turns a Notte SessionStartRequest into what this server will actually run, or refuses it.

Every refusal names the field and tells the caller what to send instead: options that would
change the shared browser or reach the host (launch flags, a remote browser, proxies) are refused
unless the operator allows them.
"""

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from core.errors import InvalidInput

DEFAULT_VIEWPORT = (1280, 1080)
ASPECT_RATIO_VIEWPORTS = {"16:9": (1920, 1080), "5:4": (1280, 1024)}
CHROMIUM_FAMILY = {"chromium", "chrome", "chrome-nightly", "chrome-turbo"}

# Sessions share their worker's Chromium, so launch flags cannot differ per session. The few
# that make sense per session are translated into BrowserContext options; any other flag could
# change the shared browser or run code on the host (--renderer-cmd-prefix), so it is refused.
CHROME_ARG_RULES = {
    "--lang": re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"),
    "--window-size": re.compile(r"^\d{2,5},\d{2,5}$"),
    "--force-device-scale-factor": re.compile(r"^\d(\.\d{1,2})?$"),
}
# What a viewport may be, however it is asked for (fields, aspect ratio or --window-size): every
# screenshot, live frame and replay frame is this size times the scale factor.
VIEWPORT_WIDTH = (200, 3840)
VIEWPORT_HEIGHT = (200, 2160)
SCALE_FACTOR = (0.5, 3.0)
FORBIDDEN_HEADERS = {
    "host",
    "cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
}
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(slots=True)
class StartOptions:
    headless: bool = True
    browser_type: str = "chromium"
    user_agent: str = ""
    viewport_width: int = DEFAULT_VIEWPORT[0]
    viewport_height: int = DEFAULT_VIEWPORT[1]
    idle_timeout_minutes: int = 3
    max_duration_minutes: int = 15
    extra_http_headers: dict[str, str] = field(default_factory=dict)
    chrome_args: list[str] = field(default_factory=list)
    locale: str | None = None
    device_scale_factor: float | None = None
    proxy: dict[str, str] | None = None
    solve_captchas: bool = False
    use_file_storage: bool = True
    screenshot_type: str = "last_action"
    web_bot_auth: bool = False
    vault_id: str = ""
    persona_id: str = ""

    def model_fields(self) -> dict[str, Any]:
        """The columns of BrowserSession these options fill."""
        data = asdict(self)
        for transient in ("locale", "device_scale_factor", "proxy"):
            data.pop(transient)
        data["proxies"] = self.proxy is not None
        return data

    def browser_spec(self, session_id: str) -> dict[str, Any]:
        """Plain data for the worker (it crosses the channel layer)."""
        return {
            "session_id": session_id,
            "headless": self.headless,
            "viewport_width": self.viewport_width,
            "viewport_height": self.viewport_height,
            "user_agent": self.user_agent or None,
            "locale": self.locale,
            "device_scale_factor": self.device_scale_factor,
            "extra_http_headers": self.extra_http_headers,
            "proxy": self.proxy,
        }


def build_start_options(req: dict[str, Any]) -> StartOptions:
    """`req` is the validated request body (types and ranges already checked by the schema)."""
    opts = StartOptions(headless=req.get("headless", True))

    browser_type = req.get("browser_type") or "chromium"
    if browser_type not in CHROMIUM_FAMILY:
        raise InvalidInput(
            "browser_type", f"{browser_type!r} is not available on this server; use chromium"
        )
    opts.browser_type = browser_type

    if req.get("solve_captchas"):
        raise InvalidInput(
            "solve_captchas", "captcha solving is not supported by this server; send false"
        )
    if req.get("cdp_url"):
        if not settings.PERISCOPE_ALLOW_CDP_URL:
            raise InvalidInput(
                "cdp_url",
                "attaching to an external browser is disabled on this server "
                "(the operator can enable it with PERISCOPE_ALLOW_CDP_URL=true)",
            )
        raise InvalidInput("cdp_url", "attaching to an external browser is not implemented yet")
    if req.get("profile"):
        raise InvalidInput(
            "profile", "browser profiles are not supported by this server yet; omit profile"
        )

    _apply_timeouts(opts, req)
    _apply_viewport(opts, req)
    _apply_chrome_args(opts, req.get("chrome_args") or [])
    opts.extra_http_headers = _clean_headers(req.get("extra_http_headers") or {})
    opts.proxy = _clean_proxies(req.get("proxies", False))

    opts.user_agent = (req.get("user_agent") or "").strip()
    if not all(" " <= ch <= "~" for ch in opts.user_agent):
        raise InvalidInput(
            "user_agent", "must be printable ASCII on a single line (no control characters)"
        )
    opts.use_file_storage = bool(req.get("use_file_storage", True))
    opts.screenshot_type = req.get("screenshot_type") or "last_action"
    opts.web_bot_auth = bool(req.get("web_bot_auth", False))
    opts.vault_id = req.get("vault_id") or ""
    opts.persona_id = req.get("persona_id") or ""
    return opts


def _apply_timeouts(opts: StartOptions, req: dict[str, Any]) -> None:
    idle = req.get("idle_timeout_minutes")
    if idle is None:
        # timeout_minutes is the deprecated name of the idle timeout.
        idle = req.get("timeout_minutes") or 3
    opts.idle_timeout_minutes = idle
    opts.max_duration_minutes = req.get("max_duration_minutes") or 15
    if opts.idle_timeout_minutes > opts.max_duration_minutes:
        raise InvalidInput(
            "idle_timeout_minutes",
            f"({opts.idle_timeout_minutes}) cannot exceed max_duration_minutes ({opts.max_duration_minutes})",
        )


def _apply_viewport(opts: StartOptions, req: dict[str, Any]) -> None:
    width, height = req.get("viewport_width"), req.get("viewport_height")
    ratio = req.get("aspect_ratio")
    if (width is None) != (height is None):
        missing = "viewport_height" if height is None else "viewport_width"
        raise InvalidInput(missing, "give both viewport_width and viewport_height, or neither")
    if ratio and width is not None:
        raise InvalidInput("aspect_ratio", "give either aspect_ratio or a viewport, not both")
    if width is not None:
        opts.viewport_width, opts.viewport_height = width, height
    elif ratio:
        opts.viewport_width, opts.viewport_height = ASPECT_RATIO_VIEWPORTS[ratio]


def _apply_chrome_args(opts: StartOptions, args: list[str]) -> None:
    allowed = ", ".join(f"{name}=..." for name in CHROME_ARG_RULES)
    for arg in args:
        name, _, value = arg.partition("=")
        rule = CHROME_ARG_RULES.get(name)
        if rule is None or not rule.match(value):
            raise InvalidInput(
                "chrome_args",
                f"{arg!r} is not allowed; sessions share one browser, so only {allowed} are accepted",
            )
        if name == "--lang":
            opts.locale = value
        elif name == "--window-size":
            w, h = (int(v) for v in value.split(","))
            if not (
                VIEWPORT_WIDTH[0] <= w <= VIEWPORT_WIDTH[1]
                and VIEWPORT_HEIGHT[0] <= h <= VIEWPORT_HEIGHT[1]
            ):
                raise InvalidInput(
                    "chrome_args",
                    f"{arg!r}: the window must be {VIEWPORT_WIDTH[0]}-{VIEWPORT_WIDTH[1]} wide and "
                    f"{VIEWPORT_HEIGHT[0]}-{VIEWPORT_HEIGHT[1]} high",
                )
            opts.viewport_width, opts.viewport_height = w, h
        else:
            factor = float(value)
            if not SCALE_FACTOR[0] <= factor <= SCALE_FACTOR[1]:
                raise InvalidInput(
                    "chrome_args",
                    f"{arg!r}: the scale factor must be between {SCALE_FACTOR[0]} and {SCALE_FACTOR[1]}",
                )
            opts.device_scale_factor = factor
    opts.chrome_args = list(args)


def _clean_headers(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        lowered = name.lower()
        if (
            not HEADER_NAME.match(name)
            or lowered in FORBIDDEN_HEADERS
            or lowered.startswith(("proxy-", "sec-"))
        ):
            raise InvalidInput("extra_http_headers", f"header {name!r} cannot be set by a session")
        if any(ch in value for ch in "\r\n\0"):
            raise InvalidInput(
                "extra_http_headers", f"header {name!r} has a line break in its value"
            )
    return dict(headers)


def _clean_proxies(proxies: Any) -> dict[str, str] | None:
    if proxies in (False, None, []):
        return None
    if proxies is True:
        raise InvalidInput(
            "proxies", "this server has no managed proxy pool; send false or an external proxy"
        )
    if not settings.PERISCOPE_ALLOW_EXTERNAL_PROXIES:
        raise InvalidInput(
            "proxies",
            "external proxies are disabled on this server "
            "(the operator can enable them with PERISCOPE_ALLOW_EXTERNAL_PROXIES=true)",
        )
    if len(proxies) != 1 or proxies[0].get("type") != "external":
        raise InvalidInput("proxies", "give exactly one proxy of type 'external'")
    proxy = proxies[0]
    server = str(proxy.get("server") or "")
    if not re.match(r"^(https?|socks5)://[^\s/]+(:\d+)?/?$", server):
        raise InvalidInput(
            "proxies", "server must look like http://host:port or socks5://host:port"
        )
    return {k: str(proxy[k]) for k in ("server", "username", "password", "bypass") if proxy.get(k)}
