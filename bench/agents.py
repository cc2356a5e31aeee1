# ruff: noqa: T201  (benchmarks report on stdout)
"""Agents: the loop's own time per step and the prompt tokens per step, for Periscope's agent,
browser-use and notte's agent, on the same test pages with the same scripted LLM answering at
once; then 20 of our agent runs at once on one worker against a single run.

Every agent carries out the same three short tasks on tests/site, one action per step:
- login: on login.html fill the email, fill the password, click "Sign in", then on account.html
  answer what the page says about the session cookie (4 steps);
- controls: on controls.html fill "Quantity for bin 2" with 12, click "Restock bin 2", then answer
  the page's "last change" line (3 steps);
- article: on article.html answer with the headline (1 step).

The LLM is bench/agent_llm_server.py, a real chat-completions server in a process of its own. It
answers each request at once with the script's next move, in the asking agent's own output
format, naming elements by the ids the agent gave them in its prompt, and it logs every request.

Two figures per step, both with LLM time taken out:
- step minus LLM: the agent's own step (from its own step boundaries) minus the time the server
  spent on the requests received within it (their LLM time, measured at the server);
- between LLM calls: from the server's reply to one step's request to the arrival of the next
  step's request in the same run. This is everything an agent does between two model calls (act
  on the answer, record, observe the page, build the next prompt, its LLM client), with one
  definition for all three and no trust in anybody's own step boundaries.

Prompt tokens: the requests the server received, counted afterwards with tiktoken's o200k_base
(bench/peers/count_tokens.py), grouped by the page each step was on.

Run: .venv/bin/python bench/agents.py [--rounds 10] [--warmup 1] [--concurrent 20]
                                      [--concurrent-batches 2] [--no-peers] [--peers browser-use,notte]
                                      [--profile ROUNDS [--cprofile]] [--llm-log FILE]
"""

import argparse
import concurrent.futures
import datetime
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.agent_peers import PEERS, LlmServer, Peer, PeerUnavailable, count_tokens

SYSTEMS = ("periscope", "browser-use", "notte")
LABELS = {
    "periscope": "Periscope",
    "browser-use": "browser-use 0.13.14",
    "notte": "notte-agent 1.8.28",
}
MAX_STEPS = 8
GOAL_LOOP_P50_MS = 40.0

TASKS = {
    "login": {
        "page": "login.html",
        "text": "Sign in with the email bench@example.com and the password harbour-light-7, then tell "
        "me what the account page says about the session cookie.",
        "answer": "present",
    },
    "controls": {
        "page": "controls.html",
        "text": "Set the quantity for bin 2 to 12, restock bin 2, then tell me what the page says "
        "changed last.",
        "answer": "Quantity for bin 2: 12",
    },
    "article": {
        "page": "article.html",
        "text": "Tell me the headline of this article.",
        "answer": "The Lens That Lit the Atlantic",
    },
}
# The page each step of a task is on (the k-th step of the script).
STEP_PAGES = {
    "login": ["login.html", "login.html", "login.html", "account.html"],
    "controls": ["controls.html"] * 3,
    "article": ["article.html"],
}
PAGES = ("login.html", "account.html", "controls.html", "article.html")


def tagged(task: str, run: str) -> str:
    return f"{TASKS[task]['text']} [bench run {run}/{task}]"


def epoch(value: datetime.datetime) -> float:
    return value.timestamp()


# -- Periscope, through the API ----------------------------------------------------------------------


