from django.conf import settings

from browser.launcher import LaunchConfig, find_chromium, find_headless_shell
from browser.types import SessionLimits
from browser.url_policy import parse_allow_list


def launch_config() -> LaunchConfig:
    headless_shell = (
        find_headless_shell(settings.PERISCOPE_HEADLESS_SHELL or None)
        if settings.PERISCOPE_USE_HEADLESS_SHELL
        else None
    )
    return LaunchConfig(
        chromium_path=find_chromium(settings.PERISCOPE_CHROMIUM or None),
        headless_shell_path=headless_shell,
        runtime_dir=settings.PERISCOPE_RUNTIME_DIR,
        egress_allow=tuple(parse_allow_list(settings.PERISCOPE_EGRESS_ALLOW)),
    )


def session_limits() -> SessionLimits:
    return SessionLimits(
        max_tabs=settings.PERISCOPE_MAX_TABS_PER_SESSION,
        max_download_bytes=settings.PERISCOPE_MAX_DOWNLOAD_BYTES,
        max_session_download_bytes=settings.PERISCOPE_MAX_SESSION_DOWNLOAD_BYTES,
        perception_screencast_seconds=settings.PERISCOPE_PERCEPTION_SCREENCAST_SECONDS,
    )
