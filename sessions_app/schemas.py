"""Every wire shape of the sessions app: the Notte sessions, page and scraping APIs, and the v1
browser-sessions API. Names follow Notte's components, so a reader of its docs finds them here.

Response schemas carry their own constructors (`from_session`, `wire`, ...): one place decides
what a shape holds. Requests are validated here; the rules that need more than a type (which
chrome_args are allowed, which cookies are sane) live in start_options.py and services.py.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self, get_args

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict, model_validator

from core.http import PublicUrls
from teams_app.models import ApiKey

from .cdp_access import cdp_url
from .models import BrowserSession, SessionStatus, Step
from .viewer_links import viewer_url

BrowserType = Literal["chromium", "chrome", "firefox", "chrome-nightly", "chrome-turbo"]
MAX_PAGE = 100_000


def public_status(session: BrowserSession) -> str:
    """ "starting" is internal: for the API a start has not answered yet, so it reads as active."""
    return SessionStatus.ACTIVE if session.status == SessionStatus.STARTING else session.status


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat()


# -- sessions ------------------------------------------------------------------------------------


class ListQuery(Schema):
    only_active: bool = True
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(10, ge=1, le=100)


class SessionStartRequest(Schema):
    # Unknown fields are ignored, so newer clients that send more still work.
    model_config = ConfigDict(extra="ignore")

    headless: bool = True
    solve_captchas: bool = False
    max_duration_minutes: int = Field(15, ge=1, le=1440)
    idle_timeout_minutes: int | None = Field(None, ge=1, le=15)
    timeout_minutes: int | None = Field(
        None, ge=1, le=15, description="deprecated name of idle_timeout_minutes"
    )
    proxies: bool | list[dict[str, Any]] = False
    browser_type: BrowserType = "chromium"
    user_agent: str | None = Field(None, max_length=512)
    chrome_args: list[str] | None = Field(None, max_length=20)
    viewport_width: int | None = Field(None, ge=200, le=3840)
    viewport_height: int | None = Field(None, ge=200, le=2160)
    aspect_ratio: Literal["5:4", "16:9"] | None = None
    cdp_url: str | None = None
    use_file_storage: bool = True
    screenshot_type: Literal["raw", "full", "last_action"] = "last_action"
    web_bot_auth: bool = False
    extra_http_headers: dict[str, str] | None = Field(None, max_length=50)
    vault_id: str | None = Field(None, max_length=100)
    persona_id: str | None = Field(
        None,
        max_length=100,
        description=(
            "Periscope: the persona whose mail and SMS email_read and sms_read read (a persona's vault "
            "as vault_id names it too)"
        ),
    )
    profile: dict[str, Any] | None = None


class StepResponse(Schema):
    index: int
    action: dict[str, Any]
    success: bool
    message: str
    url_before: str
    url_after: str
    duration_ms: float
    created_at: datetime

    @classmethod
    def from_step(cls, step: Step) -> Self:
        return cls(
            index=step.index,
            action=step.action,
            success=step.success,
            message=step.message,
            url_before=step.url_before,
            url_after=step.url_after,
            duration_ms=step.duration_ms,
            created_at=step.created_at,
        )


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
    steps: list[StepResponse]
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

    @classmethod
    def from_session(
        cls,
        session: BrowserSession,
        urls: PublicUrls,
        steps: list[Step] | None = None,
        *,
        api_key: ApiKey | None = None,
    ) -> Self:
        """api_key: the caller's, which the token in cdp_url is bound to."""
        duration = session.duration
        return cls(
            session_id=str(session.id),
            idle_timeout_minutes=session.idle_timeout_minutes,
            timeout_minutes=session.idle_timeout_minutes,
            max_duration_minutes=session.max_duration_minutes,
            created_at=session.created_at,
            last_accessed_at=session.last_accessed_at,
            closed_at=session.closed_at,
            duration=duration.total_seconds() if isinstance(duration, timedelta) else None,
            status=public_status(session),
            steps=[StepResponse.from_step(s) for s in steps or []],
            error=session.error or None,
            proxies=session.proxies,
            browser_type=session.browser_type,
            use_file_storage=session.use_file_storage,
            network_request_bytes=session.network_request_bytes,
            network_response_bytes=session.network_response_bytes,
            user_agent=session.user_agent or None,
            viewport_width=session.viewport_width,
            viewport_height=session.viewport_height,
            headless=session.headless,
            solve_captchas=session.solve_captchas,
            cdp_url=cdp_url(session, urls, api_key=api_key),
            viewer_url=viewer_url(session, urls) if session.is_live else None,
            web_bot_auth=session.web_bot_auth,
            vault_id=session.vault_id or None,
        )