class Periscope:
    """Our agent as a client starts it: a session, then POST /agents/start on it; the run's steps
    are read from its AgentStep rows afterwards."""

    def __init__(self, live, key: str):
        self.api = live.api_url
        self.key = key
        self.client = common.api_client(key)
        self.version = None

    def post(self, client, path: str, body: dict) -> dict:
        response = client.post(f"{self.api}{path}", json=body, timeout=60)
        if not response.ok:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def start_session(self, client=None) -> str:
        started = self.post(
            client or self.client,
            "/sessions/start",
            {"idle_timeout_minutes": 15, "max_duration_minutes": 60},
        )
        return started["session_id"]

    def start_agent(self, session_id: str, task: str, url: str, client=None) -> str:
        body = {
            "session_id": session_id,
            "task": task,
            "url": url,
            "max_steps": MAX_STEPS,
            "use_vision": False,  # the same for all three agents: text prompts only
        }
        return self.post(client or self.client, "/agents/start", body)["agent_id"]

    @staticmethod
    def wait(agent_ids: list[str], timeout: float = 180, every: float = 0.25) -> dict[str, dict]:
        """Until every run is closed; their final rows. One database read per poll, from this
        thread: polling over HTTP would put requests on the event loop being measured (20 runs
        polled that way are 80 requests a second)."""
        from agents_app.models import AgentRun, AgentState

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(every)
            open_runs = AgentRun.objects.filter(pk__in=agent_ids).exclude(state=AgentState.CLOSED)
            if not open_runs.exists():
                rows = AgentRun.objects.filter(pk__in=agent_ids)
                return {
                    str(r.pk): {
                        "answer": r.answer,
                        "success": r.success,
                        "stop_reason": r.stop_reason,
                    }
                    for r in rows
                }
        raise RuntimeError(f"{len(agent_ids)} agent runs did not all finish within {timeout:.0f} s")

    def stop_session(self, session_id: str, client=None) -> None:
        (client or self.client).delete(f"{self.api}/sessions/{session_id}/stop", timeout=60)

    @staticmethod
    def steps(agent_id: str) -> list[dict]:
        """The run's model steps. The first row of a run with a start URL is the goto made before
        the loop (no model call); the peers' start navigation is outside their steps too."""
        from agents_app.models import AgentStep

        rows = AgentStep.objects.filter(run_id=agent_id).order_by("index")
        steps = []
        for row in rows:
            if row.index == 1 and (row.action or {}).get("type") == "goto" and not row.llm_ms:
                continue
            steps.append(
                {
                    "start": epoch(row.started_at),
                    "end": epoch(row.ended_at),
                    "own_llm_ms": row.llm_ms,
                    "own_loop_ms": row.loop_ms,
                    "action": (row.action or {}).get("type"),
                    "success": row.success,
                }
            )
        return steps

    def run(self, task: str, url: str) -> dict:
        session_id = self.start_session()
        try:
            agent_id = self.start_agent(session_id, task, url)
            final = self.wait([agent_id])[agent_id]
        finally:
            self.stop_session(session_id)
        return final | {"steps": self.steps(agent_id)}

    def run_many(self, jobs: list[tuple[str, str]], before_stop=None) -> tuple[list[dict], float]:
        """Runs at once: every session first, then every agent started together (a thread and
        a connection each); (results, the wall time from the first start to the last finish)."""
        sessions = [self.start_session() for _ in jobs]
        clients = [common.api_client(self.key) for _ in jobs]

        def start(i: int) -> str:
            task, url = jobs[i]
            return self.start_agent(sessions[i], task, url, clients[i])

        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            agent_ids = list(pool.map(start, range(len(jobs))))
        finals = self.wait(agent_ids, timeout=600, every=0.5)
        wall = max(epoch(s.ended_at) for s in self.last_steps(agent_ids)) - t0
        results = [finals[a] | {"steps": self.steps(a)} for a in agent_ids]
        if before_stop is not None:  # e.g. read the CPU used while the sessions' pages still exist
            before_stop()
        for session_id, client in zip(sessions, clients, strict=True):
            self.stop_session(session_id, client)
            client.close()
        return results, wall

    @staticmethod
    def last_steps(agent_ids: list[str]):
        from agents_app.models import AgentStep

        return AgentStep.objects.filter(run_id__in=agent_ids).order_by("-ended_at")[:1]

    def close(self) -> None:
        self.client.close()


# -- the runs --------------------------------------------------------------------------------------


