"""A browser-level CDP endpoint for one client of one session, emulated over Playwright's pipe.

The worker's Chromium has no debugging port and serves the sessions of many teams, each in its
own BrowserContext. The only raw CDP access is Playwright's CDPSession, and Playwright's CDPSession
cannot address the flattened child sessions CDP clients use. So each client gets a CdpBridge:

- Its own browser-level CDPSession. The bridge attaches to the session's targets with
  non-flattened sessions (`Target.attachToTarget {flatten: false}`), reaches them with
  `Target.sendMessageToTarget` and hears them through `Target.receivedMessageFromTarget`.
- For the client it emulates a browser that holds only the session's context: flattened sessions
  (a `sessionId` on each message), each mapped to a path of non-flattened sessions (a page's
  frames and workers, auto-attached inside the page, are nested one level deeper). `flatten: true`
  becomes false where auto-attach is forwarded, and the child attach events and messages are
  translated on the way back, recursively.
- Browser-level commands are emulated or scoped to the session's context (see `_root`); the rest
  are refused with an error naming the method (cdp_policy.py has the rules).
- It watches target discovery for the whole browser but keeps and reports only the session's own
  targets, so the client never hears of another session.

Messages from the session's targets are passed on as the text Chromium wrote, with the client's
sessionId spliced in; only Target events are parsed. Nothing here knows about Django.
"""

import asyncio
import contextlib
import functools
import itertools
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import CDPSession
from playwright.async_api import Error as PlaywrightError

from .cdp_policy import (
    ANSWERED_WITHOUT_EFFECT,
    ROOT_TARGET_TYPES,
    Refused,
    check_everywhere,
    check_in_session,
    checked_filter,
    filter_matches,
    refused_at_root,
)
from .session import SessionContext

log = logging.getLogger(__name__)

MAX_SESSIONS = 500  # client sessions one connection may hold
MAX_QUEUED = 1000  # browser-level commands waiting for their turn
NO_SESSION = (-32001, "Session with given id not found.")
_PROTOCOL_ERROR = re.compile(r"Protocol error \([^)]*\): (.*)", re.S)
_NO_REPLY = object()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _new_id() -> str:
    return secrets.token_hex(16).upper()


def _with_session(text: str, session_id: str) -> str:
    """A message Chromium wrote, addressed to a client session: splice in its sessionId."""
    return f'{text[:-1]},"sessionId":"{session_id}"}}'


def _cdp_message(exc: BaseException) -> str:
    match = _PROTOCOL_ERROR.search(str(exc))
    return match.group(1).strip() if match else str(exc).split("\n", 1)[0]


@dataclass(eq=False, slots=True)
class Level:
    """The browser as the client sees it: the connection itself (sid None) or a session the
    client opened with Target.attachToBrowserTarget (Playwright does, for new_cdp_session)."""

    sid: str | None
    auto_attach: bool = False
    attach_filter: list[dict[str, Any]] | None = None
    discover: bool = False
    discover_filter: list[dict[str, Any]] | None = None
    # Targets this level's auto-attach reached (or is reaching): target id -> the attach
    auto: dict[str, asyncio.Future["Route | None"]] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class Route:
    """One client session: a non-flattened session on one target, reached through its parents."""

    client_sid: str
    real_sid: str
    target_id: str
    target_type: str
    parent: "Route | None"
    reported_on: str | None  # the client session its attach and detach are reported on
    auto_from: Level | None = None
    children: dict[str, "Route"] = field(default_factory=dict)  # by real session id
    # Our own Target.sendMessageToTarget wrappers sent in this session (negative ids, never a
    # client's): id -> (client session, client id) to answer if the wrapper fails
    wrappers: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)


