# ruff: noqa: T201  (benchmarks report on stdout)
"""Where an API call's time goes, beyond the browser work: observe of a test page (login.html,
7 controls, by default) through the API, against the same worker command sent straight over the
channel layer and the browser work called in-process, interleaved.

Variants, one parked session, each round in a rotating order after a short pause:
- api (requests): POST .../page/observe over a keep-alive `requests` session from this process's
  main thread, as bench/perception.py and an SDK client do.
- api (http.client): the same request over a bare http.client keep-alive connection: the
  difference to the row above is the client library's own cost.
- api (http.client, another process): the same from a child process, as a client on the same
  machine would call: it does not share this process's interpreter lock with the server.
- channel: the worker command (`session.observe`) sent with sessions_app.worker.client.call from
  the server's event loop and timed there: the channel layer and the worker, no HTTP, no Django.
- worker: page_commands.observe_wire on the server's loop: everything the worker does for the
  command (settle, observe, build the wire JSON), no channel.
- in-process: browser.perception.observe.observe + space(), as bench/perception.py's in-process
  variant: the browser work alone.

With --trace (on by default) the API path is instrumented from this script (wrappers around
uvicorn's protocol, the ASGI app, Django's handler, the auth, the worker; nothing in the product
changes) and each API request is split into stages with time.perf_counter_ns; the thread hops
(sync_to_async calls made inside an API request) are counted and timed.

--op fill measures an execute (a fill of login.html's e-mail field, a new value each call)
instead of observe: the worker variant is then page_commands.execute_action, the in-process one
browser.perception.actions.execute.

--redis runs the same in a child process whose channel layer is Redis (REDIS_URL or
redis://127.0.0.1:6379/0).

--pause sets the quiet time before each measurement (20 ms by default; bench/perception.py
waits 100 ms). On this VM every part of a call costs more the longer the machine sat idle
before it (the CPUs sleep, the caches go cold), the HTTP path's many small steps most of all.

Run: .venv/bin/python bench/api_overhead.py [--runs 200] [--warmup 20] [--page login|controls]
                                           [--op observe|fill] [--pause 0.02] [--no-trace] [--redis]
"""

import argparse
import contextvars
import functools
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

PAUSE = 0.02  # s between measurements, unless --pause says otherwise
MAX_ACTIONS = 500
FILL_TARGET = 'name="email"'  # --op fill types into login.html's e-mail field
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
VARIANTS = {
    "api_requests": "API, requests (keep-alive)",
    "api_raw": "API, http.client (keep-alive)",
    "api_process": "API, http.client, another process",
    "channel": "channel layer + worker",
    "worker": "worker: observe_wire | execute_action",
    "direct": "in-process: observe + space | execute",
}

# -- tracing: wrappers installed from here, marks per API request ---------------------------------

IN_API = contextvars.ContextVar("in_api", default=False)
IN_COMMAND = contextvars.ContextVar("in_command", default=False)
current: dict[str, int] = {}  # the marks of the request in flight (requests are sequential)
hops: list[tuple[str, int]] = []  # (function, ns) of each sync_to_async call inside it


def mark(name: str) -> None:
    current.setdefault(name, time.perf_counter_ns())


def wrap_async(owner, attr: str, before: str, after: str | None = None, *, api_only: bool = True):
    original = getattr(owner, attr)

    @functools.wraps(original)
    async def wrapper(*args, **kwargs):
        if not api_only or IN_API.get():
            mark(before)
        try:
            return await original(*args, **kwargs)
        finally:
            if after and (not api_only or IN_API.get()):
                mark(after)

    setattr(owner, attr, wrapper)


def marked_data_received(received):
    def data_received(self, data):
        mark("recv")
        return received(self, data)

    return data_received


