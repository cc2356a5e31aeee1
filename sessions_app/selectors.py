import uuid
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.errors import NotFound
from core.pagination import paginate
from teams_app.models import Membership, Team

from .models import (
    LIVE_STATUSES,
    BrowserSession,
    BrowserWorker,
    ReplayStatus,
    SessionControl,
    SessionEvent,
    SessionStatus,
    Step,
)


def _parse_id(session_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(session_id))
    except ValueError:
        raise NotFound(f"Session {session_id} not found") from None


def session_queryset(*, team: Team) -> QuerySet[BrowserSession]:
    return (
        BrowserSession.objects.filter(team=team)
        .select_related("team", "started_by_user", "started_by_key")
        .annotate(step_count=Count("steps"))
    )


async def asession_get_for_team(*, team: Team, session_id: str) -> BrowserSession:
    """Another team's session is indistinguishable from one that does not exist. (No step
    count here: every API command calls this, and the count is a join.)"""
    pk = _parse_id(session_id)
    session = await BrowserSession.objects.filter(team=team, pk=pk).select_related("team").afirst()
    if session is None:
        raise NotFound(f"Session {session_id} not found")
    return session


def session_get_for_team(*, team: Team, session_id: str) -> BrowserSession:
    pk = _parse_id(session_id)
    session = session_queryset(team=team).filter(pk=pk).first()
    if session is None:
        raise NotFound(f"Session {session_id} not found")
    return session


def session_list_for_team(
    *, team: Team, only_active: bool = False, status: str | None = None
) -> QuerySet[BrowserSession]:
    sessions = session_queryset(team=team)
    if only_active:
        sessions = sessions.filter(status__in=LIVE_STATUSES)
    if status:
        sessions = sessions.filter(status=status)
    return sessions.order_by("-created_at")


async def asession_page_for_team(
    *, team: Team, only_active: bool, page: int, page_size: int
) -> list[BrowserSession]:
    """One page of the team's sessions, newest first (both APIs' list endpoints)."""
    sessions = session_list_for_team(team=team, only_active=only_active)
    return await sync_to_async(lambda: list(paginate(sessions, page=page, page_size=page_size)))()


def session_events(*, session: BrowserSession) -> list[SessionEvent]:
    return list(SessionEvent.objects.filter(session=session))


def session_steps(*, session: BrowserSession) -> list[Step]:
    return list(Step.objects.filter(session=session).order_by("index"))


def step_count(*, session_id: str) -> int:
    return Step.objects.filter(session_id=session_id).count()


def steps_with_screenshots(*, session: BrowserSession) -> list[Step]:
    return [s for s in Step.objects.filter(session=session).order_by("index") if s.screenshot]