def run_once(system: str, runners: dict, task: str, run_id: str, site) -> dict:
    url = site.page(TASKS[task]["page"])
    text = tagged(task, run_id)
    t0 = time.time()
    if system == "periscope":
        result = runners[system].run(text, url)
    else:
        result = runners[system].run(text, url, MAX_STEPS)
        for step in result.get("steps", []):  # the peer's own timing of its LLM client call
            step["own_llm_ms"] = step.pop("llm_ms", None)
            step["own_llm_calls"] = step.pop("llm_calls", None)
    result.update(system=system, task=task, run=run_id, wall_s=time.time() - t0)
    return result


def measure(runners: dict, site, rounds: int, warmup: int) -> list[dict]:
    """Every task on every system, round after round; the order of the systems rotates."""
    results = []
    systems = [s for s in SYSTEMS if s in runners]
    for round_no in range(warmup + rounds):
        shift = round_no % len(systems)
        for task in TASKS:
            for system in systems[shift:] + systems[:shift]:
                if system != "periscope" and not runners[system].ok:
                    continue
                run_id = f"{system}-r{round_no}-{task}"
                result = run_once(system, runners, task, run_id, site)
                result["warmup"] = round_no < warmup
                results.append(result)
                if result.get("error") or str(result.get("answer")) != TASKS[task]["answer"]:
                    print(
                        f"  {run_id}: answer {result.get('answer')!r} {result.get('error') or ''}"[
                            :300
                        ]
                    )
                time.sleep(0.2)
        print(f"  round {round_no + 1}/{warmup + rounds}", flush=True)
    return results


def profile_periscope(
    periscope: Periscope, live, site, rounds: int, cprofile: bool, at_once: int = 0
) -> dict:
    """Extra Periscope runs with the step's parts timed (bench/agent_profile.py), after the
    measured ones: `rounds` rounds of the three tasks one run at a time, or with at_once, one
    batch of that many login runs at once. With cprofile, the interpreter also runs under
    cProfile meanwhile (all threads: the worker's loop, the database threads, the server)."""
    from bench.agent_profile import CATEGORIES, DETAILS, StepProfile

    profile = StepProfile()
    profile.install()
    steps = []
    try:
        if cprofile:
            profile.start_cprofile(live)
        if at_once:
            run_ids = [f"periscope-pc-{i}" for i in range(at_once)]
            results, _ = periscope.run_many(
                [(tagged("login", r), site.page("login.html")) for r in run_ids]
            )
            steps = [step for result in results for step in result["steps"]]
        else:
            for round_no in range(rounds):
                for task in TASKS:
                    run_id = f"periscope-p{round_no}-{task}"
                    result = periscope.run(tagged(task, run_id), site.page(TASKS[task]["page"]))
                    steps.extend(result["steps"])
        if cprofile:
            profile.stop_cprofile(live)
    finally:
        profile.uninstall()
    parts = profile.breakdown()
    loop_total = sum(s["own_loop_ms"] for s in steps)
    what = (
        f"{at_once} login runs at once" if at_once else f"{rounds} more rounds of the three tasks"
    )
    print(
        f"\nWhere Periscope's step time goes ({what}: {len(steps)} model steps, "
        f"{loop_total:,.0f} ms of step-LLM time in all; each part timed by a wrapper; execute "
        "also counts each run's first goto, made before the loop)"
    )
    rows = []
    for category in (*CATEGORIES, *DETAILS):
        part = parts.get(category)
        if part:
            rows.append(
                [category, part["n"], part["p50"], part["p95"], part["mean"], part["total"]]
            )
    common.print_table(["part", "calls", "p50 ms", "p95 ms", "mean ms", "total ms"], rows)
    top = profile.top_functions() if cprofile else ""
    if top:
        print("\ncProfile (cumulative, then own time):")
        print("\n".join(top.splitlines()[:140]))
    return {
        "rounds": rounds,
        "at_once": at_once,
        "steps": len(steps),
        "loop_ms_total": loop_total,
        "parts_ms": parts,
        "cprofile": top,
    }