def install_trace() -> None:
    """Wrap each stage of the API path. Must run before console.asgi is imported."""
    from asgiref import sync
    from django.core import signals
    from uvicorn.protocols.http import h11_impl

    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # httptools is not installed: uvicorn uses h11
        httptools_impl = None

    import console.api_http as api_http
    import sessions_app.page_services as page_services
    import sessions_app.services as services
    import teams_app.auth as auth
    from sessions_app.worker import client, page_commands, runner

    for protocol in (h11_impl.H11Protocol, httptools_impl and httptools_impl.HttpToolsProtocol):
        if protocol:
            protocol.data_received = marked_data_received(protocol.data_received)

    body_limit = api_http.BodyLimit.__call__

    async def asgi(self, scope, receive, send):
        IN_API.set(True)
        mark("asgi")
        await body_limit(self, scope, receive, send)
        mark("exit")

    api_http.BodyLimit.__call__ = asgi
    wrap_async(api_http.ApiHandler, "handle", "handler")
    wrap_async(api_http.ApiHandler, "read_body", "body0", "body1")
    wrap_async(api_http.ApiHandler, "_get_response_async", "django", "view_done")
    wrap_async(api_http.ApiHandler, "send_response", "send0", "send1")
    for name, signal in (
        ("started", signals.request_started),
        ("finished", signals.request_finished),
    ):
        wrap_async(signal, "asend", f"{name}0", f"{name}1")
    create_request = api_http.ApiHandler.create_request

    def made(self, *args, **kwargs):
        result = create_request(self, *args, **kwargs)
        mark("request_made")
        return result

    api_http.ApiHandler.create_request = made
    wrap_async(auth.ApiKeyAuth, "__call__", "auth0", "auth1")
    wrap_async(page_services, "session_command_by_id", "cmd0", "cmd1")
    wrap_async(client, "call", "send", "reply")
    wrap_async(runner.Worker, "_command", "w_recv", api_only=False)
    wrap_async(page_commands, "observe_wire", "w_work0", "w_work1", api_only=False)
    wrap_async(page_commands, "execute_action", "w_work0", "w_work1", api_only=False)
    wrap_async(runner.Worker, "_next_step_index", "index0", "index1", api_only=False)
    # A step's screenshot is normally settled after the reply (Worker._finish_step); when the
    # next command comes first, that command settles it before its own work: mark only that.
    command, finish, settle = (
        runner.Worker._command,
        runner.Worker._finish_step,
        runner.Worker._settle_step,
    )

    async def in_command(self, *args, **kwargs):
        IN_COMMAND.set(True)
        return await command(self, *args, **kwargs)

    async def in_background(self, *args, **kwargs):
        IN_COMMAND.set(False)
        return await finish(self, *args, **kwargs)

    async def settling(self, *args, **kwargs):
        if IN_COMMAND.get():
            mark("settle0")
        try:
            return await settle(self, *args, **kwargs)
        finally:
            if IN_COMMAND.get():
                mark("settle1")

    runner.Worker._command = in_command
    runner.Worker._finish_step = in_background
    runner.Worker._settle_step = settling
    wrap_async(runner.Worker, "_reply", "w_reply", api_only=False)
    del services  # imported so that page_services' names are bound before the wrap

    hop = sync.SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        if not IN_API.get():
            return await hop(self, *args, **kwargs)
        t0 = time.perf_counter_ns()
        try:
            return await hop(self, *args, **kwargs)
        finally:
            hops.append((hop_name(self.func), time.perf_counter_ns() - t0))

    sync.SyncToAsync.__call__ = counted


def hop_name(func) -> str:
    func = getattr(func, "func", func)  # functools.partial
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return f"{getattr(func, '__module__', '') or ''}.{name}".lstrip(".")


