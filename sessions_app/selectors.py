import uuid

from asgiref.sync import sync_to_async
from django.db.models import Count, QuerySet

from core.errors import NotFound
from core.pagination import paginate
from teams_app.models import Team

from .models import LIVE_STATUSES, BrowserSession, BrowserWorker, SessionEvent, Step


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


def session_list_for_team(*, team: Team, only_active: bool = False, status: str | None = None) -> QuerySet[BrowserSession]:
    sessions = session_queryset(team=team)
    if only_active:
        sessions = sessions.filter(status__in=LIVE_STATUSES)
    if status:
        sessions = sessions.filter(status=status)
    return sessions.order_by("-created_at")


async def asession_page_for_team(*, team: Team, only_active: bool, page: int, page_size: int) -> list[BrowserSession]:
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


def worker_count_alive() -> int:
    return BrowserWorker.objects.filter(stopped_at__isnull=True).count()