def cpu_seconds() -> dict[str, float]:
    """CPU time so far of this process (web server, worker, this script), of the worker's
    Chromium tree, and of the other child processes (Playwright's driver, the LLM server)."""
    import psutil

    from browser.pool import chromium_pids

    def used(process) -> float:
        try:
            times = process.cpu_times()
        except psutil.Error:
            return 0.0
        return times.user + times.system

    def kind(process) -> str:
        """Chromium's process type (browser, renderer, gpu-process, utility, zygote)."""
        try:
            args = process.cmdline()
        except psutil.Error:
            return "gone"
        return next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")

    me = psutil.Process()
    chromium = set(chromium_pids())
    children = me.children(recursive=True)
    seconds = {
        "python": used(me),
        "chromium": sum(used(c) for c in children if c.pid in chromium),
        "other": sum(used(c) for c in children if c.pid not in chromium),
    }
    for child in children:
        if child.pid in chromium:
            key = f"chromium {kind(child)}"
            seconds[key] = seconds.get(key, 0.0) + used(child)
    return seconds


def concurrency(periscope: Periscope, site, n: int, batches: int) -> dict:
    """n login runs at once on the one worker, `batches` times."""
    runs, walls, cpu = [], [], []
    for batch in range(batches):
        run_ids = [f"periscope-c{batch}-{i}" for i in range(n)]
        jobs = [(tagged("login", run_id), site.page("login.html")) for run_id in run_ids]
        before, t0, end = cpu_seconds(), time.time(), {}
        results, wall = periscope.run_many(
            jobs, before_stop=lambda end=end: end.update(cpu=cpu_seconds(), t=time.time())
        )
        # The sessions start inside that window too; their renderers end when they stop, so the
        # figures are read just before.
        after, elapsed = end["cpu"], end["t"] - t0
        cpu.append(
            {k: 100 * (after[k] - before.get(k, 0.0)) / elapsed for k in after}
            | {"seconds": elapsed}
        )
        for run_id, result in zip(run_ids, results, strict=True):
            result.update(
                system="periscope", task="login", run=run_id, concurrent=True, batch=batch
            )
        runs.extend(results)
        walls.append(wall)
        print(f"  {n} at once, batch {batch + 1}/{batches}: {wall:.1f} s", flush=True)
        time.sleep(1)
    return {"runs": runs, "walls": walls, "cpu_percent": cpu}


# -- joining the agents' steps with the server's log ------------------------------------------------


def attach_llm(results: list[dict], records: list[dict], tokens: list[dict] | None) -> None:
    """Give each step its requests: those of its run that arrived within the step's bounds."""
    by_run: dict[str, list[dict]] = {}
    for i, record in enumerate(records):
        record["tokens"] = tokens[i] if tokens else None
        if record.get("run"):
            by_run.setdefault(record["run"], []).append(record)
    for result in results:
        requests = sorted(by_run.get(result["run"], []), key=lambda r: r["t_recv"])
        result["requests"] = len(requests)
        moves = [r for r in requests if r.get("kind") != "validate"]
        for k, step in enumerate(result.get("steps", [])):
            inside = [r for r in requests if step["start"] <= r["t_recv"] <= step["end"]]
            step["llm_server_ms"] = sum(r["server_ms"] for r in inside)
            step["llm_requests"] = len(inside)
            step["ms"] = (step["end"] - step["start"]) * 1000
            step["loop_ms"] = step["ms"] - step["llm_server_ms"]
            step_moves = [r for r in inside if r.get("kind") != "validate"]
            move = step_moves[0]["move"] if step_moves else k
            pages = STEP_PAGES[result["task"]]
            step["page"] = pages[min(move, len(pages) - 1)]
            if tokens:
                step["prompt_tokens"] = sum(r["tokens"]["messages"] for r in inside)
                step["schema_tokens"] = sum(r["tokens"]["schema"] for r in inside)
                step["images"] = sum(r["tokens"]["images"] for r in inside)
                step["validator_tokens"] = sum(
                    r["tokens"]["messages"] for r in inside if r.get("kind") == "validate"
                )
        # Between two model calls: reply to move k sent -> request for move k+1 received.
        result["gaps_ms"] = [
            (b["t_recv"] - a["t_sent"]) * 1000 for a, b in itertools.pairwise(moves)
        ]