# The stages of one API request, each between two marks (absent marks: the stage is skipped).
STAGES = [
    ("client send -> uvicorn reads", "t0", "recv"),
    ("uvicorn parse -> ASGI app", "recv", "asgi"),
    ("ASGI app -> Django handler", "asgi", "handler"),
    ("read body", "handler", "body1"),
    ("request_started signal, build HttpRequest", "body1", "request_made"),
    ("middleware, URL resolve, ninja", "request_made", "auth0"),
    ("auth (key cache)", "auth0", "auth1"),
    ("ninja: body parse -> service", "auth1", "cmd0"),
    ("route lookup -> layer.send", "cmd0", "send"),
    ("channel: web -> worker", "send", "w_recv"),
    ("worker: team check, lock, step bookkeeping", "w_recv", "w_work0"),
    ("  of which: the previous step settled first", "settle0", "settle1"),
    ("  of which: the step's index", "index0", "index1"),
    ("worker: observe_wire / execute_action", "w_work0", "w_work1"),
    ("worker: scrub -> reply", "w_work1", "w_reply"),
    ("channel: worker -> web", "w_reply", "reply"),
    ("reply -> HttpResponse", "reply", "view_done"),
    ("api_guard, headers", "view_done", "send0"),
    ("uvicorn send", "send0", "send1"),
    ("server -> client reads", "send1", "t1"),
]
AFTER = [  # after the client has its answer (they use CPU the next request competes with)
    ("response closed, thread given back", "send1", "exit"),
]