def console_url(session: BrowserSession, urls: PublicUrls) -> str:
    return urls.http + reverse("sessions_app:detail", args=[session.id])


class OffsetResponse(Schema):
    offset: int


class ReplayResponse(Schema):
    mp4_url: str | None
    webp_url: str | None
    expires_at: datetime
    video_start_ms: int = 0
    video_duration_ms: int
    frames: int


class WsUrls(Schema):
    cdp: str
    recording: str
    logs: str


class TabMetadata(Schema):
    tab_id: int
    title: str
    url: str


class TabDebugResponse(Schema):
    metadata: TabMetadata
    debug_url: str
    ws_url: str

    @classmethod
    def from_tab(
        cls, session: BrowserSession, urls: PublicUrls, tab: dict[str, Any], *, cdp: str
    ) -> Self:
        return cls(metadata=TabMetadata(**tab), debug_url=console_url(session, urls), ws_url=cdp)


class SessionDebugResponse(Schema):
    debug_url: str
    ws: WsUrls
    tabs: list[TabDebugResponse]

    @classmethod
    def from_session(
        cls,
        session: BrowserSession,
        urls: PublicUrls,
        tabs: list[dict[str, Any]],
        *,
        api_key: ApiKey | None = None,
        user: AbstractBaseUser | None = None,
    ) -> Self:
        """api_key or user: whoever asked, whom the token in the CDP URL is bound to."""
        cdp = cdp_url(session, urls, api_key=api_key, user=user)
        return cls(
            debug_url=console_url(session, urls),
            ws=WsUrls(
                cdp=cdp,
                recording=f"{urls.ws}/api/sessions/{session.id}/debug/recording",
                logs=f"{urls.ws}/api/sessions/{session.id}/debug/logs",
            ),
            tabs=[TabDebugResponse.from_tab(session, urls, t, cdp=cdp) for t in tabs],
        )


class Cookie(Schema):
    """A cookie as Notte clients send and read it (camelCase, as browser extensions export)."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(..., max_length=4096)
    value: str = Field(..., max_length=4096)
    domain: str = Field(..., max_length=255)
    path: str = Field("/", max_length=1024)
    httpOnly: bool = False
    secure: bool | None = None
    sameSite: Literal["Lax", "None", "Strict"] | None = None
    expires: float | None = None
    expirationDate: float | None = None
    hostOnly: bool | None = None
    session: bool | None = None

    @classmethod
    def from_browser(cls, cookie: dict[str, Any]) -> Self:
        expires = cookie.get("expires", -1)
        lasting = expires is not None and expires >= 0
        return cls(
            name=cookie["name"],
            value=cookie["value"],
            domain=cookie["domain"],
            path=cookie.get("path", "/"),
            httpOnly=bool(cookie.get("httpOnly", False)),
            secure=bool(cookie.get("secure", False)),
            sameSite=cookie.get("sameSite")
            if cookie.get("sameSite") in ("Lax", "None", "Strict")
            else None,
            hostOnly=not cookie["domain"].startswith("."),
            session=not lasting,
            expires=expires if lasting else None,
            expirationDate=expires if lasting else None,
        )

    def to_browser(self) -> dict[str, Any]:
        """The cookie as Playwright's add_cookies takes it."""
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path or "/",
            "httpOnly": self.httpOnly,
            "secure": bool(self.secure),
        }
        if self.sameSite:
            out["sameSite"] = self.sameSite
        expires = self.expires if self.expires is not None else self.expirationDate
        if expires is not None and not self.session:
            out["expires"] = float(expires)
        return out


