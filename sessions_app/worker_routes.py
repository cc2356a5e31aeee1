"""Where a live session's commands go (its worker's channel), remembered by this web process.

A page command then needs no database query: the worker that holds the session checks that the
caller's team owns it and refuses otherwise, so a remembered route can never reach another
team's session. A session that ended shows up as the worker's refusal; the caller then forgets
the route and asks the database what happened.
"""

from dataclasses import dataclass

from .models import BrowserSession

MAX_ROUTES = 50_000


@dataclass(frozen=True, slots=True)
class Route:
    team_id: str
    worker_channel: str


_routes: dict[str, Route] = {}


def get(session_id: str, team_id: str) -> Route | None:
    route = _routes.get(session_id)
    return route if route is not None and route.team_id == team_id else None


def remember(session: BrowserSession) -> Route:
    route = Route(team_id=str(session.team_id), worker_channel=session.worker_channel)
    if len(_routes) >= MAX_ROUTES:
        _routes.clear()
    _routes[str(session.pk)] = route
    return route


def forget(session_id: str) -> None:
    _routes.pop(str(session_id), None)
