# ruff: noqa: T201  (benchmarks report on stdout)
"""CDP through the session proxy (/cdp/<id>) against a directly attached browser.

Proxy: a session started through the API and reached through its cdp_url (the consumer, the
channel layer, the worker's bridge and Playwright's pipe to the worker's Chromium).
Direct: a Chromium this script launches with the worker's executable and flags plus
--remote-debugging-port on 127.0.0.1, reached over its own websocket. Each client loads
controls.html in its page first.
Each is measured with a raw CDP websocket client and with Playwright's connect_over_cdp, from a
client process of its own (as a user's script would be), in the same run, the two sides taking
turns:
- round trip: Runtime.evaluate of a constant in the page's session (raw client, and Playwright's
  CDPSession);
- click: Playwright's page.click on a button that does not navigate.

Run: .venv/bin/python bench/cdp_proxy.py [--runs 300] [--clicks 60] [--warmup 20]
"""

import argparse
import asyncio
import itertools
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

GOAL_ADDED_MS = 1.0  # the proxy adds at most this to a round trip, at p50
GOAL_CLICK_RATIO = 1.10  # a click through the proxy within 10% of direct, at p50
BUTTON = "#restock-7"


class RawClient:
    """A CDP client over one websocket: one page session, flattened, as Playwright attaches."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.session = None

    @classmethod
    async def open(cls, url: str) -> "RawClient":
        import websockets

        client = cls(await websockets.connect(url, max_size=None))
        await client.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": True},
        )
        return client

    async def send(
        self, method: str, params: dict | None = None, session: str | None = None
    ) -> dict:
        msg_id = next(self.ids)
        message = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(await self.ws.recv())
            if (
                reply.get("method") == "Target.attachedToTarget"
                and reply["params"]["targetInfo"]["type"] == "page"
            ):
                self.session = self.session or reply["params"]["sessionId"]
            if reply.get("id") == msg_id and reply.get("sessionId") == session:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                return reply["result"]

    async def page_session(self) -> str:
        while self.session is None:
            await self.send("Target.getTargets")
        return self.session

    async def close(self) -> None:
        await self.ws.close()


class Side:
    """One way to reach a page: its raw client, its Playwright page and CDPSession."""

    def __init__(self, name: str):
        self.name = name
        self.raw: RawClient | None = None
        self.raw_session = ""
        self.browser = None
        self.page = None
        self.cdp = None

    async def attach(self, playwright, endpoint: str, raw_url: str) -> None:
        self.raw = await RawClient.open(raw_url)
        self.raw_session = await self.raw.page_session()
        self.browser = await playwright.chromium.connect_over_cdp(endpoint)
        self.page = self.browser.contexts[0].pages[0]
        self.cdp = await self.browser.contexts[0].new_cdp_session(self.page)

    async def raw_round_trip(self) -> float:
        t0 = time.perf_counter()
        await self.raw.send(
            "Runtime.evaluate", {"expression": "1", "returnByValue": True}, self.raw_session
        )
        return (time.perf_counter() - t0) * 1000

    async def playwright_round_trip(self) -> float:
        t0 = time.perf_counter()
        await self.cdp.send("Runtime.evaluate", {"expression": "1", "returnByValue": True})
        return (time.perf_counter() - t0) * 1000

    async def click(self) -> float:
        t0 = time.perf_counter()
        await self.page.click(BUTTON)
        return (time.perf_counter() - t0) * 1000

    async def close(self) -> None:
        if self.raw:
            await self.raw.close()
        if self.browser:
            await self.browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_direct(executable: str, flags: list[str], home: Path) -> tuple[subprocess.Popen, str]:
    """The worker's executable and flags, plus a debugging port: what a self-hosted browser with
    CDP open looks like. The browser-level websocket URL comes from /json/version."""
    from browser.launcher import minimal_env

    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            *flags,
            "--headless",
            f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={home / 'profile'}",
            "about:blank",
        ],
        env=minimal_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/json/version", timeout=1
            ) as answer:
                return process, json.load(answer)["webSocketDebuggerUrl"]
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the direct Chromium did not open its debugging port") from None
            time.sleep(0.1)


async def measure_clients(
    proxy_url: str, direct_url: str, page_url: str, runs: int, clicks: int, warmup: int
) -> dict:
    """The clients' side, in a process of its own (as a user's script is): both sides, in turns."""
    from playwright.async_api import async_playwright

    proxy, direct = Side("proxy"), Side("direct")
    samples: dict[str, dict[str, list[float]]] = {
        side: {"raw_round_trip": [], "playwright_round_trip": [], "click": []}
        for side in ("proxy", "direct")
    }
    async with async_playwright() as playwright:
        await proxy.attach(playwright, proxy_url, proxy_url)
        await direct.attach(playwright, direct_url, direct_url)
        # Both pages are loaded by their own client: the session gets no API action, so no
        # screencast runs beside the measurement (one does for 15 s after an API action).
        for side in (proxy, direct):
            await side.page.goto(page_url)
        version = direct.browser.version
        sides = [proxy, direct]
        for kind, count in (
            ("raw_round_trip", runs),
            ("playwright_round_trip", runs),
            ("click", clicks),
        ):
            for i in range(warmup + count):
                for side in sides if i % 2 == 0 else sides[::-1]:
                    value = await getattr(side, kind)()
                    if i >= warmup:
                        samples[side.name][kind].append(value)
                    if kind == "click":
                        await asyncio.sleep(0.02)  # the page settles; both sides alike
        assert await proxy.page.text_content("#status") == "Restock bin 7"
        await proxy.close()
        await direct.close()
    return {"browser_version": version, "samples": samples}


def measure(live, key: str, site_url: str, runs: int, clicks: int, warmup: int) -> dict:
    from sessions_app.worker.config import launch_config

    config = launch_config()
    executable = config.headless_shell_path or config.chromium_path
    client = common.api_client(key)
    started = client.post(
        f"{live.api_url}/sessions/start", json={"headless": True}, timeout=60
    ).json()
    page_url = f"{site_url}/controls.html"
    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as home:
        process, direct_url = launch_direct(executable, config.flags, Path(home))
        try:
            args = [started["cdp_url"], direct_url, page_url, str(runs), str(clicks), str(warmup)]
            done = subprocess.run(
                [sys.executable, __file__, "--clients", *args],
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if done.returncode:
                raise RuntimeError(f"the clients failed:\n{done.stderr[-4000:]}")
            measured = json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            process.kill()
            process.wait()
    client.delete(f"{live.api_url}/sessions/{started['session_id']}/stop", timeout=60)
    client.close()
    return {"executable": executable, "flags": config.flags, **measured}


def report(m: dict, runs: int, clicks: int, warmup: int) -> dict:
    summaries = {
        side: {k: common.summary(v) for k, v in kinds.items()}
        for side, kinds in m["samples"].items()
    }
    labels = {
        "raw_round_trip": "round trip, raw CDP client",
        "playwright_round_trip": "round trip, Playwright CDPSession",
        "click": "Playwright page.click",
    }
    compared = {}
    rows = []
    for kind, label in labels.items():
        proxy, direct = summaries["proxy"][kind], summaries["direct"][kind]
        added = proxy["p50"] - direct["p50"]
        ratio = proxy["p50"] / direct["p50"]
        if kind == "click":
            met = ratio <= GOAL_CLICK_RATIO
            goal = f"ratio <= {GOAL_CLICK_RATIO:.2f} ({'met' if met else 'MISSED'})"
        else:
            met = added <= GOAL_ADDED_MS
            goal = f"added <= {GOAL_ADDED_MS:.1f} ms ({'met' if met else 'MISSED'})"
        compared[kind] = {
            "added_ms_p50": added,
            "added_ms_p95": proxy["p95"] - direct["p95"],
            "ratio_p50": ratio,
            "goal_met": met,
        }
        rows.append(
            [f"{label}: proxy", proxy["n"], proxy["p50"], proxy["p95"], added, f"{ratio:.2f}", goal]
        )
        rows.append([f"{label}: direct", direct["n"], direct["p50"], direct["p95"], "", "", ""])
    print(
        f"\nCDP through the session proxy vs direct, ms ({runs} round trips and {clicks} clicks after {warmup} "
        "warm-up each, the two sides taking turns)"
    )
    print(f"browser: {m['executable']} {m['browser_version']}")
    common.print_table(["metric", "n", "p50", "p95", "added p50", "ratio p50", "goal"], rows)
    return {
        "benchmark": "cdp_proxy",
        **common.environment(m["executable"], m["browser_version"]),
        "parameters": {
            "runs": runs,
            "clicks": clicks,
            "warmup": warmup,
            "flags": m["flags"],
            "button": BUTTON,
        },
        "goals": {"added_ms_p50": GOAL_ADDED_MS, "click_ratio_p50": GOAL_CLICK_RATIO},
        "summary_ms": summaries,
        "proxy_vs_direct": compared,
        "samples_ms": m["samples"],
    }


def main() -> None:
    if sys.argv[1:2] == ["--clients"]:
        proxy_url, direct_url, page_url, runs, clicks, warmup = sys.argv[2:8]
        measured = asyncio.run(
            measure_clients(proxy_url, direct_url, page_url, int(runs), int(clicks), int(warmup))
        )
        sys.stdout.write(json.dumps(measured) + "\n")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--clicks", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    from tests.support.site import TestSite

    with TestSite() as site:
        tmp = common.bootstrap_django(
            PERISCOPE_EGRESS_ALLOW=f"127.0.0.1:{site.port},localhost:{site.port}"
        )
        try:
            key = common.create_api_key()
            live = common.start_live_server()
            try:
                measured = measure(live, key, site.url, args.runs, args.clicks, args.warmup)
            finally:
                live.stop()
            common.write_results("cdp_proxy", report(measured, args.runs, args.clicks, args.warmup))
        finally:
            common.cleanup(tmp)


if __name__ == "__main__":
    main()
