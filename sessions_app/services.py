"""Writes for browser sessions. Sync functions are one transaction each; the async ones
orchestrate a state change that needs a browser worker (reserve row -> command -> result)."""

import contextlib
import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound, PeriscopeError, RateLimited, Unavailable
from personas_app.selectors import persona_for_vault, persona_get_for_team
from teams_app.models import ApiKey, AuditAction, Membership, Team
from teams_app.services import audit_record
from vaults_app.actors import (
    Permission,
    VaultActor,
    actor_for_api_key,
    actor_for_membership,
    system_actor,
)
from vaults_app.fill import vault_check_usable

from . import events, selectors, signals, worker_routes
from .control import control_end
from .models import LIVE_STATUSES, BrowserSession, BrowserWorker, SessionEvent, SessionStatus, Step
from .schemas import Cookie
from .start_options import StartOptions
from .worker import client
from .worker.protocol import START_QUEUE

log = logging.getLogger(__name__)


# -- sync writes ---------------------------------------------------------------------------------


def live_session_count(*, team: Team) -> int:
    return BrowserSession.objects.filter(team=team, status__in=LIVE_STATUSES).count()


def team_cap_check(*, team: Team, extra: int = 0) -> None:
    """Raise 429 when the team already runs as many browser contexts as it may. Call it inside a
    transaction holding the team row's lock, so two starts cannot both take the last slot."""
    live = live_session_count(team=team) + extra
    cap = settings.PERISCOPE_TEAM_SESSION_CAP
    if live >= cap:
        raise RateLimited(
            f"Team {team.name} already has {live} active sessions, the most it may run at once "
            f"({cap}); stop one and try again",
            headers={"Retry-After": "5"},
        )