async def asession_for_member(*, user, session_id: str) -> tuple[BrowserSession, Membership] | None:
    """The session and the user's membership of its team, or None (not a member, unknown id,
    malformed id: all the same to the caller)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    session = await BrowserSession.objects.filter(pk=pk).select_related("team").afirst()
    if session is None:
        return None
    membership = (
        await Membership.objects.filter(team_id=session.team_id, user=user)
        .select_related("user")
        .afirst()
    )
    return (session, membership) if membership is not None else None


async def asession_for_team_id(*, team_id: str, session_id: str) -> BrowserSession | None:
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    return (
        await BrowserSession.objects.filter(pk=pk, team_id=team_id).select_related("team").afirst()
    )


def control_of(*, session: BrowserSession) -> SessionControl | None:
    return SessionControl.objects.filter(session=session).first()


async def acontrol_of(*, session: BrowserSession) -> SessionControl | None:
    return await SessionControl.objects.filter(session=session).afirst()


async def amembership_exists(*, team_id, user_id) -> bool:
    return await Membership.objects.filter(team_id=team_id, user_id=user_id).aexists()


async def alive_sessions_of_team(*, team_id) -> list[BrowserSession]:
    return [
        s async for s in BrowserSession.objects.filter(team_id=team_id, status__in=LIVE_STATUSES)
    ]


def session_list_for_persona(
    *, team: Team, persona_id: str, limit: int = 50
) -> list[BrowserSession]:
    return list(
        session_queryset(team=team).filter(persona_id=persona_id).order_by("-created_at")[:limit]
    )


def step_for_team(*, team: Team, session_id, index: int) -> Step | None:
    return Step.objects.filter(session__team=team, session_id=session_id, index=index).first()


def session_by_id(*, session_id) -> BrowserSession | None:
    """Not scoped to a team: for an id that came signed by this server (a replay link's token)."""
    return BrowserSession.objects.filter(pk=session_id).first()


def session_of_team(*, team_id, pk: uuid.UUID) -> BrowserSession | None:
    """The session with its team, or None: another team's session looks like a missing one."""
    return BrowserSession.objects.filter(pk=pk, team_id=team_id).select_related("team").first()


def session_attach_state(*, session_id) -> dict[str, Any] | None:
    """Read fresh from the database: whether a CDP client may stay attached to the session."""
    return (
        BrowserSession.objects.filter(pk=session_id)
        .values("status", "worker_channel", "vault_filled_at")
        .first()
    )


def session_stored_status(*, session_id) -> str | None:
    """The session's status as stored now; None once it was deleted."""
    return BrowserSession.objects.filter(pk=session_id).values_list("status", flat=True).first()


def step_screenshot_names(*, session: BrowserSession) -> set[str]:
    """The storage names of the session's step screenshots."""
    return {
        name
        for name in Step.objects.filter(session=session).values_list("screenshot", flat=True)
        if name
    }


def session_for_grant(grant) -> BrowserSession | None:
    try:
        pk = uuid.UUID(grant.session_id)
    except ValueError:
        return None
    return BrowserSession.objects.filter(pk=pk, team_id=grant.team_id).first()


def session_deadlines(*, session_ids: list[str]) -> dict[str, dict[str, Any]]:
    """What a worker's reaper needs of each session it holds, by id: its status and the fields
    its idle and max-duration deadlines come from. A deleted session is missing."""
    rows = BrowserSession.objects.filter(pk__in=session_ids).values(
        "pk",
        "status",
        "created_at",
        "last_accessed_at",
        "idle_timeout_minutes",
        "max_duration_minutes",
    )
    return {str(row["pk"]): row for row in rows}


def worker_count_alive() -> int:
    """Workers that heartbeat: one silent for PERISCOPE_WORKER_STALE_SECONDS is gone, even
    before a reaper has marked it stopped."""
    cutoff = timezone.now() - timedelta(seconds=settings.PERISCOPE_WORKER_STALE_SECONDS)
    return BrowserWorker.objects.filter(stopped_at__isnull=True, heartbeat_at__gte=cutoff).count()


ENDED_STATUSES = (SessionStatus.CLOSED, SessionStatus.ERROR, SessionStatus.TIMED_OUT)


def session_retention_cutoff(*, now=None):
    """Sessions that ended before this have had their recordings deleted (or soon will); None
    when PERISCOPE_SESSION_RETENTION_DAYS is 0 (kept forever)."""
    days = settings.PERISCOPE_SESSION_RETENTION_DAYS
    return (now or timezone.now()) - timedelta(days=days) if days else None


def sessions_due_for_purge(
    *, cutoff, building_since, after: tuple | None = None, limit: int
) -> list[BrowserSession]:
    """Ended sessions, ended before `cutoff`, that still hold steps or a replay, oldest first,
    after the (closed_at, id) key `after`. A replay whose build was claimed after
    `building_since` is being built right now: it is left for next time."""
    rows = (
        BrowserSession.objects.filter(status__in=ENDED_STATUSES, closed_at__lt=cutoff)
        .filter(
            Q(Exists(Step.objects.filter(session=OuterRef("pk"))))
            | ~Q(replay_status=ReplayStatus.NONE)
        )
        .exclude(replay_status=ReplayStatus.BUILDING, replay_claimed_at__gte=building_since)
        .select_related("team")
        .order_by("closed_at", "id")
    )
    if after is not None:
        closed_at, pk = after
        rows = rows.filter(Q(closed_at__gt=closed_at) | Q(closed_at=closed_at, id__gt=pk))
    return list(rows[:limit])