def loop_samples(results: list[dict], system: str, *, concurrent: bool = False) -> dict:
    picked = [
        r
        for r in results
        if r["system"] == system and not r.get("warmup") and bool(r.get("concurrent")) == concurrent
    ]
    steps = [s for r in picked for s in r.get("steps", [])]
    return {
        "runs": len(picked),
        "completed": sum(1 for r in picked if str(r.get("answer")) == TASKS[r["task"]]["answer"]),
        "step_ms": [s["ms"] for s in steps],
        "loop_ms": [s["loop_ms"] for s in steps],
        "llm_server_ms": [s["llm_server_ms"] for s in steps],
        "own_llm_ms": [s["own_llm_ms"] for s in steps if s.get("own_llm_ms") is not None],
        "own_loop_ms": [s["own_loop_ms"] for s in steps if s.get("own_loop_ms") is not None],
        "step_minus_own_llm_ms": [
            s["ms"] - s["own_llm_ms"] for s in steps if s.get("own_llm_ms") is not None
        ],
        "gap_ms": [g for r in picked for g in r.get("gaps_ms", [])],
    }


def token_table(results: list[dict]) -> dict:
    """Per page and system: prompt tokens per step (mean over the steps on that page)."""
    table: dict[str, dict[str, dict]] = {}
    for page in PAGES:
        table[page] = {}
        for system in SYSTEMS:
            steps = [
                s
                for r in results
                if r["system"] == system and not r.get("warmup") and not r.get("concurrent")
                for s in r.get("steps", [])
                if s.get("page") == page and "prompt_tokens" in s
            ]
            if not steps:
                continue
            n = len(steps)
            table[page][system] = {
                "steps": n,
                "messages": sum(s["prompt_tokens"] for s in steps) / n,
                "schema": sum(s["schema_tokens"] for s in steps) / n,
                "total": sum(s["prompt_tokens"] + s["schema_tokens"] for s in steps) / n,
                "validator": sum(s["validator_tokens"] for s in steps) / n,
                "images": sum(s["images"] for s in steps),
                "max_total": max(s["prompt_tokens"] + s["schema_tokens"] for s in steps),
            }
    return table


# -- the report ------------------------------------------------------------------------------------


def summarize(values: list[float]) -> dict | None:
    return common.summary(values) if values else None