@transaction.atomic
def session_reserve(
    *,
    team: Team,
    options: StartOptions,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> BrowserSession:
    """Create the row in `starting`, within the team's concurrency cap (checked under a lock)."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    team_cap_check(team=team)
    session = BrowserSession.objects.create(
        team=team,
        started_by_user=user if user and user.is_authenticated else None,
        started_by_key=api_key,
        status=SessionStatus.STARTING,
        **options.model_fields(),
    )
    SessionEvent.objects.create(
        session=session, status=SessionStatus.STARTING, reason="start requested"
    )
    events.status_changed(
        session_id=str(session.id),
        team_id=str(team.pk),
        status=session.status,
        reason="start requested",
    )
    return session


@transaction.atomic
def session_mark_active(*, session_id: str, worker: BrowserWorker) -> bool:
    """The worker holds a usable page. False if the row gave up waiting meanwhile."""
    session = BrowserSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.status != SessionStatus.STARTING:
        return False
    now = timezone.now()
    session.status = SessionStatus.ACTIVE
    session.worker = worker
    session.worker_channel = worker.channel
    session.last_accessed_at = now
    session.save(update_fields=["status", "worker", "worker_channel", "last_accessed_at"])
    reason = f"browser ready on {worker}"
    SessionEvent.objects.create(session=session, status=SessionStatus.ACTIVE, reason=reason)
    events.status_changed(
        session_id=str(session.id),
        team_id=str(session.team_id),
        status=session.status,
        reason=reason,
    )
    return True


@transaction.atomic
def session_mark_ended(*, session_id: str, status: str, reason: str, error: str = "") -> bool:
    """Idempotent: only a live session changes; returns whether this call ended it."""
    session = BrowserSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.status not in LIVE_STATUSES:
        return False
    session.status = status
    session.closed_at = timezone.now()
    session.error = error
    session.save(update_fields=["status", "closed_at", "error"])
    SessionEvent.objects.create(session=session, status=status, reason=reason[:300])
    control_end(session_id=session_id, reason="the session ended")
    events.status_changed(
        session_id=str(session.id), team_id=str(session.team_id), status=status, reason=reason[:300]
    )
    transaction.on_commit(
        lambda: signals.session_ended.send(
            sender=BrowserSession, session_id=str(session.id), status=status, reason=reason[:300]
        )
    )
    return True


@transaction.atomic
def session_attach_vault(*, session_id: str, vault_id: str = "", persona_id: str = "") -> None:
    """A program (an agent) brings a vault or a persona to a session that started without one.
    A session keeps the vault it has: filling from two would blur whose secrets it holds."""
    session = BrowserSession.objects.select_for_update().get(pk=session_id)
    if vault_id and session.vault_id and session.vault_id != vault_id:
        raise InvalidInput(
            "vault_id",
            f"session {session_id} fills from vault {session.vault_id}; use that vault "
            "or start a new session",
        )
    if persona_id and session.persona_id and session.persona_id != persona_id:
        raise InvalidInput(
            "persona_id",
            f"session {session_id} belongs to persona {session.persona_id}; use "
            "that persona or start a new session",
        )
    fields = []
    if vault_id and not session.vault_id:
        session.vault_id = vault_id
        fields.append("vault_id")
    if persona_id and not session.persona_id:
        session.persona_id = persona_id
        fields.append("persona_id")
    if fields:
        session.save(update_fields=fields)


def step_record(
    *,
    session_id: str,
    index: int,
    action: dict[str, Any],
    success: bool,
    message: str,
    url_before: str,
    url_after: str,
    duration_ms: float,
    screenshot: bytes,
    target: dict[str, Any] | None = None,
) -> Step | None:
    if not BrowserSession.objects.filter(pk=session_id).exists():
        return None  # the session was deleted meanwhile
    step = Step(
        session_id=session_id,
        index=index,
        action=action,
        success=success,
        message=message[:2000],
        url_before=url_before[:2000],
        url_after=url_after[:2000],
        duration_ms=duration_ms,
        target=target,
    )
    if screenshot:
        step.screenshot.save(f"{session_id}/{index:05d}.jpg", ContentFile(screenshot), save=False)
    step.save()
    return step


def session_activity_save(*, activity: dict[str, float]) -> None:
    """The worker's record of each session's last command (epoch seconds), for status and the
    idle timeout of whichever worker reads the row next."""
    for session_id, at in activity.items():
        when = datetime.fromtimestamp(at, tz=UTC)
        BrowserSession.objects.filter(pk=session_id, last_accessed_at__lt=when).update(
            last_accessed_at=when
        )


def session_traffic_save(*, traffic: dict[str, tuple[int, int]]) -> None:
    """The bytes each session's pages sent and received through the egress proxy so far."""
    for session_id, (sent, received) in traffic.items():
        BrowserSession.objects.filter(pk=session_id).update(
            network_request_bytes=sent, network_response_bytes=received
        )


def _session_persona(*, team: Team, options: StartOptions) -> str:
    """The persona whose mail the session reads: named, or owning the session's vault."""
    if options.persona_id:
        try:
            persona = persona_get_for_team(team=team, persona_id=options.persona_id)
        except NotFound:
            raise InvalidInput(
                "persona_id", f"this team has no persona {options.persona_id}"
            ) from None
        if not persona.is_active:
            raise InvalidInput("persona_id", f"persona {options.persona_id} was deleted")
        return str(persona.pk)
    if options.vault_id and (persona := persona_for_vault(team=team, vault_id=options.vault_id)):
        return str(persona.pk)
    return ""


def vault_actor(*, team: Team, user: AbstractBaseUser | None, api_key: ApiKey | None) -> VaultActor:
    """Who fills from a session's vault: whoever started the session (their rights now)."""
    if api_key is not None:
        return actor_for_api_key(api_key)
    membership = (
        Membership.objects.select_related("team", "user").filter(team=team, user=user).first()
        if user is not None and user.is_authenticated
        else None
    )
    return actor_for_membership(membership) if membership else system_actor(team, label="nobody")


def _check_vault_usable(
    *, team: Team, options: StartOptions, user: AbstractBaseUser | None, api_key: ApiKey | None
) -> None:
    vault_check_usable(
        team=team,
        vault_id=options.vault_id,
        actor=vault_actor(team=team, user=user, api_key=api_key),
    )


def session_vault_actor(*, session_id: str) -> VaultActor:
    session = BrowserSession.objects.select_related(
        "team", "started_by_key__team", "started_by_user"
    ).get(pk=session_id)
    if session.started_by_key_id is None and session.started_by_user_id is None:
        # Neither a key nor a person: nothing may fill on its behalf.
        return VaultActor(team=session.team, kind="none", id="", label="nobody")
    return vault_actor(
        team=session.team, user=session.started_by_user, api_key=session.started_by_key
    )


def session_mark_vault_filled(*, session_id: str) -> None:
    """Vault secrets were typed into this session's pages: from now on its cookies are read
    only with a key that may reveal, and CDP attaches are refused to others."""
    BrowserSession.objects.filter(pk=session_id, vault_filled_at__isnull=True).update(
        vault_filled_at=timezone.now()
    )


def _audit_session(session: BrowserSession, action: str, user, api_key, **data: Any) -> None:
    audit_record(
        team=session.team,
        action=action,
        actor_user=user,
        actor_key=api_key,
        target=f"session {session.id}",
        data=data,
    )


# -- worker bookkeeping --------------------------------------------------------------------------


def worker_register(*, channel: str, hostname: str, pid: int, capacity: int) -> BrowserWorker:
    return BrowserWorker.objects.create(
        channel=channel, hostname=hostname, pid=pid, capacity=capacity, heartbeat_at=timezone.now()
    )


def worker_heartbeat(*, worker: BrowserWorker, sessions: int, contexts: int) -> None:
    updated = BrowserWorker.objects.filter(pk=worker.pk).update(
        heartbeat_at=timezone.now(), sessions=sessions, contexts=contexts
    )
    if not updated:  # the row was removed (e.g. a test flush): put it back
        worker.heartbeat_at = timezone.now()
        worker.stopped_at = None
        worker.save(force_insert=True)


@transaction.atomic
def worker_stopped(*, worker: BrowserWorker, reason: str) -> None:
    BrowserWorker.objects.filter(pk=worker.pk, stopped_at__isnull=True).update(
        stopped_at=timezone.now(), stop_reason=reason
    )
    _end_sessions_of(worker.pk, status=SessionStatus.CLOSED, reason=f"worker stopped: {reason}")


def workers_reap_stale(*, stale_after: timedelta) -> int:
    """Workers that stopped heartbeating are gone: end their sessions as error (worker_lost)."""
    cutoff = timezone.now() - stale_after
    stale = list(
        BrowserWorker.objects.filter(stopped_at__isnull=True, heartbeat_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for worker_id in stale:
        _worker_lost(
            worker_id, stop_reason="heartbeat lost", reason="worker_lost: heartbeat stopped"
        )
    return len(stale)


def workers_reap_dead_on_host(*, hostname: str, alive: Callable[[int, float], bool]) -> int:
    """Workers of this machine whose process is gone (a crash, a kill): end their sessions as
    error at once, without waiting for their heartbeat to go stale. `alive(pid, started_at)`."""
    dead = [
        worker_id
        for worker_id, pid, started in BrowserWorker.objects.filter(
            stopped_at__isnull=True, hostname=hostname
        ).values_list("pk", "pid", "started_at")
        if not alive(pid, started.timestamp())
    ]
    for worker_id in dead:
        _worker_lost(
            worker_id, stop_reason="process gone", reason="worker_lost: its process is gone"
        )
    return len(dead)


def _worker_lost(worker_id, *, stop_reason: str, reason: str) -> None:
    with transaction.atomic():
        claimed = BrowserWorker.objects.filter(pk=worker_id, stopped_at__isnull=True).update(
            stopped_at=timezone.now(), stop_reason=stop_reason
        )
        if claimed:
            log.warning(
                "browser worker %s is gone (%s): its sessions end as error", worker_id, stop_reason
            )
            _end_sessions_of(worker_id, status=SessionStatus.ERROR, reason=reason)


def _end_sessions_of(worker_id, *, status: str, reason: str) -> None:
    for session_id in BrowserSession.objects.filter(
        worker_id=worker_id, status__in=LIVE_STATUSES
    ).values_list("pk", flat=True):
        session_mark_ended(
            session_id=session_id,
            status=status,
            reason=reason,
            error=reason if status == SessionStatus.ERROR else "",
        )


# -- async orchestration (web side) --------------------------------------------------------------


async def session_start(
    *,
    team: Team,
    options: StartOptions,
    user: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> BrowserSession:
    """Reserve a slot, have a worker open the context, answer once the page is usable."""
    if options.vault_id:
        # A session that will fill from a vault needs one of the team's, usable by its starter,
        # and the vaults unsealed: refused here, before any browser is involved.
        await sync_to_async(_check_vault_usable)(
            team=team, options=options, user=user, api_key=api_key
        )
    options.persona_id = await sync_to_async(_session_persona)(team=team, options=options)
    session = await sync_to_async(session_reserve)(
        team=team, options=options, user=user, api_key=api_key
    )
    try:
        await client.call(
            START_QUEUE,
            {
                "type": "session.start",
                "session_id": str(session.id),
                "team_id": str(team.pk),
                "spec": options.browser_spec(str(session.id)),
                "vault_id": options.vault_id,
                "persona_id": options.persona_id,
            },
            wait_seconds=settings.PERISCOPE_START_TIMEOUT,
        )
    except PeriscopeError as exc:
        refusal = await _start_refusal(exc) if isinstance(exc, client.NoWorkerAnswered) else exc
        # The request could not be served: no trace of a session may stay live.
        await sync_to_async(session_mark_ended)(
            session_id=str(session.id),
            status=SessionStatus.ERROR,
            reason=f"start failed: {refusal.message}",
            error=refusal.message,
        )
        raise refusal from None
    await sync_to_async(_audit_session)(session, AuditAction.SESSION_STARTED, user, api_key)
    return await BrowserSession.objects.select_related(
        "team", "started_by_user", "started_by_key"
    ).aget(pk=session.pk)


async def _start_refusal(unanswered: client.NoWorkerAnswered) -> Unavailable:
    """No worker took the start in time: every live worker is full (or busy launching), or none
    runs. Either way 503, which clients such as notte-sdk retry; with Retry-After when waiting helps."""
    workers = await sync_to_async(selectors.worker_count_alive)()
    if not workers:
        return unanswered
    return Unavailable(
        f"All {workers} running browser worker(s) are at capacity: none took the session within "
        f"{settings.PERISCOPE_START_TIMEOUT} s. Try again in a few seconds (an operator adds workers, "
        "or raises their capacity, for more)",
        headers=client.RETRY_AFTER,
    )


async def session_stop(
    *, session: BrowserSession, user: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> BrowserSession:
    """Idempotent. A session that ended another way (timeout, error) answers 409 'already closed'."""
    worker_routes.forget(str(session.id))
    if session.is_live:
        ended = await sync_to_async(session_mark_ended)(
            session_id=str(session.id),
            status=SessionStatus.CLOSED,
            reason=f"stopped by {user or (f'key {api_key}' if api_key else 'system')}",
        )
        if ended:
            await sync_to_async(_audit_session)(session, AuditAction.SESSION_STOPPED, user, api_key)
        if session.worker_channel:
            try:
                await client.call(
                    session.worker_channel,
                    {
                        "type": "session.stop",
                        "session_id": str(session.id),
                        "team_id": str(session.team_id),
                    },
                    wait_seconds=10,
                )
            except PeriscopeError as exc:
                # The row is closed already; the worker's reaper closes a context it still holds.
                log.warning("stop of %s not confirmed by its worker: %s", session.id, exc.message)
        await session.arefresh_from_db()
    if session.status != SessionStatus.CLOSED:
        raise Conflict(
            f"Session {session.id} is already closed (it ended as {session.status}: "
            f"{session.error or 'see its timeline'})"
        )
    return session


async def session_command(*, session: BrowserSession, command: dict[str, Any]) -> Any:
    """Send a command to the worker that owns a live session (the row is already loaded)."""
    if not session.is_live or not session.worker_channel:
        raise Conflict(f"Session {session.id} is {session.status}; start a new session")
    return await _send(worker_routes.remember(session), str(session.id), command)


async def session_command_by_id(*, team: Team, session_id: str, command: dict[str, Any]) -> Any:
    """The same, for a session known only by its id: the hot path of every page command. The
    route comes from this process's memory when it can; the worker checks the team either way."""
    route = worker_routes.get(session_id, str(team.pk))
    if route is None:
        session = await selectors.asession_get_for_team(team=team, session_id=session_id)
        return await session_command(session=session, command=command)
    try:
        return await _send(route, session_id, command)
    except client.SessionNotOnWorker:
        # The session ended since the route was remembered: the row says how.
        worker_routes.forget(session_id)
        session = await selectors.asession_get_for_team(team=team, session_id=session_id)
        return await session_command(session=session, command=command)


async def _send(route: worker_routes.Route, session_id: str, command: dict[str, Any]) -> Any:
    return await client.call(
        route.worker_channel,
        {**command, "session_id": session_id, "team_id": route.team_id},
        wait_seconds=settings.PERISCOPE_COMMAND_TIMEOUT,
    )


# -- tabs ----------------------------------------------------------------------------------------


async def session_tabs(*, session: BrowserSession) -> list[dict[str, Any]]:
    """The tabs a live session has open, from its worker; none for a session that ended."""
    if not session.is_live:
        return []
    return await session_command(session=session, command={"type": "session.tabs"})


async def session_tab(*, session: BrowserSession, tab_idx: int) -> dict[str, Any]:
    """One open tab, by its index in the session's list of tabs."""
    tabs = await session_command(session=session, command={"type": "session.tabs"})
    if not 0 <= tab_idx < len(tabs):
        raise NotFound(f"Session {session.id} has no tab {tab_idx}; it has {len(tabs)} tab(s)")
    return tabs[tab_idx]


# -- cookies -------------------------------------------------------------------------------------

_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_COOKIE_DOMAIN = re.compile(
    r"^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)
# Browsers cap a cookie's lifetime at 400 days; anything past the year 9999 is nonsense.
_LAST_EXPIRY = 253402300799


def cookie_problem(cookie: Cookie) -> tuple[str, str] | None:
    """(field, what to change) for a cookie a browser would refuse or misread, else None."""
    if not _COOKIE_NAME.match(cookie.name):
        return "name", "must be a non-empty cookie token (letters, digits and !#$%&'*+-.^_`|~)"
    if any(ord(ch) < 0x20 or ch in ';"\\\x7f' for ch in cookie.value):
        return "value", "must not contain control characters, quotes, backslashes or ';'"
    if not _COOKIE_DOMAIN.match(cookie.domain):
        return "domain", "must be a host name such as example.com or .example.com"
    if not cookie.path.startswith("/") or any(ord(ch) < 0x20 or ch == ";" for ch in cookie.path):
        return "path", "must start with '/' and contain no control characters or ';'"
    for field in ("expires", "expirationDate"):
        value = getattr(cookie, field)
        if value is not None and not (math.isfinite(value) and -1 <= value <= _LAST_EXPIRY):
            return field, "must be a Unix time in seconds (or -1 for a session cookie)"
    if cookie.sameSite == "None" and not cookie.secure:
        return "secure", "a cookie with sameSite None must be secure"
    return None


async def session_cookies_set(*, team: Team, session_id: str, cookies: list[Cookie]) -> int:
    for index, cookie in enumerate(cookies):
        problem = cookie_problem(cookie)
        if problem:
            raise InvalidInput(f"cookies.{index}.{problem[0]}", problem[1])
    command = {"type": "session.cookies.set", "cookies": [c.to_browser() for c in cookies]}
    await session_command_by_id(team=team, session_id=session_id, command=command)
    return len(cookies)


async def session_cookies_get(
    *, team: Team, session_id: str, api_key: ApiKey | None = None
) -> list[Cookie]:
    """A session that filled vault secrets answers only keys that may reveal them (the worker
    checks: it knows whether the session did)."""
    may_reveal = (
        api_key is not None
        and await sync_to_async(lambda: actor_for_api_key(api_key).can(Permission.REVEAL))()
    )
    command = {"type": "session.cookies.get", "may_reveal": may_reveal}
    cookies = await session_command_by_id(team=team, session_id=session_id, command=command)
    return [Cookie.from_browser(c) for c in cookies]


async def session_sync(*, session: BrowserSession) -> None:
    """Wait until every step the worker ran for this session is written, so that a read right
    after an execute sees it. Not activity: polling a session's status does not keep it alive."""
    if session.is_live and session.worker_channel:
        with contextlib.suppress(client.SessionNotOnWorker):
            traffic = await session_command(session=session, command={"type": "session.sync"})
            # The worker writes byte counts every few seconds; its answer has them up to now.
            session.network_request_bytes = traffic["network_request_bytes"]
            session.network_response_bytes = traffic["network_response_bytes"]
