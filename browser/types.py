from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ProxySpec:
    server: str
    username: str | None = None
    password: str | None = None
    bypass: str | None = None


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a session's BrowserContext must look like. Validated before it gets here."""

    session_id: str
    headless: bool = True
    viewport_width: int = 1280
    viewport_height: int = 1080
    user_agent: str | None = None
    locale: str | None = None
    device_scale_factor: float | None = None
    extra_http_headers: dict[str, str] = field(default_factory=dict)
    proxy: ProxySpec | None = None

    @property
    def fits_pool(self) -> bool:
        """Pooled contexts are made with defaults; only specs that can be applied later fit."""
        return (
            self.headless
            and self.user_agent is None
            and self.locale is None
            and self.device_scale_factor is None
            and self.proxy is None
        )


@dataclass(frozen=True, slots=True)
class PoolStats:
    sessions: int
    contexts: int
    warm: int
    browser_pids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """What one session may use of its worker, whatever its pages try."""

    max_tabs: int = 8
    max_download_bytes: int = 50 * 1024 * 1024  # one file
    max_session_download_bytes: int = 100 * 1024 * 1024  # all of a session's downloads
    # After an observe or an action, the full-size screencast keeps running this long, so the
    # next observe answers with its latest frame instead of a capture (30-70 ms). While it runs it
    # costs about 30 MB (the compositor's frame buffers) and a JPEG encode per painted frame.
    # 0: never for perception; observes and step screenshots capture instead.
    perception_screencast_seconds: float = 60.0