class GetCookiesResponse(Schema):
    cookies: list[Cookie]


class SetCookiesRequest(Schema):
    cookies: list[Cookie] = Field(..., max_length=500)


class SetCookiesResponse(Schema):
    success: bool
    message: str


class HealthResponse(Schema):
    status: str
    version: str
    workers: int


# -- page: observe ---------------------------------------------------------------------------------


class ObserveRequest(Schema):
    min_nb_actions: int | None = Field(None, ge=0, le=1000)
    max_nb_actions: int = Field(100, ge=1, le=2000)
    instructions: str | None = Field(None, max_length=2000)
    perception_type: Literal["fast", "deep"] | None = "fast"


class Viewport(Schema):
    scroll_x: int
    scroll_y: int
    viewport_width: int
    viewport_height: int
    total_width: int
    total_height: int


class ObservationMetadata(Schema):
    title: str
    url: str
    viewport: Viewport
    tabs: list[TabMetadata]


class BoundingBox(Schema):
    x: float
    y: float
    width: float
    height: float
    scroll_x: float
    scroll_y: float
    viewport_width: float
    viewport_height: float
    iframe_offset_x: float = 0
    iframe_offset_y: float = 0
    notte_id: str | None = None


class Screenshot(Schema):
    raw: str = Field(description="base64 JPEG")
    bboxes: list[BoundingBox]
    last_action_id: str | None = None


