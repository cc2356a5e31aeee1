# ruff: noqa: T201  (benchmarks report on stdout)
"""How cost grows with work: N sessions on one worker, each looping observe + execute on the
test site's article with a think time of 1-3 s (2 s on average), as agents do.

For each N (default 1, 10, 20, 40): the step latency (one observe plus one execute, measured by
the client over the API) p50 and p95, the worker's CPU (this process: it runs the web app and the
embedded worker) and Chromium's CPU (its process tree) over the measured window, and the memory
per session with the article loaded: PSS of the Chromium tree with N sessions on the article,
less the same tree with none, divided by N.

All of it twice: with the perception screencast (PERISCOPE_PERCEPTION_SCREENCAST_SECONDS=60, the
default: observes answer with the screencast's latest frame) and without it (0: they capture).

Goals: at N = 40 the step p95 is within 2x of N = 1, and at most 40 MB per session.

Run: .venv/bin/python bench/concurrency.py [--levels 1 10 20 40] [--seconds 40] [--screencast 60 0]
"""

import argparse
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench import common

GOAL_P95_RATIO = 2.0
GOAL_MB_PER_SESSION = 40.0
THINK_SECONDS = (1.0, 3.0)


def chromium_tree_pss_mb() -> float:
    from browser.pool import chromium_pids

    total = 0
    for pid in chromium_pids():
        try:
            total += psutil.Process(pid).memory_full_info().pss
        except psutil.Error:
            continue
    return total / 2**20


def chromium_cpu_seconds() -> float:
    from browser.pool import chromium_pids

    total = 0.0
    for pid in chromium_pids():
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def settled_pss(seconds: float = 3.0) -> float:
    time.sleep(seconds)
    readings = sorted(chromium_tree_pss_mb() for _ in range(3))
    return readings[1]


class Agent(threading.Thread):
    """One session: observe, act, think, for as long as the level runs."""

    def __init__(self, api_url: str, key: str, session_id: str, stop: threading.Event, seed: int):
        super().__init__(daemon=True)
        self.base = f"{api_url}/sessions/{session_id}/page"
        self.client = common.api_client(key)
        self.stop_event = stop
        self.random = random.Random(seed)
        self.samples: list[float] = []
        self.errors = 0

    def run(self) -> None:
        direction = "scroll_down"
        while not self.stop_event.is_set():
            t0 = time.perf_counter()
            try:
                self.client.post(
                    f"{self.base}/observe", json={"max_nb_actions": 100}, timeout=60
                ).raise_for_status()
                result = self.client.post(
                    f"{self.base}/execute", json={"type": direction, "amount": 400}, timeout=60
                )
                result.raise_for_status()
                if not result.json()["success"]:
                    self.errors += 1
            except Exception:
                self.errors += 1
            else:
                self.samples.append((time.perf_counter() - t0) * 1000)
            direction = "scroll_up" if direction == "scroll_down" else "scroll_down"
            self.stop_event.wait(self.random.uniform(*THINK_SECONDS))
        self.client.close()


def run_level(live, key: str, site, n: int, seconds: float, baseline_pss: float) -> dict:
    client = common.api_client(key)
    sessions = []
    for _ in range(n):
        started = client.post(
            f"{live.api_url}/sessions/start",
            json={"idle_timeout_minutes": 15, "max_duration_minutes": 60},
            timeout=60,
        )
        started.raise_for_status()
        session_id = started.json()["session_id"]
        goto = client.post(
            f"{live.api_url}/sessions/{session_id}/page/execute",
            json={"type": "goto", "url": site.page("/article.html")},
            timeout=60,
        )
        assert goto.json()["success"], goto.text
        sessions.append(session_id)
    pss_loaded = settled_pss()
    stop = threading.Event()
    agents = [Agent(live.api_url, key, s, stop, seed=i) for i, s in enumerate(sessions)]
    process = psutil.Process()
    cpu0, chromium0, t0 = process.cpu_times(), chromium_cpu_seconds(), time.monotonic()
    for agent in agents:
        agent.start()
        time.sleep(THINK_SECONDS[1] / max(n, 1))  # spread the starts over one think time
    time.sleep(seconds)
    stop.set()
    for agent in agents:
        agent.join(30)
    elapsed = time.monotonic() - t0
    cpu1, chromium1 = process.cpu_times(), chromium_cpu_seconds()
    for session_id in sessions:
        client.delete(f"{live.api_url}/sessions/{session_id}/stop", timeout=60)
    client.close()
    samples = [s for agent in agents for s in agent.samples]
    return {
        "sessions": n,
        "steps": len(samples),
        "errors": sum(agent.errors for agent in agents),
        "step_ms": common.summary(samples) if samples else None,
        "worker_cpu_percent": 100
        * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system))
        / elapsed,
        "chromium_cpu_percent": 100 * (chromium1 - chromium0) / elapsed,
        "pss_mb_with_article": pss_loaded,
        "mb_per_session": (pss_loaded - baseline_pss) / n,
    }


