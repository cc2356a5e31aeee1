"""SIGTERM, as systemd, Docker and Kubernetes stop a process: the worker closes its sessions
and its browser and the process exits cleanly, leaving no Chromium behind."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests

from browser.pool import chromium_pids
from sessions_app.models import BrowserSession, BrowserWorker, SessionEvent
from tests.conftest import Api
from tests.live import LiveServer, free_port
from tests.sessions_app.helpers import start, wait_until
from tests.sessions_app.test_workers import scale_out, spawn_worker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def survivors(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
    return alive


def manage(args, env) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_sigterm_stops_serve_after_its_worker_closed_every_session(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PERISCOPE_VAR_DIR=str(tmp_path / "var"), PERISCOPE_SMTP_EMBEDDED="false")
    manage(["migrate", "--verbosity", "0"], env)
    first = manage(["bootstrap"], env)
    key = next(
        line.split(": ", 1)[1] for line in first.splitlines() if line.startswith("API key: ")
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert any("Periscope is serving on" in line for line in iter(server.stdout.readline, ""))
        started = requests.post(
            f"http://127.0.0.1:{port}/api/sessions/start",
            json={},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).json()
        assert started["status"] == "active"
        browsers = chromium_pids(psutil.Process(server.pid))
        assert browsers
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert returncode == 0  # not killed by its own signal half-way through
    assert wait_until(lambda: survivors(browsers) == [], timeout=5)
    with contextlib.closing(sqlite3.connect(tmp_path / "var" / "periscope.sqlite3")) as db:
        status, reason = db.execute(
            "SELECT s.status, e.reason FROM sessions_app_browsersession s "
            "JOIN sessions_app_sessionevent e ON e.session_id = s.id "
            "WHERE s.id = ? ORDER BY e.id DESC LIMIT 1",
            (started["session_id"].replace("-", ""),),
        ).fetchone()
        stopped = db.execute("SELECT stop_reason FROM sessions_app_browserworker").fetchall()
    assert (status, reason) == ("closed", "worker stopped: shutdown")
    assert stopped == [("shutdown",)]


@scale_out
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_a_browser_worker_after_it_closed_every_session(api_key, channel_prefix):
    live = LiveServer(embedded_worker=False).start()
    worker = spawn_worker(channel_prefix, capacity=2)
    try:
        assert wait_until(
            lambda: BrowserWorker.objects.filter(stopped_at__isnull=True).exists(), timeout=30
        )
        api = Api(live.api_url, api_key)
        sessions = [start(api)["session_id"] for _ in range(2)]
        browsers = chromium_pids(psutil.Process(worker.pid))
        assert browsers
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert wait_until(lambda: survivors(browsers) == [], timeout=5)
        for session_id in sessions:
            assert BrowserSession.objects.get(pk=session_id).status == "closed"
            last = SessionEvent.objects.filter(session_id=session_id).last()
            assert last.reason == "worker stopped: shutdown"
        assert api.get(f"/sessions/{sessions[0]}").json()["status"] == "closed"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        live.stop()