def report(results, concurrent, records, tokens, peers, tokenizer, args) -> dict:
    samples = {s: loop_samples(results, s) for s in SYSTEMS}
    stats = {
        s: {key: summarize(v) for key, v in samples[s].items() if isinstance(v, list)}
        for s in SYSTEMS
    }
    for s in SYSTEMS:
        stats[s]["runs"], stats[s]["completed"] = samples[s]["runs"], samples[s]["completed"]

    print(
        f"\nAgents: the loop's own time per step, ms ({args.rounds} rounds after {args.warmup} "
        "warm-up; tasks login, controls, article; systems interleaved)"
    )
    print("LLM: the scripted server in its own process, answering at once; use_vision off for all")
    rows = []
    for s in SYSTEMS:
        st = stats[s]
        if not st.get("step_ms"):
            peer = peers.get(s)
            rows.append(
                [
                    LABELS[s],
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    f"{peer.status}: {peer.reason}"[:60] if peer else "",
                ]
            )
            continue
        rows.append(
            [
                LABELS[s],
                f"{st['completed']}/{st['runs']}",
                st["step_ms"]["n"],
                st["loop_ms"]["p50"],
                st["loop_ms"]["p95"],
                st["gap_ms"]["p50"] if st.get("gap_ms") else "",
                st["gap_ms"]["p95"] if st.get("gap_ms") else "",
                st["step_ms"]["p50"],
                f"{st['llm_server_ms']['p50']:.1f} / {st['own_llm_ms']['p50']:.1f}"
                if st.get("own_llm_ms")
                else "",
            ]
        )
    common.print_table(
        [
            "agent",
            "answered",
            "steps",
            "step-LLM p50",
            "p95",
            "between calls p50",
            "p95",
            "whole step p50",
            "LLM ms: server / client p50",
        ],
        rows,
    )
    ratios = {}
    ours = stats["periscope"]
    for s in ("browser-use", "notte"):
        if ours.get("loop_ms") and stats[s].get("loop_ms"):
            ratios[s] = {
                "step_minus_llm": {
                    p: ours["loop_ms"][p] / stats[s]["loop_ms"][p] for p in ("p50", "p95")
                },
                "between_calls": (
                    {p: ours["gap_ms"][p] / stats[s]["gap_ms"][p] for p in ("p50", "p95")}
                    if ours.get("gap_ms") and stats[s].get("gap_ms")
                    else None
                ),
            }
    for s, r in ratios.items():
        between = r["between_calls"]
        print(
            f"Periscope / {LABELS[s]}: step-LLM p50 {r['step_minus_llm']['p50']:.2f}, "
            f"p95 {r['step_minus_llm']['p95']:.2f}"
            + (
                f"; between calls p50 {between['p50']:.2f}, p95 {between['p95']:.2f}"
                if between
                else ""
            )
            + " (below 1: ours is faster)"
        )
    goal = None
    if ours.get("loop_ms"):
        goal = {
            "p50_ms": GOAL_LOOP_P50_MS,
            "step_minus_llm_p50": ours["loop_ms"]["p50"],
            "met": ours["loop_ms"]["p50"] <= GOAL_LOOP_P50_MS,
            "between_calls_p50": ours["gap_ms"]["p50"] if ours.get("gap_ms") else None,
        }
        print(
            f"goal: Periscope step-LLM p50 <= {GOAL_LOOP_P50_MS:.0f} ms: "
            f"{'met' if goal['met'] else 'MISSED'} ({ours['loop_ms']['p50']:.1f} ms)"
        )
    if ours.get("own_loop_ms"):
        print(
            f"Periscope's own record (AgentStep.loop_ms): p50 {ours['own_loop_ms']['p50']:.1f}, "
            f"p95 {ours['own_loop_ms']['p95']:.1f}"
        )

    table = token_table(results) if tokens else {}
    tokens_goal = {}
    if tokens:
        print(
            f"\nPrompt tokens per step, by page ({tokenizer}; mean over the page's steps; "
            "messages + the response schema sent with them)"
        )
        rows = []
        for page, by_system in table.items():
            cells = []
            for s in SYSTEMS:
                t = by_system.get(s)
                cells.append(
                    f"{t['total']:,.0f} ({t['messages']:,.0f} + {t['schema']:,.0f})" if t else ""
                )
            theirs = [by_system[s]["total"] for s in ("browser-use", "notte") if s in by_system]
            ours_total = by_system.get("periscope", {}).get("total")
            fewest = ours_total is not None and theirs and all(ours_total < t for t in theirs)
            tokens_goal[page] = fewest if ours_total is not None and theirs else None
            rows.append(
                [page, *cells, "yes" if fewest else ("no" if tokens_goal[page] is False else "")]
            )
        common.print_table(["page", *(LABELS[s] for s in SYSTEMS), "ours fewest"], rows)
        validator = {
            page: by_system["notte"]["validator"]
            for page, by_system in table.items()
            if by_system.get("notte", {}).get("validator")
        }
        if validator:
            print(
                "notte's completion steps include its validator call (an LLM as judge): "
                + ", ".join(f"{page} {v:,.0f}" for page, v in validator.items())
                + " tokens of those"
            )

    concurrency_stats = None
    if concurrent:
        c = loop_samples(concurrent["runs"], "periscope", concurrent=True)
        single_login = [
            r
            for r in results
            if r["system"] == "periscope" and r["task"] == "login" and not r.get("warmup")
        ]
        single = loop_samples(single_login, "periscope")
        steps_total = sum(len(r["steps"]) for r in concurrent["runs"])
        single_rate = [
            len(r["steps"]) / ((r["steps"][-1]["end"] - r["steps"][0]["start"]) or 1e-9)
            for r in single_login
            if r.get("steps")
        ]
        concurrency_stats = {
            "runs_at_once": args.concurrent,
            "batches": args.concurrent_batches,
            "completed": c["completed"],
            "runs": c["runs"],
            "steps_per_second": steps_total / sum(concurrent["walls"]),
            "single_run_steps_per_second": sum(single_rate) / len(single_rate)
            if single_rate
            else None,
            "step_ms": summarize(c["step_ms"]),
            "loop_ms": summarize(c["loop_ms"]),
            "gap_ms": summarize(c["gap_ms"]),
            "single_step_ms": summarize(single["step_ms"]),
            "single_loop_ms": summarize(single["loop_ms"]),
            "single_gap_ms": summarize(single["gap_ms"]),
            "walls_s": concurrent["walls"],
            "cpu_percent_of_a_core": concurrent["cpu_percent"],
        }
        cs = concurrency_stats
        print(
            f"\n{args.concurrent} Periscope runs at once on one worker (login task, "
            f"{args.concurrent_batches} batches), against single runs of the same task"
        )
        rows = []
        for label, key in (
            ("whole step", "step_ms"),
            ("step - LLM", "loop_ms"),
            ("between calls", "gap_ms"),
        ):
            one, many = cs[f"single_{key}"], cs[key]
            if one and many:
                rows.append(
                    [
                        label,
                        one["p50"],
                        one["p95"],
                        many["p50"],
                        many["p95"],
                        f"{many['p50'] / one['p50']:.1f}x / {many['p95'] / one['p95']:.1f}x",
                    ]
                )
        common.print_table(
            [
                "ms",
                "single p50",
                "p95",
                f"{args.concurrent} at once p50",
                "p95",
                "at once / single",
            ],
            rows,
        )
        for i, c in enumerate(cs["cpu_percent_of_a_core"]):
            print(
                f"CPU, batch {i + 1} ({c['seconds']:.0f} s, the sessions' start included, % of one "
                f"core; {os.cpu_count()} cores): Chromium {c['chromium']:.0f}%, this process (server "
                f"and worker) {c['python']:.0f}%, other children (Playwright driver, LLM server) "
                f"{c['other']:.0f}%; Chromium by process type: "
                + ", ".join(
                    f"{k.removeprefix('chromium ')} {v:.0f}%"
                    for k, v in sorted(c.items(), key=lambda kv: -kv[1])
                    if k.startswith("chromium ")
                )
            )
        print(
            f"steps per second: {cs['steps_per_second']:.1f} with {args.concurrent} at once "
            f"({cs['completed']}/{cs['runs']} answered), "
            f"{cs['single_run_steps_per_second'] or 0:.1f} for a single run"
        )

    return {
        "benchmark": "agents",
        "parameters": {
            "rounds": args.rounds,
            "warmup": args.warmup,
            "max_steps": MAX_STEPS,
            "tasks": {
                k: {"page": v["page"], "task": v["text"], "answer": v["answer"]}
                for k, v in TASKS.items()
            },
            "step_pages": STEP_PAGES,
            "use_vision": False,
            "concurrent": args.concurrent,
            "concurrent_batches": args.concurrent_batches,
        },
        "peers": {
            name: {
                "status": p.status,
                "reason": p.reason,
                "version": p.version,
                "browser": p.browser,
                "browser_version": p.browser_version,
            }
            for name, p in peers.items()
        },
        "tokenizer": tokenizer,
        "goal_loop_ms": goal,
        "tokens_goal_fewest_on_page": tokens_goal,
        "summary_ms": stats,
        "ratios_periscope_over": ratios,
        "tokens_per_step": table,
        "concurrency": concurrency_stats,
        "samples_ms": {
            s: {k: v for k, v in samples[s].items() if isinstance(v, list)} for s in SYSTEMS
        },
        "runs": [
            {k: v for k, v in r.items() if k not in ("steps",)} | {"steps": r.get("steps", [])}
            for r in results + (concurrent["runs"] if concurrent else [])
        ],
        "llm_requests": len(records),
    }


