"""Readiness checks that stay cheap and bounded whatever probes them.

A load balancer may ask every second, from every node: the checks themselves run at most once
per `ttl` seconds per process (callers in between get the last answer), only one round runs at a
time (concurrent callers share it), and a caller always has an answer within `timeout` seconds,
even when the database hangs. Blocking checks (the ORM) run in a thread of their own, never in
the thread that serves Django's other sync code; while one is stuck no other is started (the
rounds report it as timed out), and being a daemon thread it never holds up the process's exit.
"""

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

OK = "ok"
DOWN = "down"
TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Report:
    ready: bool
    checks: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


class Readiness:
    """`blocking()` returns {check: value} and runs in the probe's own thread; if it does not
    finish in time, `blocking_timeout` stands for its answer. Each of `probes` is an async
    check answering a value (an exception means DOWN). The process is ready when every check
    named in `required` is OK."""

    def __init__(
        self,
        *,
        blocking: Callable[[], dict[str, Any]],
        blocking_timeout: dict[str, Any],
        probes: dict[str, Callable[[], Awaitable[Any]]],
        required: tuple[str, ...],
        ttl: float = 2.0,
        timeout: float = 0.8,
    ):
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.probes = probes
        self.required = required
        self.ttl = ttl
        self.timeout = timeout
        self.rounds = 0  # rounds of checks run so far (what the cache saves is visible in tests)
        self._thread_job: concurrent.futures.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._round: asyncio.Future | None = None
        self._report: Report | None = None
        self._report_at = 0.0

    def close(self) -> None:
        """Wait for the blocking checks still running, if any."""
        if self._thread_job is not None:
            concurrent.futures.wait([self._thread_job])

    async def report(self) -> Report:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new event loop (a restarted server in the same process): nothing of the old
            # loop's rounds can be awaited here, nor trusted.
            self._loop, self._round, self._report = loop, None, None
        if self._report is not None and time.monotonic() - self._report_at < self.ttl:
            return self._report
        if self._round is None or self._round.done():
            self._round = asyncio.ensure_future(self._run_round())
        try:
            # shield: a caller that gives up (its client left) does not cancel the shared round.
            return await asyncio.wait_for(asyncio.shield(self._round), self.timeout + 0.1)
        except TimeoutError:
            return Report(
                ready=False, checks={**self.blocking_timeout, **dict.fromkeys(self.probes, TIMEOUT)}
            )

    async def _run_round(self) -> Report:
        self.rounds += 1
        names = list(self.probes)
        results = await asyncio.gather(
            self._blocking_checks(), *(self._probe(name) for name in names)
        )
        checks = {**results[0], **dict(zip(names, results[1:], strict=True))}
        report = Report(ready=all(checks.get(name) == OK for name in self.required), checks=checks)
        self._log_changes(report)
        self._report, self._report_at = report, time.monotonic()
        return report

    async def _blocking_checks(self) -> dict[str, Any]:
        if self._thread_job is None or self._thread_job.done():
            self._thread_job = self._start_blocking()
        try:
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(self._thread_job)), self.timeout
            )
        except TimeoutError:
            return dict(self.blocking_timeout)
        except Exception as exc:  # the checks should catch their own failures; in case one did not
            log.warning("readiness checks failed: %s", exc)
            return {
                name: DOWN if value == TIMEOUT else value
                for name, value in self.blocking_timeout.items()
            }

    def _start_blocking(self) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self.blocking())
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="readiness", daemon=True).start()
        return future

    async def _probe(self, name: str) -> Any:
        try:
            return await asyncio.wait_for(self.probes[name](), self.timeout)
        except TimeoutError:
            return TIMEOUT
        except Exception as exc:
            log.debug("readiness check %s failed: %s", name, exc)
            return DOWN

    def _log_changes(self, report: Report) -> None:
        before = self._report.checks if self._report is not None else {}
        for name in self.required:
            value = report.checks.get(name)
            if value != before.get(name, OK):
                if value == OK:
                    log.warning("readiness: %s is back", name)
                else:
                    log.warning("readiness: %s is %s: this process answers not ready", name, value)
