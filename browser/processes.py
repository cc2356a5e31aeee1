"""Chromium processes and folders a worker leaves behind, and how the next one cleans up.

Every browser a pool launches carries a marker in its environment, which each of its processes
inherits: MARKER=<the pool's home folder under the runtime dir>. The home holds an owner file
(the worker's pid and process start time, so a reused pid is not mistaken for the owner), the
per-session folders and the downloads in progress; the Chromium profile Playwright creates is
recorded there too. When a worker starts, `sweep` kills the marked processes whose home belongs
to no living worker and deletes such homes with their profiles. It never touches a process
without the marker, nor one whose marker names a home outside this runtime dir: what another
install or a person runs is not ours to kill.

Chromium's helper processes outlive a browser that is killed (a crash, the OOM killer): they are
re-parented to the nearest "child subreaper", else to PID 1, and stay as zombies until that one
reaps them; in a container whose PID 1 is the worker itself or an init that does not reap, that
is forever. So the worker makes itself a subreaper (`become_subreaper`) and reaps them
(`reap_orphans`).
"""

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from .peers import is_chromium

log = logging.getLogger(__name__)

MARKER = "PERISCOPE_BROWSER_HOME"
OWNER_FILE = "owner.json"
HOME_PREFIX = "browser-"
PR_SET_CHILD_SUBREAPER = 36
UNOWNED_GRACE_SECONDS = 60  # a home without an owner file may be one being created right now


# -- the worker's own children ------------------------------------------------------------------


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process instead of PID 1 (Linux 3.4+)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans() -> int:
    """Reap the zombie Chromium processes re-parented to this process. Only those: the worker's
    own children (Playwright's driver, Xvfb) are waited for by asyncio, which must see them.
    A peek (WNOWAIT) at the next zombie child is one system call: cheap enough for every second."""
    reaped = 0
    while True:
        try:
            waiting = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return reaped
        if waiting is None:
            return reaped
        if not _is_chromium_pid(waiting.si_pid):
            # Another zombie comes first (one of asyncio's, reaped by it soon): look past it.
            return reaped + _reap_chromium_zombies()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(waiting.si_pid, os.WNOHANG)
        reaped += 1


def _reap_chromium_zombies() -> int:
    reaped = 0
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.status() == psutil.STATUS_ZOMBIE and is_chromium(child.name()):
                os.waitpid(child.pid, os.WNOHANG)
                reaped += 1
    return reaped


def _is_chromium_pid(pid: int) -> bool:
    try:
        return is_chromium(Path(f"/proc/{pid}/comm").read_text().strip())
    except OSError:
        return False


# -- homes and their owners ---------------------------------------------------------------------


def claim_home(home: Path) -> None:
    """Write the owner file: this process, identified by pid and start time."""
    me = psutil.Process()
    (home / OWNER_FILE).write_text(
        json.dumps({"pid": me.pid, "started": me.create_time(), "profiles": []})
    )


def record_profile(home: Path, browser_pid: int) -> None:
    """Remember the profile folder Playwright gave this browser (it lives outside the home)."""
    with contextlib.suppress(psutil.Error, OSError, ValueError):
        args = psutil.Process(browser_pid).cmdline()
        profile = next((a.split("=", 1)[1] for a in args if a.startswith("--user-data-dir=")), None)
        owner = json.loads((home / OWNER_FILE).read_text())
        if profile and profile not in owner.get("profiles", []):
            owner["profiles"] = [*owner.get("profiles", []), profile]
            (home / OWNER_FILE).write_text(json.dumps(owner))


def marked_browsers(home: Path) -> list[int]:
    """Pids of the browser processes (not their helpers) that carry this home's marker."""
    pids = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.environ().get(MARKER) == str(home) and not any(
                a.startswith("--type=") for a in child.cmdline()
            ):
                pids.append(child.pid)
    return pids


def _owner_alive(home: Path) -> bool:
    try:
        owner = json.loads((home / OWNER_FILE).read_text())
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - home.stat().st_mtime < UNOWNED_GRACE_SECONDS
        return False
    except (OSError, ValueError):
        return False
    return process_alive_since(owner.get("pid"), owner.get("started"))


def process_alive_since(pid, started) -> bool:
    """Whether `pid` is still the process that started at `started` (epoch seconds)."""
    try:
        process = psutil.Process(int(pid))
        return (
            process.status() != psutil.STATUS_ZOMBIE
            and abs(process.create_time() - float(started)) < 1.0
        )
    except (psutil.Error, TypeError, ValueError):
        return False


def process_started_before(pid: int, when: float) -> bool:
    """Whether `pid` runs and started before `when` (so it is not a later process reusing it)."""
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= when + 1.0
    except psutil.Error:
        return False


def _profiles(home: Path) -> list[Path]:
    with contextlib.suppress(OSError, ValueError):
        return [Path(p) for p in json.loads((home / OWNER_FILE).read_text()).get("profiles", [])]
    return []


# -- the sweep at start ---------------------------------------------------------------------------


@dataclass(slots=True)
class Sweep:
    killed: list[int] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def sweep(runtime_dir: Path, *, wait_seconds: float = 5.0) -> Sweep:
    """Kill this install's orphaned Chromium processes and delete its stale homes."""
    runtime_dir = runtime_dir.resolve()
    result = Sweep()
    if not runtime_dir.is_dir():
        return result
    homes = [p for p in runtime_dir.iterdir() if p.is_dir() and p.name.startswith(HOME_PREFIX)]
    live = {home for home in homes if _owner_alive(home)}
    me = os.getpid()
    victims: list[psutil.Process] = []
    for process in psutil.process_iter():
        if process.pid == me:
            continue
        with contextlib.suppress(psutil.Error):
            home = process.environ().get(MARKER)
            if not home:
                continue
            home_path = Path(home)
            if home_path.parent.resolve() == runtime_dir and home_path.resolve() not in live:
                victims.append(process)
    for process in victims:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)
            result.killed.append(process.pid)
    if victims:
        psutil.wait_procs(victims, timeout=wait_seconds)
        reap_orphans()
    for home in homes:
        if home.resolve() in live:
            continue
        for profile in _profiles(home):
            if profile.name.startswith("playwright_chromiumdev_profile-"):
                shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        result.removed.append(home)
    if result.killed or result.removed:
        log.warning(
            "cleaned up after a previous worker: killed %d Chromium processes, removed %d folders",
            len(result.killed),
            len(result.removed),
        )
    return result
