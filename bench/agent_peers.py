# ruff: noqa: T201  (benchmark helpers report progress on stdout)
"""The other processes bench/agents.py drives: the scripted LLM server, the browser-use and notte
agents (each in a virtualenv of its own under bench/peers/, made on first use, on a Chromium in
remote-debugging mode started here) and the tokenizer (tiktoken, in a third small virtualenv).

None of them touches the project's .venv: the peers pin packages that conflict with ours, and the
tokenizer is only needed here.
"""

import base64
import contextlib
import hashlib
import json
import os
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import common

PEERS_DIR = Path(__file__).resolve().parent / "peers"
LLM_SERVER = Path(__file__).resolve().parent / "agent_llm_server.py"
VIEWPORT = {"width": 1280, "height": 1080}


class PeerUnavailable(Exception):
    pass


# -- virtualenvs ----------------------------------------------------------------------------------


def ensure_venv(name: str, packages: list[str], probe: str) -> Path:
    """bench/peers/<name>-venv with `packages` installed; `probe` is Python that exits non-zero
    until they are (it checks the pinned versions, so a changed pin reinstalls)."""
    venv = PEERS_DIR / f"{name}-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv.relative_to(common.ROOT)} ...", flush=True)
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True
        )
        if made.returncode:
            raise PeerUnavailable(f"could not create {venv.name}: {made.stderr.strip()[-300:]}")
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode:
        log = venv / "install.log"
        print(f"pip install {' '.join(packages)} into {venv.name} (log: {log}) ...", flush=True)
        with log.open("w") as out:
            installed = subprocess.run(
                [str(python), "-m", "pip", "install", *packages],
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=1800,
            )
        if installed.returncode:
            tail = " | ".join(log.read_text().strip().splitlines()[-3:])
            raise PeerUnavailable(f"pip install into {venv.name} failed: {tail[-400:]}")
        if subprocess.run([str(python), "-c", probe], capture_output=True).returncode:
            raise PeerUnavailable(f"{venv.name}: installed, but the probe still fails")
    return python


def versions_probe(pins: dict[str, str]) -> str:
    checks = " and ".join(f"v({name!r}) == {version!r}" for name, version in pins.items())
    return (
        f"from importlib.metadata import version as v; import sys; sys.exit(0 if {checks} else 1)"
    )


# -- the tokenizer ----------------------------------------------------------------------------------

TIKTOKEN_CACHE = PEERS_DIR / "tokenizer-venv" / "tiktoken-cache"
O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
O200K_SHA256 = (
    "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"  # tiktoken's own check
)
# quicktok-v1 ships o200k_base's vocabulary in a binary file of its own: a little-endian u32
# count, then for each token a u16 length, the token's bytes and its u32 rank.
QUICKTOK = "quicktok-v1==0.4.0"
QUICKTOK_VOCAB = "quicktok/data/o200k.vocab"