def stage_samples(traces: list[dict[str, int]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, a, b in STAGES + AFTER:
        values = [(t[b] - t[a]) / 1e6 for t in traces if a in t and b in t]
        if values:
            out[name] = values
    return out


CLIENT_PROCESS = """
import http.client, json, sys, time
host, port, key = sys.argv[1:4]
conn = http.client.HTTPConnection(host, int(port), timeout=60)
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
for line in sys.stdin:
    request = json.loads(line)
    body = json.dumps(request["body"]).encode()
    t0 = time.perf_counter_ns()
    conn.request("POST", request["path"], body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    ms = (time.perf_counter_ns() - t0) / 1e6
    print(json.dumps({"ms": ms, "status": response.status}), flush=True)
"""


# -- the measurement -------------------------------------------------------------------------------


class Bench:
    def __init__(self, live, key: str, site, trace: bool, page: str, op: str):
        from urllib.parse import urlsplit

        self.live = live
        self.trace = trace
        self.client = common.api_client(key)
        started = self.client.post(
            f"{live.api_url}/sessions/start", json={"idle_timeout_minutes": 15}, timeout=60
        )
        started.raise_for_status()
        self.session_id = started.json()["session_id"]
        goto = self.client.post(
            f"{live.api_url}/sessions/{self.session_id}/page/execute",
            json={"type": "goto", "url": site.page(f"{page}.html")},
            timeout=60,
        )
        assert goto.json()["success"], goto.text
        self.op = op
        self.calls = 0
        if op == "fill":
            observed = self.client.post(
                f"{live.api_url}/sessions/{self.session_id}/page/observe", json={}, timeout=60
            ).json()["space"]["interaction_actions"]
            self.target = next(a["id"] for a in observed if FILL_TARGET in a["description"])
        self.path = (
            f"/api/sessions/{self.session_id}/page/{'execute' if op == 'fill' else 'observe'}"
        )
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        parts = urlsplit(live.url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CLIENT_PROCESS,
                parts.hostname,
                str(parts.port),
                key,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.traces: list[dict[str, int]] = []
        self.hops_per_request: list[int] = []
        self.hop_ms: dict[str, list[float]] = {}
        # From this thread handing the server's loop a coroutine to its first line there: the
        # wake-up every cross-thread call pays, with no HTTP in it.
        self.wakeups: list[float] = []
        self.actions = None

    def request_body(self) -> dict:
        """The API body of the next call; a fill types a new value each time, so the page changes."""
        self.calls += 1
        if self.op == "fill":
            return {"type": "fill", "id": self.target, "value": f"user{self.calls}@example.com"}
        return {"max_nb_actions": MAX_ACTIONS}

    def api(self, raw: bool, keep: bool) -> float:
        body = json.dumps(self.request_body()).encode()
        current.clear()
        hops.clear()
        t0 = time.perf_counter_ns()
        if raw:
            self.conn.request("POST", self.path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
        else:
            response = self.client.post(
                f"{self.live.url}{self.path}",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            data, status = response.content, response.status_code
        t1 = time.perf_counter_ns()
        if status != 200:
            raise RuntimeError(f"{self.op} answered {status}: {data[:300]!r}")
        if self.op == "fill":
            assert json.loads(data)["success"], data[:300]
        else:
            self.actions = len(json.loads(data)["space"]["interaction_actions"])
        if keep and self.trace:
            time.sleep(0.005)  # the request's after-answer stages (close, thread join) finish
            self.traces.append({**current, "t0": t0, "t1": t1})
            self.hops_per_request.append(len(hops))
            for name, ns in hops:
                self.hop_ms.setdefault(name, []).append(ns / 1e6)
        return (t1 - t0) / 1e6

    def from_process(self) -> float:
        request = {"path": self.path, "body": self.request_body()}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        if answer["status"] != 200:
            raise RuntimeError(f"observe from the client process answered {answer['status']}")
        return answer["ms"]

    def on_loop(self, variant: str) -> float:
        from browser.perception.actions import ActionContext, execute
        from browser.perception.observe import observe
        from sessions_app.worker import client, page_commands

        worker = self.live.worker
        session = worker.pool.get(self.session_id)

        submitted = time.perf_counter_ns()

        action = self.request_body() if self.op == "fill" else None

        async def work() -> float:
            t0 = time.perf_counter_ns()
            self.wakeups.append((t0 - submitted) / 1e6)
            if variant == "channel":
                command = (
                    {"type": "session.execute", "action": action}
                    if action
                    else {"type": "session.observe", "max_nb_actions": MAX_ACTIONS}
                )
                await client.call(
                    worker.channel,
                    {
                        **command,
                        "session_id": self.session_id,
                        "team_id": worker._teams[self.session_id],
                    },
                    wait_seconds=30,
                )
            elif variant == "worker" and action:
                await page_commands.execute_action(session, action, allow_evaluate_js=False)
            elif variant == "worker":
                await page_commands.observe_wire(session, max_nb_actions=MAX_ACTIONS)
            elif action:
                outcome = await execute(session, action, ActionContext())
                assert outcome.success, outcome.message
            else:
                observation, _ = await observe(
                    session.page, session.tabs, frame_cache=session.frames
                )
                observation.space(MAX_ACTIONS)
            return (time.perf_counter_ns() - t0) / 1e6

        return self.live.call(work)

    def run(self, runs: int, warmup: int, pause: float) -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        names = list(VARIANTS)
        for round_no in range(warmup + runs):
            keep = round_no >= warmup
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                time.sleep(pause)
                if name == "api_process":
                    ms = self.from_process()
                elif name.startswith("api"):
                    ms = self.api(raw=name == "api_raw", keep=keep)
                else:
                    ms = self.on_loop(name)
                if keep:
                    samples[name].append(ms)
            if (round_no + 1) % 50 == 0:
                print(f"  round {round_no + 1}/{warmup + runs}", flush=True)
        return samples

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)
        self.conn.close()
        self.client.delete(f"{self.live.api_url}/sessions/{self.session_id}/stop", timeout=60)
        self.client.close()


def measure(args) -> dict:
    from tests.support.site import TestSite

    with TestSite() as site:
        env = {"PERISCOPE_EGRESS_ALLOW": f"127.0.0.1:{site.port},localhost:{site.port}"}
        if args.redis_child:
            env |= {
                "REDIS_URL": REDIS_URL,
                "PERISCOPE_CHANNEL_PREFIX": f"bench{uuid.uuid4().hex[:8]}",
            }
        tmp = common.bootstrap_django(**env)
        try:
            if args.trace:
                install_trace()
            key = common.create_api_key()
            live = common.start_live_server()
            try:
                bench = Bench(live, key, site, args.trace, args.page, args.op)
                try:
                    samples = bench.run(args.runs, args.warmup, args.pause)
                finally:
                    bench.close()
            finally:
                live.stop()
        finally:
            common.cleanup(tmp)
    return {
        "layer": "redis" if args.redis_child else "in-memory",
        "page": args.page,
        "pause_seconds": args.pause,
        "op": args.op,
        "actions": bench.actions,
        "summary_ms": {name: common.summary(v) for name, v in samples.items()},
        "stages_ms": {name: common.summary(v) for name, v in stage_samples(bench.traces).items()},
        "loop_wakeup_ms": common.summary(bench.wakeups[-args.runs * 3 :]),
        "hops_per_request": common.summary(bench.hops_per_request)
        if bench.hops_per_request
        else None,
        "hop_ms": {name: common.summary(v) for name, v in bench.hop_ms.items()},
        "samples_ms": samples,
    }


def report(result: dict) -> None:
    s = result["summary_ms"]
    direct = s["direct"]["p50"]
    what = "fill on" if result["op"] == "fill" else "observe"
    listed = f" ({result['actions']} actions)" if result["actions"] is not None else ""
    print(
        f"\n{what} {result['page']}.html{listed}, {result['layer']} channel layer, "
        f"{result['pause_seconds'] * 1000:.0f} ms pause before each call, ms"
    )
    rows = [
        [VARIANTS[name], v["n"], v["p50"], v["p95"], v["p50"] - direct] for name, v in s.items()
    ]
    common.print_table(["variant", "n", "p50", "p95", "p50 - in-process"], rows)
    if result["stages_ms"]:
        print("\nthe API request (http.client and requests rounds), stage by stage, ms")
        after = {name for name, _, _ in AFTER}
        rows = [
            [
                ("(after the answer) " if name in after else "") + name,
                v["n"],
                v["p50"],
                v["p95"],
                v["mean"],
            ]
            for name, v in result["stages_ms"].items()
        ]
        common.print_table(["stage", "n", "p50", "p95", "mean"], rows)
        w = result["loop_wakeup_ms"]
        print(
            f"for comparison, the server loop's wake-up for a coroutine handed over from this thread "
            f"(no HTTP): p50 {w['p50']:.2f} ms, p95 {w['p95']:.2f} ms"
        )
        h = result["hops_per_request"]
        print(
            f"\nthread hops (sync_to_async) per API request: p50 {h['p50']:.0f}, max {h['max']:.0f}"
        )
        for name, v in result["hop_ms"].items():
            print(f"  {name}: {v['n']} calls, p50 {v['p50']:.2f} ms, p95 {v['p95']:.2f} ms")
    print(f"load average: start {common.LOAD_AT_START}, now {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--pause", type=float, default=PAUSE, help="seconds of quiet before each measurement"
    )
    parser.add_argument("--no-trace", dest="trace", action="store_false")
    parser.add_argument(
        "--page", default="login", help="the test page observed: login (7 controls), controls (200)"
    )
    parser.add_argument(
        "--op",
        choices=("observe", "fill"),
        default="observe",
        help="fill: login.html's e-mail field",
    )
    parser.add_argument("--redis", action="store_true", help="also run on the Redis channel layer")
    parser.add_argument("--json", metavar="OUT", help="write the results as JSON here")
    parser.add_argument("--redis-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    results = [measure(args)]
    report(results[0])
    if args.redis and not args.redis_child:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            cmd = [
                sys.executable,
                __file__,
                "--redis-child",
                "--json",
                out.name,
                "--runs",
                str(args.runs),
                "--warmup",
                str(args.warmup),
                "--pause",
                str(args.pause),
                "--page",
                args.page,
                "--op",
                args.op,
            ]
            if not args.trace:
                cmd.append("--no-trace")
            if subprocess.call(cmd, cwd=common.ROOT) == 0:
                results.append(json.loads(Path(out.name).read_text()))
    if args.json:
        Path(args.json).write_text(
            json.dumps(results[-1] if args.redis_child else results, default=str)
        )


if __name__ == "__main__":
    main()
