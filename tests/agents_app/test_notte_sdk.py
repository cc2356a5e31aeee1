"""notte-sdk 1.8.28's agent calls against a Periscope server: run (over the logs websocket),
wait (polling), status, stop, list and the workflow code."""

import pytest
from notte_sdk import NotteClient

from .brain import Prompt, done, login_brain
from .helpers import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_wait_stop_and_workflow_code(live, api, api_key, site, vault, canary, use_llm):
    brain = login_brain(site.url)

    def answer(messages):
        p = Prompt.of(messages)
        if "/article.html" in p.url:
            return done(f"The article is at {p.url}")
        return brain(messages)

    use_llm(answer)
    client = NotteClient(api_key=api_key, server_url=live.api_url)
    with client.Session(headless=True) as session:
        agent = client.Agent(session=session, vault=client.Vault(vault), max_steps=8)
        result = agent.run(
            task="Sign in to Harbour Light and tell me the greeting", url=f"{site.url}/login.html"
        )
        assert result.status == "closed" and result.success is True
        assert "Welcome back" in result.answer
        assert [s["action"]["type"] for s in result.steps] == [
            "goto",
            "fill",
            "fill",
            "click",
            "completion",
        ]
        assert site.logins[-1]["password"] == canary["password"]

        code = agent.workflow.code()
        assert [a["type"] for a in code.json_actions][-3:] == ["fill", "fill", "click"]
        assert canary["password"] not in code.python_script
        assert agent.status().answer == result.answer

        # wait() polls every 10 s: this agent is done before its first look.
        second = client.Agent(session=session, max_steps=3)
        started = second.start(task="Which page is open?", url=f"{site.url}/article.html")
        assert started.status == "active"
        assert wait_until(
            lambda: api.get(f"/agents/{started.agent_id}").json()["status"] == "closed", timeout=30
        )
        waited = second.wait()
        assert waited.success is True and waited.answer.endswith("/article.html")
        assert second.stop().status == "closed"

        listed = client.agents.list(only_active=False)
        assert {a.agent_id for a in listed} == {agent.agent_id, second.agent_id}
        assert client.agents.list(only_active=True) == []
