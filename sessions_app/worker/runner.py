"""The browser worker: the only Django-aware code that drives browser/.

It takes starts from the shared queue while it has room, serves commands for its own sessions
on its own channel, heartbeats, enforces idle and max-duration timeouts, and ends the sessions
of workers that stopped heartbeating.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.urls import reverse

from browser import processes
from browser.egress import Traffic
from browser.errors import SessionNotFound, UnsupportedOption
from browser.pool import BrowserPool
from browser.scrape import ScrapeError
from browser.session import SessionContext
from browser.types import ProxySpec, SessionSpec
from sessions_app import events, selectors, services
from sessions_app.models import BrowserWorker, SessionStatus

from . import page_commands, persona_reads, programs
from .cdp import CdpHub
from .config import launch_config, session_limits
from .layers import worker_layers
from .live import LiveHub
from .protocol import CDP_RELAY, START_QUEUE, Command, Reply, failure, not_here, ok
from .vault_fills import VaultFills

log = logging.getLogger(__name__)

REAPER_INTERVAL = 1.0
COMMAND_SECONDS = 45.0  # a command that names no deadline (callers always do) gets this long
ACTIVITY_SAVE_SECONDS = 5.0
SETTLES_PENDING_STEP = frozenset(
    {"session.execute", "session.cookies.set", "session.stop", "session.sync"}
)


@dataclass(slots=True)
class PendingStep:
    """An executed action whose step row waits for its screenshot."""

    index: int
    action: dict[str, Any]
    result: dict[str, Any]
    done_at: float


class Worker:
    def __init__(
        self,
        *,
        capacity: int | None = None,
        warm_contexts: int | None = None,
        heartbeat_seconds: float | None = None,
        stale_after_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.capacity = capacity or settings.PERISCOPE_WORKER_CAPACITY
        self.warm_contexts = (
            settings.PERISCOPE_WARM_CONTEXTS if warm_contexts is None else warm_contexts
        )
        self.heartbeat_seconds = heartbeat_seconds or settings.PERISCOPE_HEARTBEAT_SECONDS
        self.stale_after = timedelta(
            seconds=stale_after_seconds or settings.PERISCOPE_WORKER_STALE_SECONDS
        )
        # The wall clock the idle and max-duration timeouts are checked against.
        self.clock = clock
        self.pool: BrowserPool | None = None
        self.live: LiveHub | None = None
        self.vaults = VaultFills()
        self._personas: dict[str, str] = {}  # session -> the persona whose mail it reads
        self.cdp: CdpHub | None = None
        self.record: BrowserWorker | None = None
        self.channel = ""
        self.ready = asyncio.Event()
        self._starting = 0
        self._room = asyncio.Condition()
        self._locks: dict[str, asyncio.Lock] = {}
        self._step_counters: dict[str, int] = {}
        self._pending_steps: dict[str, PendingStep] = {}
        self._step_writes: dict[str, asyncio.Future[None]] = {}
        self._session_tasks: dict[str, set[asyncio.Task[Any]]] = {}
        # The team each open session belongs to: a command naming another team is refused as
        # if the session did not exist, whatever route the caller had for it.
        self._teams: dict[str, str] = {}
        # Last command per session (by self.clock), kept here rather than written per command;
        # the reaper checks idle timeouts against it and saves it to the row every few seconds.
        self._activity: dict[str, float] = {}
        self._activity_saved: dict[str, float] = {}
        # Egress bytes (sent, received) last written to each session's row.
        self._traffic_saved: dict[str, tuple[int, int]] = {}
        self._traffic_saved_at = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        layer, queue_layer = worker_layers()
        self.channel = await layer.new_channel("browser-worker.")
        await self._clean_up_after_predecessors()
        self.live = LiveHub(
            layer,
            clock=self.clock,
            lease_seconds=settings.PERISCOPE_CONTROL_LEASE_SECONDS,
            scrub=self.vaults.scrub_data,
        )
        self.cdp = CdpHub(layer, on_activity=self._touch)
        self.pool = BrowserPool(
            launch_config(),
            limits=session_limits(),
            warm_size=self.warm_contexts,
            on_lost=self._on_lost,
        )
        try:
            await self.pool.start()
        except BaseException:
            # Playwright's driver (and Xvfb) would outlive a pool that failed to start.
            await self.pool.stop()
            raise
        self.record = await sync_to_async(services.worker_register)(
            channel=self.channel,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            capacity=self.capacity,
        )
        log.info("browser worker %s ready (capacity %d)", self.record, self.capacity)
        loops = [
            asyncio.ensure_future(self._serve_queue(queue_layer, reply_layer=layer)),
            asyncio.ensure_future(self._serve_own(layer)),
            asyncio.ensure_future(self._heartbeat()),
            asyncio.ensure_future(self._reaper()),
        ]
        self.ready.set()
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._shutdown()

    async def _clean_up_after_predecessors(self) -> None:
        """A worker that crashed left sessions marked live, and maybe Chromium processes and
        folders: end the sessions, kill the processes, delete the folders (only this install's)."""
        # Chromium helpers orphaned by a killed browser come to this process, which reaps them.
        processes.become_subreaper()
        await asyncio.to_thread(processes.sweep, settings.PERISCOPE_RUNTIME_DIR)
        await sync_to_async(services.workers_reap_dead_on_host)(
            hostname=socket.gethostname(), alive=processes.process_started_before
        )

    async def _shutdown(self) -> None:
        if self.cdp:
            await self.cdp.close_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.record:
            with contextlib.suppress(Exception):
                await sync_to_async(services.worker_stopped)(worker=self.record, reason="shutdown")
        if self.pool:
            await self.pool.stop()
        log.info("browser worker %s stopped", self.record)

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- receiving ---------------------------------------------------------------------------

    def _has_room(self) -> bool:
        assert self.pool
        return len(self.pool.session_ids()) + self._starting < self.capacity

    async def _serve_queue(self, queue_layer, *, reply_layer) -> None:
        while True:
            async with self._room:
                await self._room.wait_for(self._has_room)
            message = await queue_layer.receive(START_QUEUE)
            self._starting += 1
            handler = (
                self._oneshot_scrape if message.get("type") == "scrape.oneshot" else self._start
            )
            self._spawn(handler(reply_layer, message))

    async def _serve_own(self, layer) -> None:
        while True:
            message = await layer.receive(self.channel)
            if message.get("type") in CDP_RELAY and self.cdp is not None:
                if message["type"] == "session.cdp.in":
                    self.cdp.deliver(message)
                else:
                    self.cdp.hang_up(message)
                continue
            self._spawn(self._command(layer, message))

    def _touch(self, session_id: str) -> None:
        """Activity on the session (a CDP client's message): it holds off the idle timeout."""
        if session_id in self._teams:
            self._activity[session_id] = self.clock()

    async def _reply(self, layer, message: Command, reply: Reply) -> None:
        with contextlib.suppress(Exception):
            await layer.send(message["reply_to"], reply)

    async def _room_changed(self) -> None:
        async with self._room:
            self._room.notify_all()

    # -- commands ----------------------------------------------------------------------------

    async def _start(self, layer, message: Command) -> None:
        assert self.pool and self.record
        session_id = message["session_id"]
        try:
            if message.get("deadline", 0) < time.time():
                log.warning("dropping start of %s: its caller stopped waiting", session_id)
                return
            reply = await self._open(message)
            await self._reply(layer, message, reply)
            self.pool.refill_soon()
        finally:
            self._starting -= 1
            await self._room_changed()

    async def _oneshot_scrape(self, layer, message: Command) -> None:
        """POST /api/scrape: the session row is reserved by the caller; open, goto, scrape, close."""
        assert self.pool
        session_id = message["session_id"]
        try:
            opened = await self._open(message)
            if not opened["ok"]:
                reply = opened
            else:
                session = self.pool.get(session_id)
                goto = await page_commands.execute_action(
                    session,
                    {"type": "goto", "url": message["url"], "timeout": 30000},
                    allow_evaluate_js=False,
                )
                if not goto["success"]:
                    reply = failure(422, goto["message"], "url")
                else:
                    reply = ok(
                        await page_commands.scrape(session, message["options"], follow_refresh=True)
                    )
        except ScrapeError as exc:
            reply = scrape_failure(exc)
        except Exception as exc:
            log.exception("one-shot scrape failed")
            reply = failure(500, f"the scrape failed: {exc}")
        finally:
            await self._close_session(session_id)
            self._forget(session_id)
            self._starting -= 1
            await self._room_changed()
        await self._reply(layer, message, reply)
        self.pool.refill_soon()

    async def _open(self, message: Command) -> Reply:
        assert self.pool and self.record
        spec = dict(message["spec"])
        proxy = spec.pop("proxy", None)
        session_id = message["session_id"]
        try:
            await self.pool.open(
                SessionSpec(**spec, proxy=ProxySpec(**proxy) if proxy else None), refill=False
            )
        except UnsupportedOption as exc:
            return failure(422, exc.message, exc.field)
        except Exception as exc:
            log.exception("could not open a context for %s", session_id)
            return failure(500, f"the browser could not open the session: {exc}")
        self._teams[session_id] = message["team_id"]
        try:
            if not await sync_to_async(services.session_mark_active)(
                session_id=session_id, worker=self.record
            ):
                await self._close_session(session_id)
                self._forget(session_id)
                return failure(
                    409, "the session was given up before the browser was ready; start a new one"
                )
            assert self.live
            session = self.pool.get(session_id)
            self.vaults.open(session, vault_id=message.get("vault_id") or "")
            if message.get("persona_id"):
                self._personas[session_id] = message["persona_id"]
            self.live.attach(session)
        except Exception as exc:
            # A failed start holds no context, slot or folder (the caller ends the row).
            log.exception("could not start session %s", session_id)
            await self._close_session(session_id)
            self._forget(session_id)
            return failure(500, f"the session could not be started: {exc}")
        return ok({"worker_channel": self.channel})

    def _forget(self, session_id: str, reason: str = "the session ended") -> None:
        if self.live is not None and session_id in self._teams:
            self._spawn(self.live.forget(session_id, reason))
        self.vaults.forget(session_id)
        self._personas.pop(session_id, None)
        for task in self._session_tasks.pop(session_id, set()):
            task.cancel()  # programs (agents) end with their session
        if self.cdp is not None and self.cdp.count(session_id):
            self._spawn(self.cdp.session_ended(session_id, reason))
        for table in (
            self._teams,
            self._locks,
            self._step_counters,
            self._pending_steps,
            self._activity,
            self._activity_saved,
            self._traffic_saved,
        ):
            table.pop(session_id, None)

    async def _command(self, layer, message: Command) -> None:
        assert self.pool
        session_id = message.get("session_id", "")
        if self._teams.get(session_id) != message.get("team_id"):
            # Another team's session answers exactly like one this worker does not hold.
            await self._reply(layer, message, not_here(session_id))
            return
        if message["type"] == "session.input":
            # A person's input: no reply (nobody waits for it); the lease is the authorization.
            # It takes the session's lock, so clicks and keys reach the page in the order sent.
            if self.live is not None and session_id in self.pool.session_ids():
                self._activity[session_id] = self.clock()
                async with self._locks.setdefault(session_id, asyncio.Lock()):
                    await self.live.input(self.pool.get(session_id), message.get("event") or {})
            return
        if message["type"] in ("session.cdp.open", "session.cdp.ping"):
            # Not behind the session's lock: a long action must not hold up a client's handshake.
            await self._reply(layer, message, await self._cdp_command(message))
            return
        if message["type"] not in ("session.sync", "session.unwatch"):
            self._activity[session_id] = self.clock()
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        if message["type"] == "session.stop" and lock.locked():
            # Another command holds the page, maybe one that never returns (a page looping in
            # script): stopping does not wait for it, it fails once the context is gone.
            reply = await self._dispatch(message)
        else:
            async with lock:
                reply = await self._locked_command(session_id, message)
        if session_id not in self.pool.session_ids():
            self._forget(session_id)
        await self._reply(layer, message, reply)
        if message["type"] == "session.execute" and session_id in self._pending_steps:
            self._spawn(self._finish_step(session_id, self._pending_steps[session_id]))

    async def _locked_command(self, session_id: str, message: Command) -> Reply:
        """Run a command on the session's page, within what its caller waits: a page that does
        not answer (script looping for ever) gets a reply in time and frees the lock."""
        seconds = max(
            1.0, message.get("deadline", time.time() + COMMAND_SECONDS) - time.time() - 0.5
        )
        try:
            async with asyncio.timeout(seconds):
                # A step still waiting for its screenshot takes what is on screen now, before a
                # command that changes the page runs. Reading commands leave it be: the step's
                # own wait for the screencast goes on beside them, off their latency.
                if session_id in self._pending_steps and message["type"] in SETTLES_PENDING_STEP:
                    await self._settle_step(session_id, self._pending_steps.pop(session_id))
                return await self._dispatch(message)
        except TimeoutError:
            log.warning(
                "command %s on %s: the page did not answer within %.0f s",
                message.get("type"),
                session_id,
                seconds,
            )
            return failure(
                504,
                f"The session's page did not answer within {seconds:.0f} s (it may be running "
                "script that never yields); try again, or stop the session",
            )
        except SessionNotFound:
            return not_here(session_id)
        except ScrapeError as exc:
            return scrape_failure(exc)
        except Exception as exc:
            log.exception("command %s on %s failed", message.get("type"), session_id)
            return failure(500, f"{message.get('type')} failed: {exc}")

    async def _dispatch(self, message: Command) -> Reply:
        assert self.pool and self.live
        session_id = message["session_id"]
        match message["type"]:
            case "session.stop":
                closed = await self._close_session(session_id)
                await self._room_changed()
                return ok({"closed": closed})
            case "session.sync":
                # Pending steps were settled before dispatch; their rows must be written too, so
                # that a read after this reply sees them.
                if write := self._step_writes.get(session_id):
                    await asyncio.shield(write)
                traffic = self.pool.get(session_id).traffic
                return ok(
                    {
                        "network_request_bytes": traffic.sent,
                        "network_response_bytes": traffic.received,
                    }
                )
            case "session.cookies.get":
                if self.vaults.used(session_id) and not message.get("may_reveal"):
                    # Cookies of a vault login are worth the login itself.
                    return failure(
                        403,
                        "This session has filled vault secrets, so its cookies are secret too: "
                        "read them with a key that has the 'vaults.reveal' scope",
                    )
                return ok(await self.pool.get(session_id).cookies())
            case "session.cookies.set":
                await self.pool.get(session_id).add_cookies(message["cookies"])
                return ok({"count": len(message["cookies"])})
            case "session.observe":
                session = self.pool.get(session_id)
                if message.get("max_nb_actions"):
                    wire = await page_commands.observe_wire(
                        session, max_nb_actions=message["max_nb_actions"]
                    )
                    return ok({**wire, "json": self.vaults.scrub(session_id, wire["json"])})
                return ok(
                    self.vaults.scrub_data(session_id, await page_commands.observe_page(session))
                )
            case "session.execute":
                if holder := self.live.holder(session_id):
                    return failure(
                        409,
                        f"{holder} has taken control of this session in the console; try again "
                        "once they hand it back",
                    )
                return ok(await self._execute_locked(session_id, message["action"]))
            case "session.watch":
                return ok(
                    await self.live.watch(
                        self.pool.get(session_id), message["channel"], message["rate"]
                    )
                )
            case "session.unwatch":
                session = (
                    self.pool.get(session_id) if session_id in self.pool.session_ids() else None
                )
                await self.live.unwatch(session, session_id, message["channel"])
                return ok(None)
            case "session.control":
                self.pool.get(session_id)
                self.live.set_holder(
                    session_id, message.get("holder"), message.get("holder_user_id")
                )
                return ok(None)
            case "session.tabs":
                return ok(await page_commands.tabs(self.pool.get(session_id)))
            case "session.scrape":
                scraped = await page_commands.scrape(self.pool.get(session_id), message["options"])
                return ok(self.vaults.scrub_data(session_id, scraped))
            case "session.screenshot":
                image = await page_commands.page_screenshot(
                    self.pool.get(session_id),
                    image_type=message["image_type"],
                    quality=message.get("quality"),
                    full_page=message.get("full_page", False),
                )
                return ok(image)
        if handler := programs.handler_for(message["type"]):
            self.pool.get(session_id)  # the session must be here
            return ok(await handler(programs.SessionHandle(self, session_id), message))
        return failure(400, f"unknown command {message['type']!r}")

    async def _execute_locked(
        self, session_id: str, action: dict[str, Any], *, describe_target: bool = False
    ) -> dict[str, Any]:
        """One step, the session's lock held: run it and leave its screenshot and row pending."""
        assert self.pool
        session = self.pool.get(session_id)
        index = await self._next_step_index(session_id)
        self._spawn(
            events.publish(
                session_id,
                events.StepStarted(
                    type="step.started",
                    index=index,
                    action=page_commands.masked(action),
                    url=session.page.url,
                ),
            )
        )
        persona_id = self._personas.get(session_id)
        if action["type"] in ("email_read", "sms_read") and persona_id:
            result = await persona_reads.read_messages(persona_id, action, session.page.url)
        else:
            result = await page_commands.execute_action(
                session,
                action,
                allow_evaluate_js=settings.PERISCOPE_ALLOW_EVALUATE_JS,
                fill_value=self.vaults.resolver(session_id, index),
                describe_target=describe_target,
            )
        result = self.vaults.scrub_data(session_id, result)  # a page may echo what was typed
        self._pending_steps[session_id] = PendingStep(index, action, result, time.monotonic())
        return result

    # -- what programs running in this worker may do (see programs.py) ------------------------

    def holds(self, session_id: str) -> bool:
        return self.pool is not None and session_id in self.pool.session_ids()

    def spawn_for_session(self, session_id: str, coro) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        tasks = self._session_tasks.setdefault(session_id, set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def program_observe(self, session_id: str, max_nb_actions: int) -> dict[str, Any]:
        assert self.pool
        self._activity[session_id] = self.clock()
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            raw = await page_commands.observe_wire(
                self.pool.get(session_id), max_nb_actions=max_nb_actions
            )
        # A program may hand what it observes to a model: filled vault values never reach it.
        return {**orjson.loads(self.vaults.scrub(session_id, raw["json"])), "count": raw["count"]}

    async def program_execute(self, session_id: str, action: dict[str, Any]) -> dict[str, Any]:
        self._activity[session_id] = self.clock()
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            if session_id in self._pending_steps:
                await self._settle_step(session_id, self._pending_steps.pop(session_id))
            # A program keeps a replayable record, so its steps describe their elements.
            result = await self._execute_locked(session_id, action, describe_target=True)
            pending = self._pending_steps[session_id]
        self._spawn(self._finish_step(session_id, pending))
        return {**result, "session_step_index": pending.index}

    def program_attach(self, session_id: str, *, vault_id: str, persona_id: str) -> None:
        assert self.pool
        session = self.pool.get(session_id)
        if vault_id and not self.vaults.opened(session_id):
            self.vaults.open(session, vault_id=vault_id)
        if persona_id:
            self._personas.setdefault(session_id, persona_id)

    async def program_screenshot(self, session_id: str) -> bytes:
        assert self.pool
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            return await page_commands.step_screenshot(self.pool.get(session_id))

    async def _cdp_command(self, message: Command) -> Reply:
        assert self.pool and self.cdp
        session_id = message["session_id"]
        if message["type"] == "session.cdp.ping":
            return ok({"open": self.cdp.ping(message)})
        if session_id not in self.pool.session_ids():
            return not_here(session_id)
        self._activity[session_id] = self.clock()
        try:
            bridge = await self.cdp.open(
                self.pool.get(session_id), team_id=message["team_id"], channel=message["channel"]
            )
        except Exception as exc:
            log.exception("could not open a CDP bridge to %s", session_id)
            return failure(500, f"could not attach to the session's browser: {exc}")
        return ok({"bridge": bridge})

    async def _next_step_index(self, session_id: str) -> int:
        if session_id not in self._step_counters:
            self._step_counters[session_id] = await sync_to_async(selectors.step_count)(
                session_id=session_id
            )
        self._step_counters[session_id] += 1
        return self._step_counters[session_id]

    async def _finish_step(self, session_id: str, pending: PendingStep) -> None:
        """The step's screenshot is the screencast's first frame after the action (or the
        current one once the page had time to change): no capture on the hot path."""
        assert self.pool
        try:
            session = self.pool.get(session_id)
        except SessionNotFound:
            return
        if session.frames:
            await session.frames.wait_next(after=pending.done_at)
        if self._pending_steps.get(session_id) is not pending:
            return  # the next command settled it already
        del self._pending_steps[session_id]
        await self._settle_step(session_id, pending)

    async def _settle_step(self, session_id: str, pending: PendingStep) -> None:
        assert self.pool
        # From here until its row is written, a read of this session (session.sync) waits for the
        # step: its screenshot is taken first, and that wait must not let a read slip past it.
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._step_writes[session_id] = written
        written.add_done_callback(
            lambda f: (
                self._step_writes.pop(session_id, None)
                if self._step_writes.get(session_id) is f
                else None
            )
        )
        result = pending.result
        try:
            session = self.pool.get(session_id)
            # What the browser did on its own after the action answered (a popup over the tab cap
            # closed...) belongs to this step; later notes go with the next action.
            if notes := session.take_notes():
                result = {**result, "message": "; ".join([result["message"], *notes])}
            # current_frame uses the screencast's frame if one arrived after the action, else captures.
            image = await page_commands.step_screenshot(session)
        except Exception:
            image = b""
        except BaseException:  # cancelled (shutdown): no row will come, readers must not wait
            written.set_result(None)
            raise
        write = asyncio.ensure_future(
            self._write_step(session_id, pending.index, pending.action, result, image)
        )
        self._tasks.add(write)
        write.add_done_callback(self._tasks.discard)
        write.add_done_callback(lambda _t: written.done() or written.set_result(None))

    async def _write_step(self, session_id, index, action, result, image: bytes) -> None:
        shown = page_commands.masked(action)
        duration_ms = (result["ended_at"] - result["started_at"]) * 1000
        try:
            # Its own thread: saving the screenshot must not queue behind web requests' queries.
            step = await sync_to_async(services.step_record, thread_sensitive=False)(
                session_id=session_id,
                index=index,
                action=shown,
                success=result["success"],
                message=result["message"],
                url_before=result["url_before"],
                url_after=result["url_after"],
                duration_ms=duration_ms,
                screenshot=image,
                target=result.get("target"),
            )
        except Exception:
            log.exception("could not record step %s of %s", index, session_id)
            return
        await events.publish(
            session_id,
            events.StepFinished(
                type="step.finished",
                index=index,
                action=shown,
                success=result["success"],
                message=result["message"],
                url=result["url_after"],
                duration_ms=duration_ms,
                screenshot_url=reverse("sessions_app:step_screenshot", args=[session_id, index])
                if step is not None and step.screenshot
                else None,
            ),
        )

    async def _close_session(self, session_id: str) -> bool:
        """Close the session's context and write its final egress byte counts."""
        assert self.pool
        try:
            session = self.pool.get(session_id)
        except SessionNotFound:
            return False
        closed = await self.pool.close(session_id)
        await self._save_traffic({session_id: session.traffic})
        return closed

    async def _on_lost(self, session: SessionContext, reason: str) -> None:
        session_id = session.session_id
        with contextlib.suppress(Exception):
            await self._save_traffic({session_id: session.traffic})
        self._forget(session_id)
        await sync_to_async(services.session_mark_ended)(
            session_id=session_id, status=SessionStatus.ERROR, reason=reason, error=reason
        )
        await self._room_changed()

    # -- housekeeping ------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        assert self.pool and self.record
        while True:
            stats = self.pool.stats(with_pids=False)
            try:
                await sync_to_async(_heartbeat_db)(self.record, stats.sessions, stats.contexts)
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(self.heartbeat_seconds)

    async def _reaper(self) -> None:
        ticks = 0
        while True:
            try:
                processes.reap_orphans()
                await self._enforce_deadlines()
                if self.live is not None:
                    await self.live.housekeeping(self._held)
                if self.cdp is not None:
                    await self.cdp.housekeeping()
                if ticks % 2 == 0:
                    await sync_to_async(services.workers_reap_stale)(stale_after=self.stale_after)
            except Exception:
                log.exception("reaper pass failed")
            ticks += 1
            await asyncio.sleep(REAPER_INTERVAL)

    def _held(self, session_id: str) -> SessionContext | None:
        assert self.pool
        return self.pool.get(session_id) if session_id in self.pool.session_ids() else None

    async def _save_activity(self) -> None:
        """Write each session's last command time to its row, at most every few seconds."""
        due = {
            session_id: at
            for session_id, at in self._activity.items()
            if at - self._activity_saved.get(session_id, 0.0) >= ACTIVITY_SAVE_SECONDS
        }
        if due:
            await sync_to_async(services.session_activity_save)(activity=due)
            self._activity_saved.update(due)
        now = time.monotonic()
        if now - self._traffic_saved_at >= ACTIVITY_SAVE_SECONDS:
            self._traffic_saved_at = now
            assert self.pool
            sessions = {}
            for session_id in self.pool.session_ids():
                with contextlib.suppress(SessionNotFound):
                    sessions[session_id] = self.pool.get(session_id).traffic
            await self._save_traffic(sessions)

    async def _save_traffic(self, sessions: dict[str, Traffic]) -> None:
        """Write the egress byte counts that changed since they were last written."""
        changed = {
            session_id: (traffic.sent, traffic.received)
            for session_id, traffic in sessions.items()
            if (traffic.sent, traffic.received) != self._traffic_saved.get(session_id, (0, 0))
        }
        if changed:
            await sync_to_async(services.session_traffic_save)(traffic=changed)
            self._traffic_saved.update(changed)

    async def _enforce_deadlines(self) -> None:
        assert self.pool
        ids = self.pool.session_ids()
        if not ids:
            return
        await self._save_activity()
        rows = await sync_to_async(selectors.session_deadlines)(session_ids=ids)
        now = self.clock()
        for session_id in ids:
            row = rows.get(session_id)
            if row is None or row["status"] not in (SessionStatus.STARTING, SessionStatus.ACTIVE):
                # Ended elsewhere (stop, lost worker, deleted): the context must not outlive it.
                if row is None or row["status"] != SessionStatus.STARTING:
                    await self._close_session(session_id)
                    self._forget(session_id)
                    await self._room_changed()
                continue
            reason = _expired(row, now, self._activity.get(session_id))
            if reason:
                await self._close_session(session_id)
                self._forget(session_id)
                await sync_to_async(services.session_mark_ended)(
                    session_id=session_id, status=SessionStatus.TIMED_OUT, reason=reason
                )
                await self._room_changed()


def scrape_failure(exc: ScrapeError) -> Reply:
    """A scrape that cannot be done as asked: 422 naming the field to change (a selector that is
    not valid CSS or matches nothing), else 409 (the page would not hold still)."""
    return failure(422, str(exc), exc.field) if exc.field else failure(409, str(exc))


def _heartbeat_db(worker: BrowserWorker, sessions: int, contexts: int) -> None:
    close_old_connections()
    services.worker_heartbeat(worker=worker, sessions=sessions, contexts=contexts)


def _expired(row: dict[str, Any], now: float, activity: float | None) -> str | None:
    if now >= row["created_at"].timestamp() + row["max_duration_minutes"] * 60:
        return f"max duration reached ({row['max_duration_minutes']} min)"
    last = max(row["last_accessed_at"].timestamp(), activity or 0.0)
    if now >= last + row["idle_timeout_minutes"] * 60:
        return f"idle timeout ({row['idle_timeout_minutes']} min without activity)"
    return None
