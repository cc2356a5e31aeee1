"""Wire shapes of the Notte sessions API (notte-api-contract.md §3-4) and the v1 API."""

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

BrowserType = Literal["chromium", "chrome", "firefox", "chrome-nightly", "chrome-turbo"]


class SessionStartRequest(Schema):
    # Unknown fields are ignored, so newer clients that send more still work.
    model_config = ConfigDict(extra="ignore")

    headless: bool = True
    solve_captchas: bool = False
    max_duration_minutes: int = Field(15, ge=1, le=1440)
    idle_timeout_minutes: int | None = Field(None, ge=1, le=15)
    timeout_minutes: int | None = Field(None, ge=1, le=30, description="deprecated: the idle timeout")
    proxies: bool | list[dict[str, Any]] = False
    browser_type: BrowserType = "chromium"
    user_agent: str | None = Field(None, max_length=512)
    chrome_args: list[str] | None = None
    viewport_width: int | None = Field(None, ge=200, le=3840)
    viewport_height: int | None = Field(None, ge=200, le=2160)
    aspect_ratio: Literal["5:4", "16:9"] | None = None
    cdp_url: str | None = None
    use_file_storage: bool = True
    screenshot_type: Literal["raw", "full", "last_action"] = "last_action"
    web_bot_auth: bool = False
    extra_http_headers: dict[str, str] | None = None
    vault_id: str | None = Field(None, max_length=100)
    profile: dict[str, Any] | None = None


class SessionResponse(Schema):
    session_id: str
    idle_timeout_minutes: int
    timeout_minutes: int
    max_duration_minutes: int
    created_at: datetime
    last_accessed_at: datetime
    closed_at: datetime | None
    duration: float | None = Field(None, description="seconds")
    status: Literal["active", "closed", "error", "timed_out"]
    steps: list[dict[str, Any]]
    error: str | None
    proxies: bool
    browser_type: BrowserType
    use_file_storage: bool
    network_request_bytes: int = 0
    network_response_bytes: int = 0
    user_agent: str | None
    viewport_width: int
    viewport_height: int
    headless: bool
    solve_captchas: bool
    cdp_url: str | None
    viewer_url: str | None
    web_bot_auth: bool
    vault_id: str | None


class WsUrls(Schema):
    cdp: str
    recording: str
    logs: str


class SessionDebugResponse(Schema):
    debug_url: str
    ws: WsUrls
    tabs: list[dict[str, Any]]


class Cookie(Schema):
    model_config = ConfigDict(extra="ignore")

    name: str
    value: str
    domain: str
    path: str = "/"
    httpOnly: bool = False
    secure: bool | None = None
    sameSite: Literal["Lax", "None", "Strict"] | None = None
    expires: float | None = None
    expirationDate: float | None = None
    hostOnly: bool | None = None
    session: bool | None = None


class GetCookiesResponse(Schema):
    cookies: list[Cookie]


class SetCookiesRequest(Schema):
    cookies: list[Cookie]


class SetCookiesResponse(Schema):
    success: bool
    message: str


class HealthResponse(Schema):
    status: str
    version: str
    workers: int


# -- the v1 browser-sessions API (api-docs/003) ----------------------------------------------------


class BrowserSessionCreateRequest(Schema):
    model_config = ConfigDict(extra="ignore")

    viewport_width: int | None = Field(1920, ge=200, le=3840)
    viewport_height: int | None = Field(1080, ge=200, le=2160)
    user_agent: str | None = Field(None, max_length=512)


class BrowserSessionResponse(Schema):
    session_id: str
    status: str
    viewport_width: int
    viewport_height: int
    user_agent: str | None
    created_at: datetime
    last_activity: datetime
    expires_at: datetime | None
