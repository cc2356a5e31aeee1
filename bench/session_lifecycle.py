# ruff: noqa: T201  (benchmarks report on stdout)
"""Session lifecycle through the API (start -> usable -> stop) against raw Playwright.

Ours: POST /api/sessions/start (answers once the page is usable), DELETE /api/sessions/{id}/stop,
on a warm embedded worker. Raw: browser.new_context + new_page, then context.close, on an
already-running browser launched with the worker's executable, flags and environment.
The two take turns within each run (the order alternates), after a few warm-up runs. Before
every measured operation the worker's warm pool is back to full and the machine gets a short
pause, so the pool refill of one run does not land in the next measurement.

Run: .venv/bin/python bench/session_lifecycle.py [--runs 50] [--warmup 5]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

GOAL_START_P50 = 40.0  # ms
GOAL_START_P95 = 100.0
HOSTED_BEST_P50 = 374.0  # ms, best hosted service's session start
SETTLE = 0.1  # s of quiet before each measured operation


def wait_pool_full(live, warm_size: int, timeout: float = 10) -> None:
    async def warm() -> int:
        return live.worker.pool.stats().warm

    deadline = time.monotonic() + timeout
    while live.call(warm) < warm_size:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker's warm pool did not refill")
        time.sleep(0.01)


def ours_once(client, api: str, live, warm_size: int) -> tuple[float, float]:
    wait_pool_full(live, warm_size)
    time.sleep(SETTLE)
    t0 = time.perf_counter()
    started = client.post(f"{api}/sessions/start", json={"headless": True}, timeout=60)
    t1 = time.perf_counter()
    started.raise_for_status()
    body = started.json()
    assert body["status"] == "active", body
    time.sleep(SETTLE)
    t2 = time.perf_counter()
    stopped = client.delete(f"{api}/sessions/{body['session_id']}/stop", timeout=60)
    t3 = time.perf_counter()
    stopped.raise_for_status()
    assert stopped.json()["status"] == "closed", stopped.text
    return (t1 - t0) * 1000, (t3 - t2) * 1000


async def raw_once(browser) -> tuple[float, float]:
    await asyncio.sleep(SETTLE)
    t0 = time.perf_counter()
    context = await browser.new_context(viewport={"width": 1280, "height": 1080})
    await context.new_page()
    t1 = time.perf_counter()
    await asyncio.sleep(SETTLE)
    t2 = time.perf_counter()
    await context.close()
    t3 = time.perf_counter()
    return (t1 - t0) * 1000, (t3 - t2) * 1000


async def measure(live, key: str, runs: int, warmup: int) -> dict:
    from playwright.async_api import async_playwright

    from browser.launcher import minimal_env
    from sessions_app.worker.config import launch_config  # find_headless_shell / find_chromium

    config = launch_config()
    executable = config.headless_shell_path or config.chromium_path
    warm_size = live.worker.warm_contexts
    client = common.api_client(key)
    ours: dict[str, list[float]] = {"start": [], "stop": [], "total": []}
    raw: dict[str, list[float]] = {"start": [], "stop": [], "total": []}

    with tempfile.TemporaryDirectory(prefix="raw-browser-") as home:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=executable,
                headless=True,
                args=config.flags,
                env=minimal_env(Path(home)),
            )
            for i in range(warmup + runs):
                results = {}
                order = ("ours", "raw") if i % 2 == 0 else ("raw", "ours")
                for who in order:
                    if who == "ours":
                        results[who] = ours_once(client, live.api_url, live, warm_size)
                    else:
                        results[who] = await raw_once(browser)
                if i < warmup:
                    continue
                for who, store in (("ours", ours), ("raw", raw)):
                    start, stop = results[who]
                    store["start"].append(start)
                    store["stop"].append(stop)
                    store["total"].append(start + stop)
            version = browser.version
            await browser.close()
    client.close()
    return {
        "executable": executable,
        "browser_version": version,
        "flags": config.flags,
        "warm_contexts": warm_size,
        "ours": ours,
        "raw": raw,
    }


def report(m: dict, runs: int, warmup: int) -> dict:
    ours = {k: common.summary(v) for k, v in m["ours"].items()}
    raw = {k: common.summary(v) for k, v in m["raw"].items()}
    ratio = {k: {p: ours[k][p] / raw[k][p] for p in ("p50", "p95")} for k in ours}
    start = ours["start"]
    passed = start["p50"] <= GOAL_START_P50 and start["p95"] <= GOAL_START_P95
    goals = {
        "start": f"p50<={GOAL_START_P50:.0f} p95<={GOAL_START_P95:.0f} ({'met' if passed else 'MISSED'})",
        "stop": "",
        "total": "",
    }
    labels = {
        "start": ("API start -> usable", "new_context+new_page"),
        "stop": ("API stop", "context.close"),
        "total": ("API start+stop", "raw start+stop"),
    }
    rows = []
    for k in ("start", "stop", "total"):
        r = ratio[k]
        rows.append(
            [
                f"ours: {labels[k][0]}",
                ours[k]["n"],
                ours[k]["p50"],
                ours[k]["p95"],
                goals[k],
                f"{r['p50']:.2f} / {r['p95']:.2f}",
            ]
        )
    for k in ("start", "stop", "total"):
        rows.append([f"raw:  {labels[k][1]}", raw[k]["n"], raw[k]["p50"], raw[k]["p95"], "", ""])
    rows.append(
        [
            "best hosted service: start",
            "",
            HOSTED_BEST_P50,
            "",
            "",
            f"{start['p50'] / HOSTED_BEST_P50:.2f}",
        ]
    )

    print(f"\nSession lifecycle, ms ({runs} runs after {warmup} warm-up, ours and raw interleaved)")
    print(
        f"browser: {m['executable']} {m['browser_version']}; worker warm pool: {m['warm_contexts']} contexts"
    )
    common.print_table(["metric", "n", "p50", "p95", "goal", "ratio ours/raw p50 / p95"], rows)
    return {
        "benchmark": "session_lifecycle",
        **common.environment(m["executable"], m["browser_version"]),
        "parameters": {
            "runs": runs,
            "warmup": warmup,
            "settle_seconds": SETTLE,
            "warm_contexts": m["warm_contexts"],
            "flags": m["flags"],
        },
        "goals_ms": {
            "start_p50": GOAL_START_P50,
            "start_p95": GOAL_START_P95,
            "hosted_best_start_p50": HOSTED_BEST_P50,
            "start_goal_met": passed,
        },
        "ours_ms": ours,
        "raw_ms": raw,
        "ratio_ours_over_raw": ratio,
        "samples_ms": {"ours": m["ours"], "raw": m["raw"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    tmp = common.bootstrap_django()
    try:
        key = common.create_api_key()
        live = common.start_live_server()
        try:
            measured = asyncio.run(measure(live, key, args.runs, args.warmup))
        finally:
            live.stop()
        common.write_results("session_lifecycle", report(measured, args.runs, args.warmup))
    finally:
        common.cleanup(tmp)


if __name__ == "__main__":
    main()
