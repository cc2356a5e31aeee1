"""The agents API's refusals and its logs websocket: another team's ids answer like unknown
ones, viewers and keys without the scope cannot start, bad input is named."""

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from websockets.sync.client import connect

from agents_app import services
from agents_app.models import AgentRun
from agents_app.schemas import AgentStartRequest
from core.errors import Forbidden
from sessions_app.models import BrowserSession
from teams_app.models import Membership, Role
from teams_app.services import api_key_create

from .brain import done
from .helpers import finished, start, start_agent

pytestmark = pytest.mark.django_db(transaction=True)


def logs(live, agent_id: str, token: str, session_id: str = "") -> tuple[list[dict], int | None]:
    """Every message of the logs socket until it closes, and its close code."""
    url = f"ws://127.0.0.1:{live.port}/api/agents/{agent_id}/debug/logs?token={token}&session_id={session_id}"
    messages = []
    with connect(url, open_timeout=15) as ws:  # no Origin header, as notte-sdk
        for raw in ws:
            messages.append(json.loads(raw))
        code = ws.close_code
    return messages, code


def test_the_logs_socket_streams_steps_then_agent_stop(
    live, api, api_key, site, use_llm, other_team_key
):
    use_llm(lambda messages: done("seen"))
    session = start(api)["session_id"]
    agent = start_agent(api, session, task="Look", url=f"{site.url}/article.html")["agent_id"]
    messages, code = logs(live, agent, api_key, session)
    assert code == 1000
    assert [m["action"]["type"] for m in messages[:-1]] == ["goto", "completion"]
    assert all({"state", "action", "started_at", "ended_at"} <= set(m) for m in messages[:-1])
    final = messages[-1]
    assert final["status"] == "agent_stop" and final["agent"]["status"] == "closed"
    assert final["agent"]["answer"] == "seen" and final["agent"]["task"] == "Look"

    # Refusals: accepted (the SDK crashes on anything but 101), then closed at once, saying nothing.
    for token, agent_id in [
        ("wrong", agent),
        (other_team_key, agent),
        (api_key, str(uuid.uuid4())),
        (api_key, "not-an-id"),
    ]:
        assert logs(live, agent_id, token) == ([], 1000)


def test_other_teams_ids_answer_like_unknown_ones(api, outsider_api, site, use_llm):
    use_llm(lambda messages: done("mine"))
    session = start(api)["session_id"]
    agent = start_agent(api, session, task="Look")["agent_id"]
    finished(api, agent)
    unknown = str(uuid.uuid4())
    for path in ("/agents/{}", "/agents/{}/workflow/code"):
        theirs, nothing = (
            outsider_api.get(path.format(agent)),
            outsider_api.get(path.format(unknown)),
        )
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.json()["message"].replace(agent, unknown) == nothing.json()["message"]
    assert outsider_api.delete(f"/agents/{agent}/stop").status_code == 404
    assert outsider_api.get("/agents/", params={"only_active": False}).json() == []

    outsider_session = start(outsider_api)["session_id"]
    theirs = api.post("/agents/start", json={"session_id": outsider_session, "task": "Borrow it"})
    nothing = api.post("/agents/start", json={"session_id": unknown, "task": "Borrow it"})
    assert theirs.status_code == nothing.status_code == 404
    assert theirs.json()["message"].replace(outsider_session, unknown) == nothing.json()["message"]
    assert not AgentRun.objects.filter(session_id=outsider_session).exists()


def test_who_may_start_and_what_is_refused(live, api, team, django_user_model, use_llm, settings):
    session_id = start(api)["session_id"]
    # No LLM configured: the server says which settings to set.
    refused = api.post("/agents/start", json={"session_id": session_id, "task": "Look"})
    assert refused.status_code == 422 and "LLM_BASE_URL" in refused.json()["message"]

    use_llm(lambda messages: done("ok"))
    _, no_scope = api_key_create(team=team, name="sessions only", scopes=["sessions"])
    response = api.post(
        "/agents/start",
        json={"session_id": session_id, "task": "Look"},
        headers={"Authorization": f"Bearer {no_scope}"},
    )
    assert response.status_code == 403 and "'agents' scope" in response.json()["message"]

    bad_schema = api.post(
        "/agents/start",
        json={
            "session_id": session_id,
            "task": "Look",
            "response_format": {"type": "no-such-type"},
        },
    )
    assert bad_schema.status_code == 422 and "response_format" in bad_schema.json()["message"]
    too_many = api.post(
        "/agents/start", json={"session_id": session_id, "task": "Look", "max_steps": 151}
    )
    assert too_many.status_code == 422
    assert api.post("/agents/start", json={"session_id": session_id, "task": ""}).status_code == 422
    no_vault = api.post(
        "/agents/start",
        json={"session_id": session_id, "task": "Look", "vault_id": str(uuid.uuid4())},
    )
    assert no_vault.status_code in (422, 503) and "vault" in no_vault.json()["message"].lower()

    viewer = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=viewer, role=Role.VIEWER)
    session = BrowserSession.objects.get(pk=session_id)
    with pytest.raises(Forbidden, match="Viewers can watch agents"):
        async_to_sync(services.agent_start)(
            team=team, session_or_none=session, options=AgentStartRequest(task="Look"), user=viewer
        )
    assert not AgentRun.objects.exists(), "nothing was half-written by the refusals"
