# ruff: noqa: T201  (benchmarks report on stdout)
"""Memory per idle session: PSS of the worker's Chromium process tree at 0, 1, 10 and 40 sessions.

Sessions are started through the API (one after another, each left idle on about:blank). The
tree is every Chromium process descending from this process, which is only the embedded
worker's browser (this script launches no other). It always includes the worker's warm pool
of ready contexts, whose size is reported. Per-session slope = (PSS at n - PSS at 0) / n.

Run: .venv/bin/python bench/session_memory.py [--levels 1 10 40]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

GOAL_MB_PER_SESSION = 40.0
MB = 2**20
SETTLE = 3.0  # s after the last start (and the pool refill) before reading memory
SAMPLES = 3


def tree_memory() -> dict:
    import psutil

    from browser.pool import chromium_pids

    pss = uss = rss = 0
    count = 0
    for pid in chromium_pids():
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue
        pss, uss, rss, count = pss + info.pss, uss + info.uss, rss + info.rss, count + 1
    return {"pss_mb": pss / MB, "uss_mb": uss / MB, "rss_mb": rss / MB, "processes": count}


def settled_memory(live, warm_size: int) -> dict:
    async def warm() -> int:
        return live.worker.pool.stats().warm

    deadline = time.monotonic() + 30
    while live.call(warm) < warm_size and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(SETTLE)
    samples = []
    for _ in range(SAMPLES):
        samples.append(tree_memory())
        time.sleep(0.5)
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def measure(live, key: str, levels: list[int]) -> dict:
    client = common.api_client(key)
    warm_size = live.worker.warm_contexts
    session_ids: list[str] = []
    points = {0: settled_memory(live, warm_size)}
    start_ms: dict[int, list[float]] = {}
    try:
        for level in levels:
            times = start_ms.setdefault(level, [])
            while len(session_ids) < level:
                t0 = time.perf_counter()
                reply = client.post(
                    f"{live.api_url}/sessions/start",
                    json={"headless": True, "idle_timeout_minutes": 15},
                    timeout=60,
                )
                times.append((time.perf_counter() - t0) * 1000)
                reply.raise_for_status()
                session_ids.append(reply.json()["session_id"])
            points[level] = settled_memory(live, warm_size)
            print(
                f"  {level:>3} sessions: PSS {points[level]['pss_mb']:,.0f} MB, "
                f"{points[level]['processes']} processes",
                flush=True,
            )
    finally:
        for session_id in session_ids:
            client.delete(f"{live.api_url}/sessions/{session_id}/stop", timeout=60)
        client.close()
    return {"warm_contexts": warm_size, "points": points, "start_ms": start_ms}


def report(m: dict) -> dict:
    from sessions_app.worker.config import launch_config

    config = launch_config()
    executable = config.headless_shell_path or config.chromium_path
    base = m["points"][0]
    rows = [
        [
            "0 sessions (worker + warm pool)",
            0,
            base["pss_mb"],
            "",
            "",
            base["rss_mb"],
            base["uss_mb"],
            base["processes"],
        ]
    ]
    slopes = {}
    for level, point in m["points"].items():
        if level == 0:
            continue
        slope = (point["pss_mb"] - base["pss_mb"]) / level
        slopes[level] = slope
        verdict = "met" if slope <= GOAL_MB_PER_SESSION else "MISSED"
        rows.append(
            [
                f"{level} idle sessions",
                level,
                point["pss_mb"],
                slope,
                f"<={GOAL_MB_PER_SESSION:.0f} ({verdict})",
                point["rss_mb"],
                point["uss_mb"],
                point["processes"],
            ]
        )

    print(
        f"\nMemory of the worker's Chromium tree, MB (median of {SAMPLES} reads, {SETTLE:.0f} s after settling)"
    )
    print(f"browser: {executable}; warm pool: {m['warm_contexts']} contexts (in every figure)")
    common.print_table(
        ["metric", "n", "PSS total", "PSS/session", "goal", "RSS", "USS", "procs"], rows
    )
    starts = [t for ts in m["start_ms"].values() for t in ts]
    print(
        f"(starts while filling: n={len(starts)}, p50 {common.percentile(starts, 50):.1f} ms, "
        f"p95 {common.percentile(starts, 95):.1f} ms)"
    )
    return {
        "benchmark": "session_memory",
        **common.environment(executable),
        "parameters": {
            "levels": [k for k in m["points"] if k],
            "warm_contexts": m["warm_contexts"],
            "settle_seconds": SETTLE,
            "samples": SAMPLES,
            "flags": config.flags,
            "page": "about:blank (idle, as handed over by the API)",
        },
        "goal_mb_per_session": GOAL_MB_PER_SESSION,
        "memory_mb": m["points"],
        "pss_slope_mb_per_session": slopes,
        "start_ms_while_filling": common.summary(starts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 40])
    args = parser.parse_args()
    cap = str(max(args.levels))

    tmp = common.bootstrap_django(PERISCOPE_TEAM_SESSION_CAP=cap, PERISCOPE_WORKER_CAPACITY=cap)
    try:
        key = common.create_api_key()
        live = common.start_live_server()
        try:
            measured = measure(live, key, sorted(args.levels))
        finally:
            live.stop()
        common.write_results("session_memory", report(measured))
    finally:
        common.cleanup(tmp)


if __name__ == "__main__":
    main()