class ObservedAction(Schema):
    """One entry of space.interaction_actions: an action the page offers, ready to execute."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    category: str
    description: str


class ActionSpace(Schema):
    description: str
    interaction_actions: list[ObservedAction]
    category: str | None = None


class Observation(Schema):
    started_at: datetime
    ended_at: datetime
    metadata: ObservationMetadata
    screenshot: Screenshot
    space: ActionSpace

    @staticmethod
    def wire(
        raw: dict[str, Any], actions: list[dict[str, Any]], description: str | None = None
    ) -> dict[str, Any]:
        """The Observation as JSON-ready data, from a worker's reading of the page (epoch
        times). The worker builds this and serialises it once; nothing re-validates it on the
        hot path, so the tests check it against this schema."""
        return {
            "started_at": iso(raw["started_at"]),
            "ended_at": iso(raw["ended_at"]),
            "metadata": raw["metadata"],
            "screenshot": raw["screenshot"],
            "space": {
                "description": raw["description"] if description is None else description,
                "interaction_actions": actions,
                "category": raw["category"],
            },
        }


# -- page: actions (what /page/execute receives) ---------------------------------------------------

FormKey = Literal[
    "title",
    "first_name",
    "middle_name",
    "last_name",
    "full_name",
    "email",
    "company",
    "address1",
    "address2",
    "address3",
    "city",
    "state",
    "postal_code",
    "country",
    "phone",
    "cc_name",
    "cc_number",
    "cc_exp_month",
    "cc_exp_year",
    "cc_exp",
    "cc_cvv",
    "username",
    "password",
    "current_password",
    "new_password",
    "totp",
]


class _ActionBase(BaseModel):
    # Unknown fields are ignored; the result echoes only the fields the action defines.
    model_config = ConfigDict(extra="ignore")
    category: str | None = None
    description: str | None = Field(None, max_length=10_000)


class _Interaction(_ActionBase):
    id: str | None = Field(None, max_length=20)
    selector: str | dict[str, Any] | None = None
    press_enter: bool | None = None
    text_label: str | None = None
    timeout: int = Field(15000, ge=0, le=120_000)

    @model_validator(mode="after")
    def _needs_a_target(self):
        if not self.id and not self.selector:
            raise ValueError("give the element's id (from observe) or a selector")
        return self


class ClickAction(_Interaction):
    type: Literal["click"]


class FillAction(_Interaction):
    type: Literal["fill", "multi_factor_fill", "fallback_fill"]
    value: str = Field(..., max_length=100_000)
    clear_before_fill: bool = True


class CheckAction(_Interaction):
    type: Literal["check"]
    value: bool


class SelectDropdownOptionAction(_Interaction):
    type: Literal["select_dropdown_option"]
    value: str = Field(..., max_length=1000)


class UploadFileAction(_Interaction):
    type: Literal["upload_file"]
    file_path: str = Field(min_length=1, max_length=500)


class DownloadFileAction(_Interaction):
    type: Literal["download_file"]


class GotoAction(_ActionBase):
    type: Literal["goto", "goto_new_tab"]
    url: str = Field(min_length=1, max_length=8192)


class TabOrHistoryAction(_ActionBase):
    type: Literal["close_tab", "go_back", "go_forward", "reload"]


class SwitchTabAction(_ActionBase):
    type: Literal["switch_tab"]
    tab_index: int = Field(ge=0, le=1000)


class WaitAction(_ActionBase):
    type: Literal["wait"]
    time_ms: int = Field(ge=0, le=30000)


class PressKeyAction(_ActionBase):
    type: Literal["press_key"]
    key: str = Field(min_length=1, max_length=60)


class ScrollAction(_ActionBase):
    type: Literal["scroll_up", "scroll_down"]
    amount: int | None = Field(None, ge=-100_000, le=100_000)


class CaptchaSolveAction(_ActionBase):
    type: Literal["captcha_solve"]
    captcha_type: str | None = None


class FormFillAction(_ActionBase):
    type: Literal["form_fill"]
    value: dict[FormKey, Annotated[str, Field(max_length=10_000)]] = Field(min_length=1)


class HelpAction(_ActionBase):
    type: Literal["help"]
    reason: str = Field(..., max_length=2000)


class CompletionAction(_ActionBase):
    type: Literal["completion"]
    success: bool
    answer: str = Field(..., max_length=100_000)


class ScrapeAction(_ActionBase):
    type: Literal["scrape"]
    instructions: str | None = Field(None, max_length=4000)
    only_main_content: bool = True
    selector: str | None = Field(None, max_length=1000)
    only_images: bool = False
    scrape_links: bool = True
    scrape_images: bool = False
    ignored_tags: list[str] | None = Field(None, max_length=50)
    response_format: dict[str, Any] | None = None


class ReadMessagesAction(_ActionBase):
    type: Literal["email_read", "sms_read"]
    limit: int = Field(10, ge=1, le=100)
    timedelta: float | None = 300
    only_unread: bool = True


class EvaluateJsAction(_ActionBase):
    type: Literal["evaluate_js"]
    code: str = Field(min_length=1, max_length=100_000)


Action = Annotated[
    ClickAction
    | FillAction
    | CheckAction
    | SelectDropdownOptionAction
    | UploadFileAction
    | DownloadFileAction
    | GotoAction
    | TabOrHistoryAction
    | SwitchTabAction
    | WaitAction
    | PressKeyAction
    | ScrollAction
    | CaptchaSolveAction
    | FormFillAction
    | HelpAction
    | CompletionAction
    | ScrapeAction
    | ReadMessagesAction
    | EvaluateJsAction,
    Field(discriminator="type"),
]


ACTION_TYPES = frozenset(
    tag
    for member in get_args(get_args(Action)[0])
    for tag in get_args(member.model_fields["type"].annotation)
)


def action_echo(action: BaseModel) -> dict[str, Any]:
    """The action as received (the fields it set), for the result's echo: a goto echo must not
    gain keys, the SDK refuses extra ones there."""
    return action.model_dump(mode="json", exclude_unset=True) | {"type": action.type}  # type: ignore[attr-defined]


# -- page: scrape, results -----------------------------------------------------------------------


class ScrapeRequest(Schema):
    selector: str | None = Field(None, max_length=1000)
    scrape_links: bool = False
    scrape_images: bool = False
    ignored_tags: list[str] | None = Field(None, max_length=50)
    only_main_content: bool = True
    only_images: bool = False
    response_format: dict[str, Any] | None = None
    instructions: str | None = Field(None, max_length=4000)
    use_link_placeholders: bool = False


class ImageData(Schema):
    url: str | None = None
    category: str | None = None
    description: str | None = None


class StructuredData(Schema):
    success: bool = True
    error: str | None = None
    data: Any = None


class DataSpace(Schema):
    markdown: str
    images: list[ImageData] | None = None
    structured: StructuredData | None = None


class ExecutionResult(Schema):
    started_at: datetime
    ended_at: datetime
    action: dict[str, Any]
    success: bool
    message: str
    data: DataSpace | None = None
    exception: str | None = None

    @staticmethod
    def wire(result: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        """From a worker's result (epoch times). With success true the SDK refuses a non-null
        exception; with false it raises from it, so the message goes there too."""
        reply: dict[str, Any] = {
            "started_at": iso(result["started_at"]),
            "ended_at": iso(result["ended_at"]),
            "action": action,
            "success": result["success"],
            "message": result["message"],
            "exception": None if result["success"] else result["message"],
        }
        if (
            result.get("data") and "markdown" in result["data"]
        ):  # only DataSpace-shaped data validates
            reply["data"] = result["data"]
        return reply


class ScreenshotRequest(Schema):
    type: Literal["png", "jpeg"] = "png"
    quality: int | None = Field(None, ge=1, le=100)
    full_page: bool = False


# -- one-shot scraping and search ------------------------------------------------------------------


class GlobalScrapeRequest(ScrapeRequest):
    url: str = Field(..., min_length=1, max_length=8192)
    headless: bool = True
    solve_captchas: bool = False
    proxies: bool | list[dict[str, Any]] = False
    browser_type: str = Field("chromium", max_length=40)

    def scrape_options(self) -> dict[str, Any]:
        """What the page scrape takes too; the rest describes the one-shot session."""
        return self.model_dump(include=set(ScrapeRequest.model_fields))


class HtmlFrame(Schema):
    html: str
    url: str = Field("", max_length=8192)


class ScrapeFromHtmlRequest(ScrapeRequest):
    html: str | None = None
    url: str = Field("", max_length=8192)
    frames: list[HtmlFrame] | None = Field(None, max_length=50)


class SearchRequest(Schema):
    q: str = Field(..., min_length=1, max_length=500)
    depth: str | None = Field(None, max_length=40)
    outputType: str | None = Field(None, max_length=40)


class SearchResult(Schema):
    title: str
    url: str
    content: str


class SearchResponse(Schema):
    results: list[SearchResult]


# -- the v1 browser-sessions API -------------------------------------------------------------------


class V1ListQuery(Schema):
    only_active: bool = False
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=100)


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

    @classmethod
    def from_session(cls, session: BrowserSession) -> Self:
        expires_at = None
        if session.is_live:
            by_idle = session.last_accessed_at + timedelta(minutes=session.idle_timeout_minutes)
            by_max = session.created_at + timedelta(minutes=session.max_duration_minutes)
            expires_at = min(by_idle, by_max)
        return cls(
            session_id=str(session.id),
            status=public_status(session),
            viewport_width=session.viewport_width,
            viewport_height=session.viewport_height,
            user_agent=session.user_agent or None,
            created_at=session.created_at,
            last_activity=session.last_accessed_at,
            expires_at=expires_at,
        )