class CdpBridge:
    def __init__(
        self,
        session: SessionContext,
        *,
        output: Callable[[str], None],
        ended: Callable[[str], None],
    ):
        self.session = session
        self.context_id = ""
        self.closed = False
        self._output = output
        self._ended = ended
        self._cdp: CDPSession | None = None
        self.targets: dict[str, dict[str, Any]] = {}  # the session's own targets, by id
        self._routes: dict[str, Route] = {}  # by real session id
        self._clients: dict[str, Route | Level] = {}  # by client session id
        self.root = Level(sid=None)
        self._levels: list[Level] = [self.root]
        self._queue: asyncio.Queue[tuple[Route | Level, str | None, int, str, dict[str, Any]]] = (
            asyncio.Queue()
        )
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._wrapper_ids = itertools.count(-1, -1)
        self._attach_infos: dict[str, dict[str, Any]] = {}
        self._detached_early: set[str] = set()
        # The session's tabs in the API's order (tab 0 first): clients list pages in the order
        # they are attached, and notte-sdk takes pages[0] as the session's page.
        self._tab_order: list[str] = []
        self._browser_info = {
            "targetId": _new_id(),
            "type": "browser",
            "title": "",
            "url": "",
            "attached": True,
            "canAccessOpener": False,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the session's context id, then follow target discovery (kept to that context)."""
        context = self.session.context
        for page in self.session.tabs or [self.session.page]:
            probe = await context.new_cdp_session(page)
            try:
                info = (await probe.send("Target.getTargetInfo"))["targetInfo"]
            finally:
                with contextlib.suppress(PlaywrightError):
                    await probe.detach()
            self.context_id = info["browserContextId"]
            self._tab_order.append(info["targetId"])
        browser = context.browser
        if browser is None:
            raise RuntimeError("the session's context has no browser")
        self._cdp = await browser.new_browser_cdp_session()
        self._cdp.on("event", self._on_event)
        self._cdp.on("close", lambda _session: self._end("the browser closed"))
        await self._cdp.send("Target.setDiscoverTargets", {"discover": True, "filter": [{}]})
        self._runner = asyncio.ensure_future(self._run_root())

    async def close(self) -> None:
        """Detach every session this client held; the session's pages stay as they are."""
        if self.closed:
            return
        self.closed = True
        if self._runner:
            self._runner.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._cdp is None:
            return
        tops = [r.real_sid for r in self._routes.values() if r.parent is None]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        self._cdp.send("Target.detachFromTarget", {"sessionId": sid})
                        for sid in tops
                    ),
                    return_exceptions=True,
                ),
                5,
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._cdp.detach(), 5)

    def _end(self, reason: str) -> None:
        if not self.closed:
            self._ended(reason)

    def _spawn(self, awaitable) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- to the client -----------------------------------------------------------------------

    def _emit(self, message: dict[str, Any], session_id: str | None) -> None:
        if session_id is not None:
            message["sessionId"] = session_id
        self._output(_dumps(message))

    def _reply(self, session_id: str | None, msg_id: int, result: Any) -> None:
        self._emit({"id": msg_id, "result": result}, session_id)

    def _error(self, session_id: str | None, msg_id: int | None, code: int, message: str) -> None:
        reply: dict[str, Any] = {"error": {"code": code, "message": message}}
        if msg_id is not None:
            reply = {"id": msg_id, **reply}
        self._emit(reply, session_id)

    def _event(self, session_id: str | None, method: str, params: dict[str, Any]) -> None:
        self._emit({"method": method, "params": params}, session_id)

    # -- from the client ---------------------------------------------------------------------

    def deliver(self, text: str) -> None:
        """One message from the client, in the order sent."""
        if self.closed:
            return
        try:
            message = json.loads(text)
        except ValueError:
            return self._error(None, None, -32700, "Message must be valid JSON")
        if not isinstance(message, dict):
            return self._error(None, None, -32600, "Message must be an object")
        msg_id, method = message.get("id"), message.get("method")
        sid = message.pop("sessionId", None)
        if not isinstance(msg_id, int) or isinstance(msg_id, bool) or not isinstance(method, str):
            return self._error(
                sid, None, -32600, "Message must have integer 'id' and string 'method' properties"
            )
        params = message.setdefault("params", {})
        if not isinstance(params, dict):
            return self._error(sid, msg_id, -32602, "Invalid parameters: params must be an object")
        caller = self.root if sid is None else self._clients.get(sid)
        if caller is None:
            return self._error(sid, msg_id, *NO_SESSION)
        if isinstance(caller, Level) or self._browser_wide(method, params):
            if self._queue.qsize() >= MAX_QUEUED:
                return self._error(
                    sid,
                    msg_id,
                    -32000,
                    "Too many browser-level commands in flight; wait for answers",
                )
            self._queue.put_nowait((caller, sid, msg_id, method, params))
            return None
        try:
            check_in_session(method, params, self.context_id)
        except Refused as refused:
            return self._error(sid, msg_id, refused.code, str(refused))
        if method in ANSWERED_WITHOUT_EFFECT:
            return self._reply(sid, msg_id, {})
        if method == "Target.setAutoAttach":
            if params.get("autoAttach") and params.get("flatten") is not True:
                return self._error(
                    sid,
                    msg_id,
                    -32000,
                    "Target.setAutoAttach: this endpoint serves flattened "
                    "sessions only; pass flatten: true",
                )
            message["params"] = {**params, "flatten": False}
        self._send_down(caller, _dumps(message), sid, msg_id)
        return None

    @staticmethod
    def _browser_wide(method: str, params: dict[str, Any]) -> bool:
        """Target and Browser commands inside a session act on the browser: emulated like at the
        top, except the two that stay inside the target."""
        if method == "Target.setAutoAttach" or (
            method == "Target.getTargetInfo" and not params.get("targetId")
        ):
            return False
        if method == "Browser.getVersion":
            return False
        return method.startswith(("Target.", "Browser."))

    # -- to and from the session's targets ---------------------------------------------------

    def _send_down(
        self, route: Route, text: str, client_sid: str | None, client_id: int | None
    ) -> None:
        """Wrap a message once per level of nesting, then send it through the browser session."""
        while route.parent is not None:
            wrapper_id = next(self._wrapper_ids)
            route.parent.wrappers[wrapper_id] = (client_sid, client_id)
            text = _dumps(
                {
                    "id": wrapper_id,
                    "method": "Target.sendMessageToTarget",
                    "params": {"sessionId": route.real_sid, "message": text},
                }
            )
            route = route.parent
        assert self._cdp is not None
        task = self._spawn(
            self._cdp.send(
                "Target.sendMessageToTarget", {"sessionId": route.real_sid, "message": text}
            )
        )
        task.add_done_callback(functools.partial(self._sent, client_sid, client_id))

    def _sent(
        self, client_sid: str | None, client_id: int | None, task: asyncio.Future[Any]
    ) -> None:
        if task.cancelled() or task.exception() is None or self.closed or client_id is None:
            return
        self._error(client_sid, client_id, *NO_SESSION)

    def _on_event(self, event: dict[str, Any]) -> None:
        """Everything the bridge's browser session hears (Playwright calls this in order)."""
        if self.closed:
            return
        method = event.get("method")
        params = event.get("params") or {}
        if method == "Target.receivedMessageFromTarget":
            route = self._routes.get(params.get("sessionId"))
            if route is not None:
                self._from_target(route, params.get("message") or "")
        elif method == "Target.attachedToTarget":
            if len(self._attach_infos) < MAX_SESSIONS:
                self._attach_infos[params.get("sessionId")] = params.get("targetInfo") or {}
        elif method == "Target.detachedFromTarget":
            route = self._routes.get(params.get("sessionId"))
            if route is not None:
                self._drop(route)
            elif len(self._detached_early) < MAX_SESSIONS:
                self._detached_early.add(params.get("sessionId"))
        elif method in ("Target.targetCreated", "Target.targetInfoChanged"):
            self._target_seen(params.get("targetInfo") or {})
        elif method == "Target.targetDestroyed":
            self._target_gone(params.get("targetId"), "Target.targetDestroyed", params)
        elif method == "Target.targetCrashed" and params.get("targetId") in self.targets:
            self._to_discoverers(
                "Target.targetCrashed", params, self.targets[params["targetId"]].get("type", "")
            )

    def _from_target(self, route: Route, text: str) -> None:
        if text.startswith('{"method":"Target.'):
            message = json.loads(text)
            method, params = message.get("method"), message.get("params") or {}
            if method == "Target.receivedMessageFromTarget":
                child = route.children.get(params.get("sessionId"))
                if child is not None:
                    self._from_target(child, params.get("message") or "")
            elif method == "Target.attachedToTarget":
                self._child_attached(route, params)
            elif method == "Target.detachedFromTarget":
                child = route.children.get(params.get("sessionId"))
                if child is not None:
                    self._drop(child)
            # Other Target events would describe targets beyond this one: never passed on.
            return
        if route.wrappers and text.startswith('{"id":-'):
            message = json.loads(text)
            wrapped = route.wrappers.pop(message.get("id"), None)
            if wrapped is not None:
                client_sid, client_id = wrapped
                if "error" in message and client_id is not None:
                    self._error(client_sid, client_id, *NO_SESSION)
                return
        self._output(_with_session(text.rstrip(), route.client_sid))

    def _child_attached(self, parent: Route, params: dict[str, Any]) -> None:
        info = params.get("targetInfo") or {}
        real = params.get("sessionId")
        if not isinstance(real, str):
            return
        if (
            info.get("browserContextId") not in (None, self.context_id)
            or len(self._clients) >= MAX_SESSIONS
        ):
            self._send_down_internal(
                parent, {"method": "Target.detachFromTarget", "params": {"sessionId": real}}
            )
            return
        child = Route(
            client_sid=_new_id(),
            real_sid=real,
            target_id=str(info.get("targetId", "")),
            target_type=str(info.get("type", "")),
            parent=parent,
            reported_on=parent.client_sid,
        )
        parent.children[real] = child
        self._routes[real] = child
        self._clients[child.client_sid] = child
        self._event(
            parent.client_sid,
            "Target.attachedToTarget",
            {
                "sessionId": child.client_sid,
                "targetInfo": info,
                "waitingForDebugger": bool(params.get("waitingForDebugger")),
            },
        )

    def _send_down_internal(self, route: Route, message: dict[str, Any]) -> None:
        """A command of the bridge's own, inside a client session (its answer is swallowed)."""
        wrapper_id = next(self._wrapper_ids)
        route.wrappers[wrapper_id] = (None, None)
        self._send_down(route, _dumps({"id": wrapper_id, **message}), None, None)

    def _drop(self, route: Route) -> None:
        """The session is gone (its target closed, or it was detached): tell the client."""
        for child in list(route.children.values()):
            self._drop(child)
        if self._routes.pop(route.real_sid, None) is None:
            return
        self._clients.pop(route.client_sid, None)
        if route.parent is not None:
            route.parent.children.pop(route.real_sid, None)
        if route.auto_from is not None:
            route.auto_from.auto.pop(route.target_id, None)
        if route.reported_on is None or route.reported_on in self._clients:
            self._event(
                route.reported_on,
                "Target.detachedFromTarget",
                {"sessionId": route.client_sid, "targetId": route.target_id},
            )

    # -- the session's targets ---------------------------------------------------------------

    def _target_seen(self, info: dict[str, Any]) -> None:
        if info.get("browserContextId") != self.context_id or not info.get("targetId"):
            return  # another session's, or the browser's own
        target_id = info["targetId"]
        new = target_id not in self.targets
        self.targets[target_id] = info
        self._to_discoverers(
            "Target.targetCreated" if new else "Target.targetInfoChanged",
            {"targetInfo": info},
            info.get("type", ""),
        )
        for level in self._levels:
            if (
                level.auto_attach
                and target_id not in level.auto
                and self._auto_eligible(level, info)
            ):
                self._auto_attach(level, info)

    def _in_tab_order(self) -> list[dict[str, Any]]:
        known = {target_id: i for i, target_id in enumerate(self._tab_order)}
        return sorted(
            self.targets.values(), key=lambda info: known.get(info["targetId"], len(known))
        )

    def _target_gone(self, target_id: Any, method: str, params: dict[str, Any]) -> None:
        info = self.targets.pop(target_id, None) if isinstance(target_id, str) else None
        if info is not None:
            self._to_discoverers(method, params, info.get("type", ""))

    def _to_discoverers(self, method: str, params: dict[str, Any], target_type: str) -> None:
        for level in self._levels:
            if level.discover and filter_matches(level.discover_filter, target_type):
                self._event(level.sid, method, params)

    @staticmethod
    def _auto_eligible(level: Level, info: dict[str, Any]) -> bool:
        kind = info.get("type", "")
        return (
            kind in ROOT_TARGET_TYPES
            and not info.get("subtype")
            and filter_matches(level.attach_filter, kind)
        )

    def _auto_attach(self, level: Level, info: dict[str, Any]) -> asyncio.Future["Route | None"]:
        target_id = info["targetId"]
        attach = level.auto.get(target_id)
        if attach is None:
            attach = self._spawn(self._attach(target_id, reported_on=level.sid, auto_from=level))
            level.auto[target_id] = attach

            def forget_failed(done: asyncio.Future[Route | None]) -> None:
                failed = done.cancelled() or done.exception() is not None or done.result() is None
                if failed and level.auto.get(target_id) is done:
                    del level.auto[target_id]

            attach.add_done_callback(forget_failed)
        return attach

    async def _attach(
        self, target_id: str, *, reported_on: str | None, auto_from: Level | None = None
    ) -> Route | None:
        if len(self._clients) >= MAX_SESSIONS:
            raise Refused(
                "Target.attachToTarget", f"a connection may hold at most {MAX_SESSIONS} sessions"
            )
        real = (
            await self._send("Target.attachToTarget", {"targetId": target_id, "flatten": False})
        )["sessionId"]
        info = (
            self._attach_infos.pop(real, None)
            or self.targets.get(target_id)
            or {"targetId": target_id}
        )
        if self.closed or real in self._detached_early:
            self._detached_early.discard(real)
            return None
        route = Route(
            client_sid=_new_id(),
            real_sid=real,
            target_id=target_id,
            target_type=str(info.get("type", "")),
            parent=None,
            reported_on=reported_on,
            auto_from=auto_from,
        )
        self._routes[real] = route
        self._clients[route.client_sid] = route
        self._event(
            reported_on,
            "Target.attachedToTarget",
            {
                "sessionId": route.client_sid,
                "targetInfo": {**info, "attached": True},
                "waitingForDebugger": False,
            },
        )
        return route

    async def _require_ours(self, method: str, target_id: Any) -> dict[str, Any]:
        """A target the command names must be one of the session's (another session's answers
        exactly like one that does not exist)."""
        if not isinstance(target_id, str) or not target_id:
            raise Refused(method, "name one of this session's targets (targetId)")
        if target_id in self.targets:
            return self.targets[target_id]
        try:
            info = (await self._send("Target.getTargetInfo", {"targetId": target_id}))["targetInfo"]
        except PlaywrightError:
            info = None
        if not info or info.get("browserContextId") != self.context_id:
            raise Refused(method, f"target {target_id[:64]} is not one of this session's")
        self._target_seen(info)
        return info

    async def _send(self, method: str, params: dict[str, Any]) -> Any:
        assert self._cdp is not None
        return await self._cdp.send(method, params)

    # -- browser-level commands, one at a time -----------------------------------------------

    async def _run_root(self) -> None:
        while True:
            caller, sid, msg_id, method, params = await self._queue.get()
            try:
                result = await self._root(caller, sid, msg_id, method, params)
            except Refused as refused:
                self._error(sid, msg_id, refused.code, str(refused))
            except PlaywrightError as exc:
                self._error(sid, msg_id, -32000, _cdp_message(exc))
            except Exception as exc:
                log.exception("CDP command %s failed", method)
                self._error(sid, msg_id, -32000, f"{method} failed: {exc}")
            else:
                if result is not _NO_REPLY:
                    self._reply(sid, msg_id, result)

    async def _root(
        self,
        caller: Route | Level,
        sid: str | None,
        msg_id: int,
        method: str,
        params: dict[str, Any],
    ) -> Any:
        check_everywhere(method, params, self.context_id)
        level = caller if isinstance(caller, Level) else None
        match method:
            case "Browser.getVersion":
                return await self._send(method, {})
            case "Browser.close":
                # Ends this client's connection only: the session and its browser go on.
                self._reply(sid, msg_id, {})
                self._end("Browser.close")
                return _NO_REPLY
            case _ if method in ANSWERED_WITHOUT_EFFECT:
                # Downloads stay the worker's: saved in the session's own storage, whatever path
                # the client names (a path on the client's machine means nothing here).
                return {}
            case (
                "Browser.grantPermissions"
                | "Browser.resetPermissions"
                | "Browser.setPermission"
                | "Browser.cancelDownload"
            ):
                return await self._send(method, {**params, "browserContextId": self.context_id})
            case "Browser.getWindowForTarget":
                target_id = params.get("targetId") or (
                    caller.target_id if isinstance(caller, Route) else None
                )
                await self._require_ours(method, target_id)
                return await self._send(method, {"targetId": target_id})
            case "Browser.getWindowBounds" | "Browser.setWindowBounds":
                await self._require_window(method, params.get("windowId"))
                return await self._send(method, params)
            case "Storage.getCookies" | "Storage.setCookies" | "Storage.clearCookies" if (
                level is not None
            ):
                return await self._send(method, {**params, "browserContextId": self.context_id})
            case "Target.getBrowserContexts":
                # The session's context is the client's default one; it has no others.
                return {"browserContextIds": []}
            case "Target.getTargets":
                wanted = checked_filter(method, params.get("filter"))
                return {
                    "targetInfos": [
                        t for t in self._in_tab_order() if filter_matches(wanted, t.get("type", ""))
                    ]
                }
            case "Target.getTargetInfo":
                if not params.get("targetId"):
                    return {"targetInfo": self._browser_info}
                await self._require_ours(method, params["targetId"])
                return await self._send(method, {"targetId": params["targetId"]})
            case "Target.setDiscoverTargets" if level is not None:
                return self._set_discover(level, method, params)
            case "Target.setAutoAttach" if level is not None:
                return await self._set_auto_attach(level, method, params)
            case "Target.attachToTarget":
                if params.get("flatten") is not True:
                    raise Refused(
                        method, "this endpoint serves flattened sessions only; pass flatten: true"
                    )
                await self._require_ours(method, params.get("targetId"))
                route = await self._attach(params["targetId"], reported_on=sid)
                if route is None:
                    raise Refused(method, "the target closed while attaching")
                return {"sessionId": route.client_sid}
            case "Target.attachToBrowserTarget":
                alias = Level(sid=_new_id())
                self._levels.append(alias)
                self._clients[alias.sid] = alias
                self._event(
                    sid,
                    "Target.attachedToTarget",
                    {
                        "sessionId": alias.sid,
                        "targetInfo": self._browser_info,
                        "waitingForDebugger": False,
                    },
                )
                return {"sessionId": alias.sid}
            case "Target.detachFromTarget":
                return await self._detach(method, params)
            case "Target.createTarget":
                return await self._create_target(method, params)
            case "Target.closeTarget":
                await self._require_ours(method, params.get("targetId"))
                return await self._send(method, {"targetId": params["targetId"]})
            case "Target.activateTarget":
                await self._require_ours(method, params.get("targetId"))
                return await self._send(method, {"targetId": params["targetId"]})
        raise refused_at_root(method)

    def _set_discover(self, level: Level, method: str, params: dict[str, Any]) -> dict[str, Any]:
        wanted = checked_filter(method, params.get("filter"))
        if not params.get("discover"):
            level.discover = False
            return {}
        was, level.discover, level.discover_filter = level.discover, True, wanted
        if not was:
            for info in self._in_tab_order():
                if filter_matches(wanted, info.get("type", "")):
                    self._event(level.sid, "Target.targetCreated", {"targetInfo": info})
        return {}

    async def _set_auto_attach(
        self, level: Level, method: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        wanted = checked_filter(method, params.get("filter"))
        if not params.get("autoAttach"):
            level.auto_attach = False
            return {}
        if params.get("flatten") is not True:
            raise Refused(
                method, "this endpoint serves flattened sessions only; pass flatten: true"
            )
        level.auto_attach, level.attach_filter = True, wanted
        # As Chromium does: every matching target is attached before the answer, oldest first
        # (clients list pages in the order they heard of them).
        for info in self._in_tab_order():
            if self._auto_eligible(level, info):
                with contextlib.suppress(Exception):
                    await self._auto_attach(level, info)
        return {}

    async def _detach(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        client = self._clients.get(params.get("sessionId")) if params.get("sessionId") else None
        if client is None and params.get("targetId"):
            client = next(
                (r for r in self._routes.values() if r.target_id == params["targetId"]), None
            )
        if isinstance(client, Level) and client is not self.root:
            self._levels.remove(client)
            self._clients.pop(client.sid, None)
            return {}
        if not isinstance(client, Route):
            raise Refused(method, "no session of this client has that id")
        # Reported at once, before the answer, as Chromium does; its own event then finds no route.
        self._drop(client)
        if client.parent is None:
            with contextlib.suppress(PlaywrightError):
                await self._send(method, {"sessionId": client.real_sid})
        else:
            self._send_down_internal(
                client.parent, {"method": method, "params": {"sessionId": client.real_sid}}
            )
        return {}

    async def _create_target(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        cap = getattr(getattr(self.session, "limits", None), "max_tabs", None)
        if cap and len(self.session.tabs) >= cap:
            raise Refused(method, f"this session may have at most {cap} tabs")
        target_id = (await self._send(method, {**params, "browserContextId": self.context_id}))[
            "targetId"
        ]
        if target_id not in self.targets:
            info = (await self._send("Target.getTargetInfo", {"targetId": target_id}))["targetInfo"]
            self._target_seen(info)
        info = self.targets.get(target_id)
        if info is not None:
            # A client that auto-attaches hears of the new page before the answer (Playwright needs it).
            attaching = [
                self._auto_attach(level, info)
                for level in self._levels
                if level.auto_attach and self._auto_eligible(level, info)
            ]
            await asyncio.gather(*attaching, return_exceptions=True)
        return {"targetId": target_id}

    async def _require_window(self, method: str, window_id: Any) -> None:
        windows = set()
        for target_id, info in list(self.targets.items()):
            if info.get("type") == "page" and not info.get("subtype"):
                with contextlib.suppress(PlaywrightError):
                    windows.add(
                        (await self._send("Browser.getWindowForTarget", {"targetId": target_id}))[
                            "windowId"
                        ]
                    )
        if window_id not in windows:
            raise Refused(method, "that window holds none of this session's tabs")
