"""`make run`'s process: first-run credentials, a working API, and Ctrl-C leaves no Chromium."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from browser.pool import chromium_pids
from tests.live import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_serve_works_from_an_empty_install_and_ctrl_c_leaves_no_chromium(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PERISCOPE_VAR_DIR"] = str(tmp_path / "var")
    run(["migrate", "--verbosity", "0"], env)
    first = run(["bootstrap"], env).stdout
    assert "Console login: admin / " in first
    key = next(
        line.split(": ", 1)[1] for line in first.splitlines() if line.startswith("API key: ")
    )
    assert "Console login" not in run(["bootstrap"], env).stdout  # printed once only

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
        lines = iter(server.stdout.readline, "")
        assert any("Periscope is serving on" in line for line in lines)
        api = f"http://127.0.0.1:{port}/api"
        started = requests.post(
            f"{api}/sessions/start", json={}, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        assert started.json()["status"] == "active"
        assert requests.get(f"http://127.0.0.1:{port}/login/", timeout=10).status_code == 200
        browsers = chromium_pids(psutil.Process(server.pid))
        assert browsers
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(20)
    time.sleep(0.5)
    survivors = [
        p
        for p in browsers
        if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
    ]
    assert survivors == []
    assert server.returncode == 0


def test_find_python_picks_a_python_that_django_6_accepts():
    path = subprocess.run(
        [str(ROOT / "bin" / "find-python")], capture_output=True, text=True, check=True
    ).stdout
    version = subprocess.run(
        [path.strip(), "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version.strip() == "True"
