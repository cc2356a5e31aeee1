"""Which Chromium to run and how: executables, flags and a minimal environment."""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .processes import MARKER
from .webrtc import FLAGS as WEBRTC_FLAGS

DEBIAN_CHROMIUM = "/usr/bin/chromium"
DEBIAN_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"

# Playwright's own --disable-features list has to be repeated because Chromium keeps only the
# last --disable-features switch. The two WebUIOmnibox features stop full Chromium from starting
# a second, useless renderer per context (measured: 81 -> 44 MB PSS each).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "CDPScreenshotNewSurface",
)
LEAN_DISABLED_FEATURES = (
    *PLAYWRIGHT_DISABLED_FEATURES,
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
)

BASE_FLAGS = (
    # Without these Chromium keeps calling Google services; on a closed network that is a
    # steady stream of refused connections, and elsewhere it is traffic nobody asked for.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # WebRTC may send UDP only through the proxy, i.e. not at all (see webrtc.py).
    *WEBRTC_FLAGS,
    "--disable-features=" + ",".join(LEAN_DISABLED_FEATURES),
)


@dataclass(frozen=True, slots=True)
class LaunchConfig:
    chromium_path: str | None
    headless_shell_path: str | None
    runtime_dir: Path
    no_sandbox: bool = True
    extra_flags: tuple[str, ...] = field(default_factory=tuple)
    # Egress guard: every browser request goes through the pool's EgressProxy,
    # which refuses non-public addresses unless listed here (see url_policy.EgressPolicy).
    egress_guard: bool = True
    egress_allow: tuple[str, ...] = ()
    # Refuse proxy connections from any local process but this worker's Chromium (Linux).
    egress_peer_check: bool = True

    @property
    def flags(self) -> list[str]:
        flags = list(BASE_FLAGS)
        if self.no_sandbox:
            flags.append("--no-sandbox")
        flags.extend(self.extra_flags)
        return flags


def _playwright_browsers_dir() -> Path:
    configured = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    return (
        Path(configured)
        if configured and configured != "0"
        else Path.home() / ".cache" / "ms-playwright"
    )


def _newest(pattern: str) -> str | None:
    matches = sorted(_playwright_browsers_dir().glob(pattern))
    return str(matches[-1]) if matches else None


def _first_executable(*candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_chromium(configured: str | None = None) -> str | None:
    """The configured path, else Playwright's own download, else Debian's package."""
    return _first_executable(
        configured, _newest("chromium-*/chrome-linux*/chrome"), DEBIAN_CHROMIUM
    )


def find_headless_shell(configured: str | None = None) -> str | None:
    """headless-shell starts contexts about 3x faster and uses half the memory (measured)."""
    return _first_executable(
        configured,
        _newest("chromium_headless_shell-*/chrome-*/chrome-headless-shell"),
        _newest("chromium_headless_shell-*/chrome-*/headless_shell"),
        DEBIAN_HEADLESS_SHELL,
    )


def find_xvfb() -> str | None:
    return shutil.which("Xvfb")


def minimal_env(home: Path, display: str | None = None) -> dict[str, str]:
    """Chromium gets only what it needs, nothing of the worker's environment (where its secrets are)."""
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        # An empty bus address stops dbus autolaunch, which leaks a daemon per start.
        "DBUS_SESSION_BUS_ADDRESS": "disabled:",
        # Marks every process of this browser as this home's: see processes.py.
        MARKER: str(home),
    }
    if display:
        env["DISPLAY"] = display
    return env
