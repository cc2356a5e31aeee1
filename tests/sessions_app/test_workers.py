"""The process model: scale-out workers over Redis and PostgreSQL, and no leaks."""

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django.utils import timezone

from browser.launcher import find_headless_shell
from browser.processes import MARKER
from sessions_app.models import BrowserSession, BrowserWorker
from tests.conftest import Api, database_url_for_subprocess
from tests.live import LiveServer
from tests.support.chromium import chromium_executable

from .helpers import chromium_pids, open_contexts, start, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]

scale_out = pytest.mark.skipif(
    not settings.REDIS_URL
    or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="scale-out needs REDIS_URL and a PostgreSQL DATABASE_URL (.ci/run sets both)",
)


def spawn_worker(channel_prefix: str, capacity: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "PERISCOPE_CHANNEL_PREFIX": channel_prefix,
        "PERISCOPE_WARM_CONTEXTS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_browser_worker", "--capacity", str(capacity)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@scale_out
def test_killing_a_worker_errors_its_sessions_and_leaves_the_other_working(api_key, channel_prefix):
    live = LiveServer(embedded_worker=False).start()
    workers = [spawn_worker(channel_prefix, capacity=3) for _ in range(2)]
    try:
        assert wait_until(
            lambda: BrowserWorker.objects.filter(stopped_at__isnull=True).count() == 2, timeout=30
        )
        api = Api(live.api_url, api_key)
        sessions = [start(api)["session_id"] for _ in range(6)]
        owners = dict(
            BrowserSession.objects.filter(pk__in=sessions).values_list("pk", "worker__pid")
        )
        assert set(owners.values()) == {w.pid for w in workers}, "both workers carry sessions"

        victim, survivor = workers
        victim_chromium = chromium_pids(psutil.Process(victim.pid))
        assert victim_chromium
        victim_sessions = [str(s) for s, pid in owners.items() if pid == victim.pid]
        survivor_sessions = [str(s) for s, pid in owners.items() if pid == survivor.pid]

        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        victim.wait(5)

        assert wait_until(lambda: not any(running(p) for p in victim_chromium), timeout=5), (
            "the killed worker's Chromium is gone within 5 s"
        )
        errored = wait_until(
            lambda: all(
                api.get(f"/sessions/{s}").json()["status"] == "error" for s in victim_sessions
            ),
            timeout=15 - (time.monotonic() - killed_at),
            interval=0.5,
        )
        assert errored, "the killed worker's sessions end as error within 15 s"
        assert "worker_lost" in api.get(f"/sessions/{victim_sessions[0]}").json()["error"]

        for sid in survivor_sessions:
            assert api.get(f"/sessions/{sid}").json()["status"] == "active"
            cookie = {
                "name": "alive",
                "value": sid[:8],
                "domain": "example.com",
                "path": "/",
                "httpOnly": False,
            }
            assert (
                api.post(f"/sessions/{sid}/cookies", json={"cookies": [cookie]}).status_code == 200
            )
            assert api.get(f"/sessions/{sid}/cookies").json()["cookies"][0]["value"] == sid[:8]
        # The survivor is full (capacity 3); once a slot frees, it takes the next start.
        assert api.delete(f"/sessions/{survivor_sessions[0]}/stop").json()["status"] == "closed"
        replacement = start(api)["session_id"]
        assert BrowserSession.objects.get(pk=replacement).worker.pid == survivor.pid
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(20)
        live.stop()


def test_a_hundred_start_stop_cycles_leak_no_chromium_process_or_context(live, api):
    for _ in range(3):  # warm up: the pool and renderer processes settle
        api.delete(f"/sessions/{start(api)['session_id']}/stop")
    baseline = wait_until(
        lambda: len(chromium_pids()) if open_contexts(live) == 0 else 0, timeout=10
    )
    runtime = Path(settings.PERISCOPE_RUNTIME_DIR)
    files_before = sum(1 for _ in runtime.rglob("*"))

    for _ in range(100):
        sid = start(api)["session_id"]
        assert api.delete(f"/sessions/{sid}/stop").json()["status"] == "closed"

    assert open_contexts(live) == 0
    assert live.worker.pool.session_ids() == []
    settled = wait_until(lambda: len(chromium_pids()) <= baseline, timeout=10)
    assert settled, f"{len(chromium_pids())} Chromium processes after 100 cycles, {baseline} before"
    assert BrowserSession.objects.filter(status="closed").count() == 103
    # Per-session folders and Playwright's artefacts do not pile up in the runtime directory.
    assert wait_until(lambda: sum(1 for _ in runtime.rglob("*")) <= files_before, timeout=10)


# -- what a crashed worker leaves behind ----------------------------------------------------------

HARNESS = """
import ctypes, os, subprocess, sys
# A parent that adopts orphans and never reaps them, like PID 1 in a container without an init.
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)
worker = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(worker.pid, flush=True)
sys.stdin.read()
worker.terminate()
worker.wait(30)
"""


def _browser_of(root: psutil.Process) -> psutil.Process | None:
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in child.name() and not any(
                a.startswith("--type=") for a in child.cmdline()
            ):
                return child
    return None


def _registered(database: Path) -> bool:
    """The worker registers itself once its browser is up."""
    with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT count(*) FROM sessions_app_browserworker").fetchone()[0] > 0
    return False


def _gone(pid: int) -> bool:
    """Not running and not a zombie either: its parent reaped it."""
    return not psutil.pid_exists(pid)


def test_the_zombies_of_a_killed_browser_are_reaped_by_the_worker():
    var = Path(tempfile.mkdtemp(prefix="reap-"))
    env = {
        **os.environ, "PERISCOPE_VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": "",
        "PERISCOPE_WARM_CONTEXTS": "1", "PERISCOPE_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, sys.executable, "manage.py", "run_browser_worker"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        worker = psutil.Process(int(harness.stdout.readline()))
        assert wait_until(lambda: _registered(var / "periscope.sqlite3"), timeout=60), (
            "the worker did not start"
        )
        browser = _browser_of(worker)
        helpers = wait_until(lambda: browser.children(recursive=True), timeout=10)
        assert helpers

        browser.kill()

        assert wait_until(lambda: all(_gone(p.pid) for p in helpers), timeout=10), [
            (p.pid, p.status()) for p in helpers if psutil.pid_exists(p.pid)
        ]
        assert worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE
    finally:
        harness.stdin.close()
        harness.wait(40)
        shutil.rmtree(var, ignore_errors=True)


def _spawn_orphan(executable: str, marker: str | None, short: Path) -> psutil.Process:
    """A port-mode Chromium started through a parent that exits at once: an orphan."""
    profile = Path(tempfile.mkdtemp(prefix="orphan-profile-", dir=short))
    env = {"HOME": str(short), "TMPDIR": str(short), "PATH": "/usr/bin:/bin"}
    if marker:
        env[MARKER] = marker
    args = [
        executable, "--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
        "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank",
    ]  # fmt: skip
    launcher = (
        "import subprocess, sys, json\n"
        "subprocess.Popen(sys.argv[2:], env=json.loads(sys.argv[1]), start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    )
    subprocess.run([sys.executable, "-c", launcher, json.dumps(env), *args], check=True)

    def started():
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if f"--user-data-dir={profile}" in process.cmdline() and not any(
                    a.startswith("--type=") for a in process.cmdline()
                ):
                    return process
        return None

    orphan = wait_until(started, timeout=10)
    assert orphan, "the orphan Chromium did not start"
    return orphan


def test_a_worker_start_cleans_up_after_a_crashed_predecessor(api_key, team, settings):
    short = Path(tempfile.mkdtemp(prefix="rt-"))
    runtime = short / "run"
    runtime.mkdir()
    settings.PERISCOPE_RUNTIME_DIR = runtime
    dead = subprocess.Popen(["true"])
    dead.wait()

    stale = runtime / "browser-crashed"
    (stale / "sessions" / "s1").mkdir(parents=True)
    (stale / "sessions" / "s1" / "report.csv").write_text("a,b\n")
    leftover_profile = Path(tempfile.mkdtemp(prefix="playwright_chromiumdev_profile-"))
    (stale / "owner.json").write_text(
        json.dumps({"pid": dead.pid, "started": 0, "profiles": [str(leftover_profile)]})
    )
    executable = chromium_executable()
    orphan = _spawn_orphan(executable, str(stale), short)
    other_install = _spawn_orphan(executable, "/tmp/another-install/run/browser-x", short)
    unmarked = _spawn_orphan(executable, None, short)

    lost_worker = BrowserWorker.objects.create(
        channel="browser-worker.crashed", hostname=socket.gethostname(), pid=dead.pid, capacity=1,
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    lost = BrowserSession.objects.create(
        team=team, status="active", worker=lost_worker, worker_channel=lost_worker.channel,
        viewport_width=1280, viewport_height=1080,
    )  # fmt: skip

    started = time.monotonic()
    live = LiveServer().start()
    try:
        assert wait_until(lambda: _gone(orphan.pid), timeout=10 - (time.monotonic() - started))
        assert not stale.exists() and not leftover_profile.exists()
        lost.refresh_from_db()
        assert lost.status == "error" and "worker_lost" in lost.error
        # never what this install does not own
        assert other_install.is_running() and unmarked.is_running()
        # the new worker works
        assert start(Api(live.api_url, api_key))["status"] == "active"
    finally:
        live.stop()
        for process in (orphan, other_install, unmarked):
            with contextlib.suppress(psutil.Error):
                process.kill()
        shutil.rmtree(short, ignore_errors=True)
        shutil.rmtree(leftover_profile, ignore_errors=True)


@pytest.mark.parametrize(
    "script",
    [
        "#!/bin/sh\nexit 1\n",
        # starts, then fails the launch check (WebRTC could send UDP)
        '#!/bin/sh\nexec {shell} "$@" --force-webrtc-ip-handling-policy=default --webrtc-ip-handling-policy=default\n',
    ],
    ids=["does-not-start", "fails-the-launch-check"],
)
def test_a_worker_whose_browser_cannot_start_exits_instead_of_hanging(tmp_path, script):
    fake = tmp_path / "chromium"
    fake.write_text(script.format(shell=find_headless_shell()))
    fake.chmod(0o755)
    var = Path(tempfile.mkdtemp(prefix="nobrowser-"))
    env = {
        **os.environ, "PERISCOPE_VAR_DIR": str(var), "DATABASE_URL": "", "REDIS_URL": "",
        "PERISCOPE_CHROMIUM": str(fake), "PERISCOPE_USE_HEADLESS_SHELL": "false",
    }  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_browser_worker"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert worker.wait(30) != 0
        assert (
            not psutil.pid_exists(worker.pid)
            or psutil.Process(worker.pid).status() == psutil.STATUS_ZOMBIE
        )
    finally:
        if worker.poll() is None:
            for child in psutil.Process(worker.pid).children(recursive=True):
                child.kill()
            worker.kill()
        shutil.rmtree(var, ignore_errors=True)