# -- setup -----------------------------------------------------------------------------------------


def periscope_available() -> bool:
    from django.apps import apps

    return apps.is_installed("agents_app")


def run(args) -> dict:
    from tests.support.site import TestSite

    wanted = [p for p in args.peers.split(",") if p] if args.peers_enabled else []
    with tempfile.TemporaryDirectory(prefix="agents-bench-") as scratch, TestSite() as site:
        scratch = Path(scratch)
        log = Path(args.llm_log) if args.llm_log else scratch / "llm.jsonl"
        log.unlink(missing_ok=True)
        llm = LlmServer(log)
        peers: dict[str, Peer] = {}
        try:
            allow = f"127.0.0.1:{site.port},localhost:{site.port}"  # the egress proxy refuses loopback otherwise
            tmp = common.bootstrap_django(
                PERISCOPE_EGRESS_ALLOW=allow,
                LLM_BASE_URL=llm.base_url("periscope"),
                LLM_API_KEY="bench",
                LLM_MODEL="gpt-4o",
                PERISCOPE_WORKER_CAPACITY=str(max(40, args.concurrent + 5)),
                PERISCOPE_TEAM_SESSION_CAP=str(max(10, args.concurrent + 5)),
            )
            try:
                key = common.create_api_key()
                live = common.start_live_server()
                periscope = Periscope(live, key)
                try:
                    runners: dict = {}
                    if periscope_available():
                        runners["periscope"] = periscope
                    else:
                        print("Periscope's agent is not in this tree (no agents_app): peers only")
                    for name in wanted:
                        peer = Peer(PEERS[name])
                        print(f"starting the {name} peer ...", flush=True)
                        peer.start(llm.base_url(name), scratch)
                        if not peer.ok:
                            print(f"{name} unavailable: {peer.reason}", flush=True)
                        peers[name] = runners[name] = peer
                    for name in SYSTEMS[1:]:
                        if name not in peers:
                            peers[name] = Peer(
                                PEERS[name], status="skipped", reason="--no-peers/--peers"
                            )
                    print(f"load average before measuring: {os.getloadavg()}", flush=True)
                    results = measure(runners, site, args.rounds, args.warmup)
                    for peer in list(peers.values()):
                        peer.stop()  # their browsers must not share the machine with the next part
                    profiled = (
                        profile_periscope(periscope, live, site, args.profile, args.cprofile)
                        if args.profile and "periscope" in runners
                        else None
                    )
                    profiled_at_once = None
                    concurrent = (
                        concurrency(periscope, site, args.concurrent, args.concurrent_batches)
                        if args.concurrent and "periscope" in runners
                        else None
                    )
                    if concurrent and args.profile:
                        profiled_at_once = profile_periscope(
                            periscope, live, site, 0, args.cprofile, at_once=args.concurrent
                        )
                finally:
                    periscope.close()
                    live.stop()
            finally:
                common.cleanup(tmp)
        finally:
            for peer in peers.values():
                peer.stop()
            llm.stop()
        records = llm.records()
        tokens, tokenizer = None, None
        try:
            counted = count_tokens(llm.log)
            tokens = counted["counts"]
            tokenizer = (
                f"tiktoken {counted['tiktoken']} {counted['encoding']}, ranks file rebuilt "
                "from quicktok-v1's vocabulary and checked against tiktoken's SHA-256"
            )
        except PeerUnavailable as exc:
            print(f"no token counts: {exc}")
        everything = results + (concurrent["runs"] if concurrent else [])
        attach_llm(everything, records, tokens)
        data = report(results, concurrent, records, tokens, peers, tokenizer, args)
        data["profile"] = profiled
        data["profile_at_once"] = profiled_at_once
        return {"benchmark": "agents", **common.environment(peers["browser-use"].browser), **data}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--concurrent", type=int, default=20, help="runs at once (0: skip that part)"
    )
    parser.add_argument("--concurrent-batches", type=int, default=2)
    parser.add_argument("--peers", default="browser-use,notte")
    parser.add_argument("--no-peers", dest="peers_enabled", action="store_false")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="after measuring, ROUNDS more Periscope rounds with each part of a step timed",
    )
    parser.add_argument(
        "--cprofile", action="store_true", help="with --profile: cProfile the worker loop"
    )
    parser.add_argument(
        "--llm-log", help="keep the LLM server's log (every request, JSON lines) here"
    )
    args = parser.parse_args()
    results = run(args)
    common.write_results("agents", results)


if __name__ == "__main__":
    main()
