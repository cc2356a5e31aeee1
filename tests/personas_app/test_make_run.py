"""`make run`'s process (`manage.py serve`) receives persona mail itself, and keeps it across a restart."""

import os
import signal
import smtplib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.live import free_port

from .helpers import message

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _serve(env, port):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    for line in iter(process.stdout.readline, ""):
        output.append(line)
        if "Periscope is serving on" in line:
            return process, "".join(output)
    process.wait(10)
    raise AssertionError("serve did not start:\n" + "".join(output))


def _stop(process):
    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0


def test_serve_receives_mail_and_keeps_it_across_a_restart(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    smtp_port = free_port()
    env.update(PERISCOPE_VAR_DIR=str(tmp_path / "var"), PERISCOPE_SMTP_PORT=str(smtp_port))
    run = {
        "cwd": ROOT,
        "env": env,
        "capture_output": True,
        "text": True,
        "timeout": 120,
        "check": True,
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], **run)
    first_run = subprocess.run([sys.executable, "manage.py", "bootstrap"], **run).stdout
    key = next(
        line.split(": ", 1)[1] for line in first_run.splitlines() if line.startswith("API key: ")
    )
    headers = {"Authorization": f"Bearer {key}"}

    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    process, output = _serve(env, port)
    try:
        assert f"@periscope.localhost is received on smtp://127.0.0.1:{smtp_port}" in output
        persona = requests.post(
            f"{api}/personas/create", json={}, headers=headers, timeout=10
        ).json()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(message(to=persona["email"], subject="kept"))
    finally:
        _stop(process)
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", smtp_port, timeout=5)

    process, _ = _serve(env, port)
    try:
        emails = requests.get(
            f"{api}/personas/{persona['persona_id']}/emails", headers=headers, timeout=10
        ).json()
        assert [e["subject"] for e in emails] == ["kept"]
    finally:
        _stop(process)


def test_serve_still_serves_when_the_smtp_port_is_taken(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        env.update(PERISCOPE_VAR_DIR=str(tmp_path / "var"), PERISCOPE_SMTP_PORT=str(taken))
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        port = free_port()
        process, output = _serve(env, port)
        try:
            assert "Persona mail is off" in output and "PERISCOPE_SMTP_PORT" in output
            assert (
                requests.get(f"http://127.0.0.1:{port}/api/health", timeout=10).status_code == 200
            )
        finally:
            _stop(process)


def test_run_mail_server_alone_for_a_relay(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PERISCOPE_VAR_DIR"] = str(tmp_path / "var")
    run = {
        "cwd": ROOT,
        "env": env,
        "capture_output": True,
        "text": True,
        "timeout": 120,
        "check": True,
    }

    def shell(code: str) -> str:  # the last line printed (the shell may print a banner first)
        return subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code], **run
        ).stdout.split("\n")[-2]

    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], **run)
    subprocess.run([sys.executable, "manage.py", "bootstrap"], **run)
    address = shell(
        "from teams_app.models import Team; from personas_app.services import persona_create; "
        "print(persona_create(team=Team.objects.get()).email)"
    )

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_mail_server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert f"smtp://127.0.0.1:{port}" in process.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message(to=address, subject="via the relay"))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    stored = shell(
        "from personas_app.models import InboundEmail; print([e.subject for e in InboundEmail.objects.all()])"
    )
    assert stored == "['via the relay']"
