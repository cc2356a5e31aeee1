# ruff: noqa: T201  (benchmarks report on stdout)
"""Shared helpers for the benchmarks: Django bootstrapping, percentiles, tables, results files.

Every benchmark runs against a throwaway SQLite database and runtime directory in a temp dir,
with the in-memory channel layer: one process runs uvicorn and the embedded worker
(`manage.py serve` without REDIS_URL).
"""

import datetime
import http.client
import json
import math
import os
import platform
import select
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOAD_AT_START = os.getloadavg()  # the machine is shared: record how busy it was


# -- Django ------------------------------------------------------------------------------------


def bootstrap_django(**settings_env: str) -> Path:
    """Set up Django on a fresh temp dir; settings_env are env vars read by console/settings.py.

    Returns the temp dir (removed at exit by the caller via cleanup()).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="periscope-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ["PERISCOPE_VAR_DIR"] = str(tmp)
    os.environ.setdefault("PERISCOPE_LOG_LEVEL", "WARNING")
    # A throwaway SQLite database and the in-memory channel layer, whatever the shell says.
    for name in ("DATABASE_URL", "REDIS_URL", "PERISCOPE_RUNTIME_DIR", "PERISCOPE_MEDIA_ROOT"):
        os.environ.pop(name, None)
    os.environ.update(settings_env)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return tmp


def create_api_key(username: str = "bench") -> str:
    """A key of a new team (named after the user) with the default scopes."""
    from django.contrib.auth import get_user_model

    from teams_app.services import api_key_create, team_create

    owner = get_user_model().objects.create_user(username=username, password="bench-pass-123")
    team = team_create(name="Bench" if username == "bench" else f"Bench {username}", owner=owner)
    _, raw = api_key_create(team=team, name=username)
    return raw


def start_live_server():
    from tests.live import LiveServer

    return LiveServer().start()


def api_client(key: str):
    """A keep-alive HTTP client, as an SDK would hold one: connection setup is not in the figures."""
    import requests

    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {key}"
    return client


class LeanClient:
    """One keep-alive connection with nothing on top (http.client): what a measured API call
    costs on the client's side is as little as a client can make it, so the figure is the
    server's. A `requests` session adds about a millisecond of its own per call on a busy
    2-core machine (bench/api_overhead.py measures both).

    Call `ready()` before starting the clock: uvicorn closes a connection idle for 5 s, and
    reconnecting belongs in no figure."""

    def __init__(self, base_url: str, key: str):
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        self.prefix = parts.path.rstrip("/")
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def ready(self) -> None:
        """Connect, or reconnect if the server has closed the connection."""
        sock = self.connection.sock
        if sock is not None and select.select([sock], [], [], 0)[0]:  # readable while idle: closed
            self.connection.close()
            sock = None
        if sock is None:
            self.connection.connect()

    def post(self, path: str, body: dict) -> tuple[int, bytes]:
        self.connection.request(
            "POST", self.prefix + path, body=json.dumps(body), headers=self.headers
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()


def cleanup(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


# -- statistics --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "min": min(values),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


# -- output ------------------------------------------------------------------------------------


def fmt(value, digits: int = 1) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _browser_version(executable: str | None) -> str | None:
    if not executable:
        return None
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def environment(executable: str | None = None, browser_version: str | None = None) -> dict:
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {
            "hostname": platform.node(),
            "platform": platform.platform(),
            "cpu_model": _cpu_model(),
            "cpus": os.cpu_count(),
            "memory_total_mb": round(psutil.virtual_memory().total / 2**20),
            "load_average_at_start": LOAD_AT_START,
            "load_average_at_end": os.getloadavg(),
        },
        "versions": {
            "python": platform.python_version(),
            "django": _version("django"),
            "playwright": _version("playwright"),
            "uvicorn": _version("uvicorn"),
            "browser": browser_version or _browser_version(executable),
            "browser_executable": executable,
            "git_commit": _git_commit(),
        },
    }


def _rounded(value):
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def write_results(name: str, data: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(_rounded(data), indent=2, default=str) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path
