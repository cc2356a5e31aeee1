"""Where a Periscope agent step's own time goes (bench/agents.py --profile).

It wraps, at run time and in this process only, the calls one step of the loop makes: the DB
check between steps, observe, building the prompt, the model call, execute, and the DB write that
records the step. Each call's time goes to its category; `breakdown` gives the per-call
figures. Nothing in the project is changed: the wrappers are undone by `uninstall`.

With `cprofile=True`, the worker's event-loop thread also runs under cProfile for the
measured part (that thread runs the loop, the perception layer and Playwright's client), and
`top_functions` lists where its time goes.
"""

import cProfile
import io
import pstats
import threading
import time
from collections import defaultdict

from bench import common

CATEGORIES = ("between_steps", "observe", "prompt", "model", "execute", "record")
# Inside observe and execute (the worker's side of each), timed the same way.
DETAILS = (
    "observe: wait for a navigation to settle",
    "observe: perception observe (DOM walk + frame)",
    "observe: its frame (screencast or capture)",
    "execute: previous step's screenshot + row",
    "execute: the action",
    "step screenshot (capture or frame)",
)


class StepProfile:
    def __init__(self):
        self.calls: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.undo: list = []
        self.profiler: cProfile.Profile | None = None

    def _add(self, category: str, ms: float) -> None:
        with self.lock:
            self.calls[category].append(ms)

    def _wrap_async(self, owner, name: str, category: str) -> None:
        original = getattr(owner, name)
        profile = self

        async def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                profile._add(category, (time.perf_counter() - t0) * 1000)

        setattr(owner, name, timed)
        self.undo.append((owner, name, original))

    def _wrap_sync(self, owner, name: str, category: str) -> None:
        original = getattr(owner, name)
        profile = self

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                profile._add(category, (time.perf_counter() - t0) * 1000)

        setattr(owner, name, timed)
        self.undo.append((owner, name, original))

    def install(self) -> None:
        from agents_app import loop
        from sessions_app.worker.programs import SessionHandle

        self._wrap_async(loop.AgentLoop, "_between_steps", "between_steps")
        self._wrap_async(SessionHandle, "observe", "observe")
        self._wrap_sync(loop, "build_messages", "prompt")
        self._wrap_async(loop.AgentLoop, "_ask", "model")
        self._wrap_async(SessionHandle, "execute", "execute")
        self._wrap_async(loop.AgentLoop, "_record", "record")

        from browser.perception import observe as perception_observe
        from browser.session import SessionContext
        from sessions_app.worker import page_commands
        from sessions_app.worker.runner import Worker

        self._wrap_async(SessionContext, "settled", DETAILS[0])
        self._wrap_async(page_commands, "observe", DETAILS[1])
        self._wrap_async(perception_observe, "current_frame", DETAILS[2])
        self._wrap_async(Worker, "_settle_step", DETAILS[3])
        self._wrap_async(page_commands, "execute", DETAILS[4])
        self._wrap_async(page_commands, "step_screenshot", DETAILS[5])

    def uninstall(self) -> None:
        for owner, name, original in reversed(self.undo):
            setattr(owner, name, original)
        self.undo.clear()

    def start_cprofile(self, live) -> None:
        """cProfile on the worker loop's thread (the one the agent loop runs on)."""
        self.profiler = cProfile.Profile()

        async def enable():
            self.profiler.enable()

        live.call(enable)

    def stop_cprofile(self, live) -> None:
        async def disable():
            self.profiler.disable()

        live.call(disable)

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def breakdown(self) -> dict:
        return {c: common.summary(v) | {"total": sum(v)} for c, v in self.calls.items() if v}

    def top_functions(self, limit: int = 25) -> str:
        if self.profiler is None:
            return ""
        out = io.StringIO()
        stats = pstats.Stats(self.profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(limit)
        stats.sort_stats("tottime").print_stats(limit)
        return out.getvalue()