def o200k_from_quicktok(python: Path) -> bytes:
    """o200k_base.tiktoken, rebuilt from the vocabulary quicktok-v1 ships in its wheel."""
    with tempfile.TemporaryDirectory() as scratch:
        got = subprocess.run(
            [str(python), "-m", "pip", "download", "--no-deps", "-d", scratch, QUICKTOK],
            capture_output=True,
            text=True,
            timeout=600,
        )
        wheels = list(Path(scratch).glob("*.whl"))
        if got.returncode or not wheels:
            raise PeerUnavailable(f"pip download {QUICKTOK} failed: {got.stderr.strip()[-200:]}")
        data = zipfile.ZipFile(wheels[0]).read(QUICKTOK_VOCAB)
    (count,) = struct.unpack_from("<I", data, 0)
    offset, lines = 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", data, offset)
        token = data[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", data, offset + 2 + length)
        offset += 6 + length
        lines.append(base64.b64encode(token) + b" " + str(rank).encode() + b"\n")
    return b"".join(lines)


def ensure_tokenizer() -> Path:
    """The tokenizer virtualenv's python, with o200k_base in tiktoken's cache."""
    python = ensure_venv("tokenizer", ["tiktoken==0.14.0"], versions_probe({"tiktoken": "0.14.0"}))
    cached = TIKTOKEN_CACHE / hashlib.sha1(O200K_URL.encode()).hexdigest()  # tiktoken's cache key
    if not cached.exists() or hashlib.sha256(cached.read_bytes()).hexdigest() != O200K_SHA256:
        ranks = o200k_from_quicktok(python)
        digest = hashlib.sha256(ranks).hexdigest()
        if digest != O200K_SHA256:
            raise PeerUnavailable(
                f"the rebuilt o200k_base file has SHA-256 {digest}, not tiktoken's"
            )
        TIKTOKEN_CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(ranks)
    return python


def count_tokens(log: Path) -> dict:
    """{"encoding", "tiktoken", "counts": [...]} for each line of the LLM server's log."""
    python = ensure_tokenizer()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run(
            [str(python), str(PEERS_DIR / "count_tokens.py"), str(log), out.name],
            env={**clean_env(), "TIKTOKEN_CACHE_DIR": str(TIKTOKEN_CACHE)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise PeerUnavailable(f"counting tokens failed: {done.stderr.strip()[-300:]}")
        return json.loads(Path(out.name).read_text())


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


# -- the scripted LLM server --------------------------------------------------------------------------


class LlmServer:
    """bench/agent_llm_server.py in a process of its own, so its work never shares a GIL with
    the agent loop being measured."""

    def __init__(self, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, str(LLM_SERVER), "--log", str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the scripted LLM server did not start")
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}"

    def base_url(self, agent: str) -> str:
        return f"{self.url}/{agent}/v1"

    def records(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# -- the agent peers ---------------------------------------------------------------------------------


@dataclass
class PeerSpec:
    name: str  # as in results: "browser-use" | "notte"
    venv: str
    packages: list[str]
    pins: dict[str, str]
    script: str
    version_package: str


PEERS = {
    "browser-use": PeerSpec(
        name="browser-use",
        venv="browser-use",
        packages=["browser-use==0.13.14"],
        pins={"browser-use": "0.13.14"},
        script="browser_use_peer.py",
        version_package="browser-use",
    ),
    # notte-llm 1.8.28 wants openai<1.100 and aiohttp~=3.11, which the newest litellm does not
    # allow: without the litellm bound pip backtracks through dozens of 40 MB wheels.
    "notte": PeerSpec(
        name="notte",
        venv="notte",
        packages=[
            "notte==1.8.28",
            "notte-agent==1.8.28",
            "lxml_html_clean",
            "litellm>=1.74.12,<1.76",
        ],
        pins={"notte": "1.8.28", "notte-agent": "1.8.28"},
        script="notte_agent_peer.py",
        version_package="notte-agent",
    ),
}


@dataclass
class Peer:
    """One agent peer: its Chromium in remote-debugging mode and its process."""

    spec: PeerSpec
    status: str = "not run"
    reason: str | None = None
    version: str | None = None
    browser: str | None = None
    browser_version: str | None = None
    chromium: subprocess.Popen | None = None
    process: subprocess.Popen | None = None
    lines: queue.Queue = field(default_factory=queue.Queue)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def start(self, llm_url: str, scratch: Path) -> None:
        try:
            python = ensure_venv(self.spec.venv, self.spec.packages, versions_probe(self.spec.pins))
            cdp_url = self.start_chromium(scratch / f"{self.spec.venv}-browser")
            self.start_process(python, cdp_url, llm_url)
            self.status = "ok"
        except PeerUnavailable as exc:
            self.status, self.reason = "unavailable", str(exc)
            self.stop()

    def start_chromium(self, home: Path) -> str:
        """The worker's Chromium (same executable and flags) with a debugging port on loopback."""
        import requests

        from browser.launcher import minimal_env
        from sessions_app.worker.config import launch_config
        from tests.live import free_port

        config = launch_config()
        self.browser = config.headless_shell_path or config.chromium_path
        if not self.browser:
            raise PeerUnavailable("no Chromium found")
        home.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.chromium = subprocess.Popen(
            [
                self.browser,
                *config.flags,
                f"--remote-debugging-port={port}",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={home / 'profile'}",
                f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=minimal_env(home),
            start_new_session=True,
        )
        cdp_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answer = requests.get(f"{cdp_url}/json/version", timeout=1).json()
                self.browser_version = answer["Browser"]
                return cdp_url
            except (requests.RequestException, ValueError):
                time.sleep(0.1)
        raise PeerUnavailable(f"{self.browser} did not open its debugging port")

    def start_process(self, python: Path, cdp_url: str, llm_url: str) -> None:
        self.log_path = PEERS_DIR / f"{self.spec.venv}-venv" / "peer.log"
        self.process = subprocess.Popen(
            [
                str(python),
                str(PEERS_DIR / self.spec.script),
                "--cdp-url",
                cdp_url,
                "--llm-url",
                llm_url,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
            env=clean_env(),
            cwd=PEERS_DIR / f"{self.spec.venv}-venv",
        )
        threading.Thread(target=self._read, daemon=True).start()
        ready = self.receive(timeout=300)
        if not ready.get("ready"):
            raise PeerUnavailable(f"{self.spec.name} did not start: {ready.get('error')}")
        self.version = ready["version"]

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def receive(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise PeerUnavailable(
                f"{self.spec.name} did not answer within {timeout:.0f} s"
            ) from None
        if line is None:
            raise PeerUnavailable(f"{self.spec.name} exited (see {self.log_path})")
        return json.loads(line)

    def run(self, task: str, url: str, max_steps: int) -> dict:
        """One agent run; {"answer", "success", "steps": [...]} or {"error": ...}."""
        command = {"op": "run", "task": task, "url": url, "max_steps": max_steps}
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        try:
            return self.receive(timeout=300)
        except PeerUnavailable as exc:
            self.status, self.reason = "failed", str(exc)
            return {"error": str(exc)}

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(10)
        if self.chromium:
            if self.chromium.poll() is None:
                self.chromium.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.chromium.wait(10)
            # It runs in a process group of its own: end what it left behind (renderers, zygote).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.chromium.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.chromium.wait(10)
