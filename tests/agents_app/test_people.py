"""People in the loop: a person taking control pauses the agent, the agent asks for help, and
a team that wants it approves or rejects payment steps. And what a page cannot make it do."""

import time

import pytest
from django.urls import reverse

from agents_app import services
from agents_app.models import AgentRun, AgentStep
from core.errors import Conflict
from teams_app.models import AuditEvent
from tests.sessions_app.live_client import console_http
from vaults_app.models import AuditOutcome, VaultAuditEvent

from .brain import Prompt, done, step
from .helpers import finished, in_state, start, start_agent, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def control(live, user, session: str, action: str):
    response = console_http(live, user).post(
        live.url + reverse("sessions_app:control", args=[session, action]), timeout=30
    )
    assert response.status_code == 200, response.text
    return response


def test_a_person_taking_control_pauses_the_agent_until_released(live, api, site, owner, use_llm):
    def answer(messages):
        if "a person used the page" in Prompt.of(messages).text:
            return done("back at it")
        return step({"type": "wait", "time_ms": 200})

    use_llm(answer)
    session = start(api)["session_id"]
    agent = start_agent(
        api, session, task="Wait for a person", url=f"{site.url}/article.html", max_steps=100
    )
    agent_id = agent["agent_id"]
    assert wait_until(lambda: AgentStep.objects.filter(run_id=agent_id).count() >= 2, timeout=20)

    control(live, owner, session, "take")
    paused = in_state(api, agent_id, "paused")
    assert paused["status"] == "active", "paused is still active on the wire"
    recorded = AgentStep.objects.filter(run_id=agent_id).count()
    time.sleep(1.0)  # the agent's steps take 0.2 s: had it gone on, some would be recorded by now
    assert AgentStep.objects.filter(run_id=agent_id).count() == recorded

    control(live, owner, session, "release")
    status = finished(api, agent_id)
    assert status["success"] is True and status["answer"] == "back at it"


def test_help_waits_for_a_person_to_take_and_hand_back_control(live, api, site, owner, use_llm):
    def answer(messages):
        if "a person helped" in Prompt.of(messages).text:
            return done("solved with help")
        return step({"type": "help", "reason": "a captcha I cannot solve"})

    use_llm(answer)
    session = start(api)["session_id"]
    agent_id = start_agent(api, session, task="Get past the captcha")["agent_id"]
    waiting = in_state(api, agent_id, "needs_person")
    assert waiting["steps"][-1]["action"] == {"type": "help", "reason": "a captcha I cannot solve"}

    control(live, owner, session, "take")
    time.sleep(0.6)  # the agent looks every 0.25 s: still waiting while the person holds the page
    assert api.get(f"/agents/{agent_id}").json()["state"] == "needs_person"
    control(live, owner, session, "release")
    status = finished(api, agent_id)
    assert status["answer"] == "solved with help" and len(status["steps"]) == 2


def test_payment_steps_wait_for_approval_and_a_rejection_ends_the_run(
    api, site, vault, team, owner, use_llm
):
    team.agent_approval_required = True
    team.save()

    def answer(messages):
        p = Prompt.of(messages)
        filled = [a for a in p.done_ok() if a["type"] == "fill"]
        if not filled:
            return step(
                {
                    "type": "fill",
                    "id": p.element('name="cc-number"'),
                    "value": p.placeholder("card_number"),
                }
            )
        return step({"type": "click", "id": p.element('type="submit"')}, goal="pay")

    use_llm(answer)
    session = start(api)["session_id"]
    agent_id = start_agent(
        api, session, task="Pay for the order", url=f"{site.url}/checkout.html", vault_id=vault
    )["agent_id"]

    first = in_state(api, agent_id, "needs_approval")["pending_approval"]
    assert first["action"] == {"type": "fill", "id": "I2", "value": "4242 4242 4242 4242"}
    assert first["reason"] == "the agent is about to fill the vault's payment card"
    run = AgentRun.objects.select_related("team").get(pk=agent_id)
    services.agent_decide(run=run, user=owner, approve=True)

    second = wait_until(
        lambda: (
            (s := api.get(f"/agents/{agent_id}").json())["pending_approval"]
            and s["pending_approval"]["action"]["type"] == "click"
            and s
        ),
        timeout=20,
    )
    assert second["state"] == "needs_approval"
    assert second["pending_approval"]["reason"] == "the agent is about to submit a payment form"
    assert (
        VaultAuditEvent.objects.filter(
            session_id=session, field="card_number", outcome=AuditOutcome.OK
        ).count()
        == 1
    ), "the approved fill ran"
    services.agent_decide(run=run, user=owner, approve=False)
    status = finished(api, agent_id)
    assert status["success"] is False
    assert (
        status["stop_reason"]
        == "alice rejected the agent's next action (the agent is about to submit a "
        "payment form)"
    )
    assert "/checkout" not in site.hits, "the rejected submit never happened"
    decisions = AuditEvent.objects.filter(team=team, action__startswith="agent.").values_list(
        "action", flat=True
    )
    assert sorted(decisions) == ["agent.approved", "agent.rejected", "agent.started"]
    with pytest.raises(Conflict):
        services.agent_decide(run=run, user=owner, approve=True)


def test_a_page_on_another_origin_gets_no_credential(api, site, vault, canary, use_llm):
    def answer(messages):
        p = Prompt.of(messages)
        if any(a["type"] == "fill" for a in p.done()):
            return done("tried")
        return step(
            {"type": "fill", "id": p.element('name="password"'), "value": p.placeholder("password")}
        )

    use_llm(answer)
    session = start(api)["session_id"]
    # Same server, another origin: the vault's login is for 127.0.0.1 only.
    agent_id = start_agent(
        api, session, task="Sign in", url=f"{site.alt_url}/login.html", vault_id=vault
    )["agent_id"]
    status = finished(api, agent_id)
    fill = status["steps"][1]
    assert fill["action"]["value"] == "mycoolpassword"
    refused = AgentStep.objects.get(run_id=agent_id, index=2)
    assert refused.success is False and "the vault did not fill this field" in refused.message
    assert (
        VaultAuditEvent.objects.filter(session_id=session, outcome=AuditOutcome.DENIED).count() == 1
    )
    assert canary["password"] not in str(list(AgentStep.objects.filter(run_id=agent_id).values()))