def run(args) -> dict:
    from django.conf import settings

    from tests.support.site import TestSite

    top = max(args.levels)
    with TestSite() as site:
        tmp = common.bootstrap_django(
            PERISCOPE_EGRESS_ALLOW=f"127.0.0.1:{site.port}",
            PERISCOPE_TEAM_SESSION_CAP=str(top + 5),
            PERISCOPE_WORKER_CAPACITY=str(top + 5),
        )
        try:
            assert top <= settings.PERISCOPE_WORKER_CAPACITY
            key = common.create_api_key()
            modes = {}
            for seconds in args.screencast:
                # The worker reads its session limits when it starts: one server per mode.
                settings.PERISCOPE_PERCEPTION_SCREENCAST_SECONDS = seconds
                print(f"perception screencast {seconds} s:", flush=True)
                live = common.start_live_server()
                try:
                    baseline = settled_pss()
                    levels = []
                    for n in args.levels:
                        print(f"  {n} session(s) for {args.seconds:.0f} s ...", flush=True)
                        levels.append(run_level(live, key, site, n, args.seconds, baseline))
                    executable = (
                        live.worker.pool._config.headless_shell_path
                        or live.worker.pool._config.chromium_path
                    )
                finally:
                    live.stop()
                modes[str(seconds)] = report(levels, baseline, args, seconds)
        finally:
            common.cleanup(tmp)
    lines = curve(modes)
    print("\n" + "\n".join(lines))
    return {
        "benchmark": "concurrency",
        "curve": lines,
        **common.environment(executable),
        "parameters": {
            "levels": args.levels,
            "seconds": args.seconds,
            "think_seconds": THINK_SECONDS,
            "perception_screencast_seconds": args.screencast,
        },
        "modes": modes,
    }


def report(levels: list[dict], baseline: float, args, screencast: int) -> dict:
    first = levels[0]["step_ms"]
    rows = []
    for level in levels:
        step = level["step_ms"] or {"p50": None, "p95": None}
        ratio = step["p95"] / first["p95"] if first and step["p95"] else None
        rows.append(
            [
                level["sessions"],
                level["steps"],
                level["errors"],
                step["p50"],
                step["p95"],
                ratio,
                level["worker_cpu_percent"],
                level["chromium_cpu_percent"],
                level["mb_per_session"],
            ]
        )
    print(
        f"\nConcurrency, PERISCOPE_PERCEPTION_SCREENCAST_SECONDS={screencast}: observe + execute "
        f"per step, think time {THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s, "
        f"{args.seconds:.0f} s per level; Chromium tree idle: {baseline:.0f} MB PSS"
    )
    common.print_table(
        [
            "sessions",
            "steps",
            "errors",
            "step p50 ms",
            "step p95 ms",
            "p95 / 1 session",
            "worker CPU %",
            "Chromium CPU %",
            "MB per session",
        ],
        rows,
    )
    last = levels[-1]
    p95_ratio = last["step_ms"]["p95"] / first["p95"] if first and last["step_ms"] else None
    goals = {
        "p95_ratio_at_top": {
            "value": p95_ratio,
            "goal": GOAL_P95_RATIO,
            "met": p95_ratio is not None and p95_ratio <= GOAL_P95_RATIO,
        },
        "mb_per_session_at_top": {
            "value": last["mb_per_session"],
            "goal": GOAL_MB_PER_SESSION,
            "met": last["mb_per_session"] <= GOAL_MB_PER_SESSION,
        },
    }
    for name, goal in goals.items():
        print(
            f"{name}: {common.fmt(goal['value'])} (goal {goal['goal']}): {'met' if goal['met'] else 'MISSED'}"
        )
    return {"baseline_pss_mb": baseline, "levels": levels, "goals": goals}


def curve(modes: dict) -> list[str]:
    """Step p95 against the number of sessions, one bar per mode, on a log scale (the top level
    can be 50x the first), as text that also goes into the README."""
    import math

    top = max(
        level["step_ms"]["p95"]
        for mode in modes.values()
        for level in mode["levels"]
        if level["step_ms"]
    )
    lines = ["step p95, ms (log scale), by sessions and PERISCOPE_PERCEPTION_SCREENCAST_SECONDS"]
    sessions = [level["sessions"] for level in next(iter(modes.values()))["levels"]]
    for i, n in enumerate(sessions):
        for name, mode in modes.items():
            step = mode["levels"][i]["step_ms"]
            if not step:
                continue
            width = max(1, round(40 * math.log10(step["p95"]) / math.log10(top)))
            label = (
                f"{n:>3} sessions, {name:>2} s"
                if name == next(iter(modes))
                else f"{'':>12}  {name:>2} s"
            )
            lines.append(f"{label}  {'#' * width} {step['p95']:,.0f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 20, 40])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument(
        "--screencast",
        type=int,
        nargs="+",
        default=[60, 0],
        help="PERISCOPE_PERCEPTION_SCREENCAST_SECONDS values to run the levels with",
    )
    args = parser.parse_args()
    common.write_results("concurrency", run(args))


if __name__ == "__main__":
    main()
