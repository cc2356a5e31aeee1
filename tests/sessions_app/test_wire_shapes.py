"""The wire shapes and their constructors, without a server: what notte-sdk reads is built here."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from core.http import PublicUrls
from sessions_app.models import BrowserSession, SessionStatus
from sessions_app.ranking import lexical_rank
from sessions_app.schemas import (
    Action,
    Cookie,
    ExecutionResult,
    Observation,
    SessionDebugResponse,
    SessionResponse,
    action_echo,
)

URLS = PublicUrls(http="https://periscope.example", ws="wss://periscope.example")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def a_session(**fields) -> BrowserSession:
    values = {
        "status": SessionStatus.ACTIVE,
        "viewport_width": 1280,
        "viewport_height": 1080,
        "created_at": NOW,
        "last_accessed_at": NOW,
    } | fields
    return BrowserSession(**values)


def raw_observation(actions=()) -> dict:
    return {
        "started_at": NOW.timestamp(),
        "ended_at": NOW.timestamp() + 0.01,
        "metadata": {
            "title": "Login",
            "url": "https://a.example/",
            "tabs": [{"tab_id": 0, "title": "Login", "url": "https://a.example/"}],
            "viewport": dict.fromkeys(
                (
                    "scroll_x",
                    "scroll_y",
                    "viewport_width",
                    "viewport_height",
                    "total_width",
                    "total_height",
                ),
                100,
            ),
        },
        "screenshot": {"raw": "/9j/", "bboxes": [], "last_action_id": None},
        "description": "B1[:]<button>Sign in</button>",
        "category": "auth",
        "actions": list(actions),
    }


def test_a_starting_session_reads_as_active_with_urls_a_client_can_reach():
    wire = SessionResponse.from_session(a_session(status=SessionStatus.STARTING), URLS).model_dump()
    assert wire["status"] == "active"
    assert wire["cdp_url"] == f"wss://periscope.example/cdp/{wire['session_id']}"
    assert wire["viewer_url"].startswith(
        "https://periscope.example/viewer/"
    )  # a signed link to watch it
    assert wire["timeout_minutes"] == wire["idle_timeout_minutes"] == 3
    assert "detail" not in wire  # a 200 body with "detail" is an error to the SDK


def test_a_closed_session_has_a_duration():
    wire = SessionResponse.from_session(
        a_session(status=SessionStatus.CLOSED, closed_at=NOW + timedelta(seconds=90)), URLS
    ).model_dump()
    assert wire["duration"] == 90.0 and wire["status"] == "closed"


def test_debug_has_exactly_the_three_socket_urls():
    debug = SessionDebugResponse.from_session(
        a_session(), URLS, [{"tab_id": 0, "title": "t", "url": "about:blank"}]
    )
    assert set(debug.ws.model_dump()) == {"cdp", "recording", "logs"}
    assert debug.tabs[0].metadata.tab_id == 0


def test_an_observation_built_from_a_worker_reading_validates():
    action = {
        "id": "B1",
        "type": "click",
        "category": "Interaction action",
        "description": "<button>Sign in</button>",
    }
    wire = Observation.wire(raw_observation([action]), [action])
    parsed = Observation.model_validate(wire)
    assert parsed.space.interaction_actions[0].id == "B1"
    assert wire["started_at"].startswith("2026-11-29T12:00:00")


@pytest.mark.parametrize("success", [True, False])
def test_an_execution_result_carries_an_exception_only_on_failure(success):
    result = {
        "started_at": 1.0,
        "ended_at": 2.0,
        "success": success,
        "message": "Clicked" if success else "boom",
        "data": {"file_name": "x.csv"},
    }
    wire = ExecutionResult.wire(result, {"type": "click", "id": "B1"})
    assert wire["exception"] == (None if success else "boom")
    assert "data" not in wire  # only DataSpace-shaped data (with markdown) is echoed
    ExecutionResult.model_validate(wire)


def test_a_goto_echo_gains_no_keys():
    sent = {
        "type": "goto",
        "url": "https://a.example/",
        "category": "Special Browser Actions",
        "surprise": 1,
    }
    echoed = action_echo(TypeAdapter(Action).validate_python(sent))
    assert echoed == {
        "type": "goto",
        "url": "https://a.example/",
        "category": "Special Browser Actions",
    }


def test_a_cookie_survives_the_round_trip_through_the_browser_shape():
    cookie = Cookie(
        name="sid",
        value="v",
        domain=".a.example",
        path="/",
        httpOnly=True,
        secure=True,
        sameSite="Lax",
        expires=2_000_000_000,
    )
    back = Cookie.from_browser(cookie.to_browser())
    assert (back.name, back.domain, back.sameSite, back.expires, back.hostOnly, back.session) == (
        "sid",
        ".a.example",
        "Lax",
        2_000_000_000,
        False,
        False,
    )
    assert (
        Cookie.from_browser(
            {"name": "s", "value": "", "domain": "a.example", "expires": -1}
        ).session
        is True
    )


def test_lexical_ranking_puts_the_best_match_first_and_ignores_markup():
    actions = [
        {"id": "L1", "description": '<a href="/search">Home</a>'},
        {"id": "B1", "description": '<button type="submit">Search flights</button>'},
        {"id": "I1", "description": '<input type="search" placeholder="Search flights to Paris">'},
    ]
    assert [a["id"] for a in lexical_rank(actions, "search flights to Paris")] == ["I1", "B1"]
    assert lexical_rank(actions, "zebra") == actions  # nothing matches: everything, in page order
