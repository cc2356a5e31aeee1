"""The agent loop against the test site, with a scripted model behind a real OpenAI-compatible
server: logging in from the vault, answers with and without a response format, repairs,
timeouts, stop, max_steps, and the session's end."""

import json

import pytest

from agents_app.models import AgentRun, AgentStep
from sessions_app.models import BrowserSession, Step
from vaults_app.models import AuditOutcome, VaultAuditEvent

from .brain import Prompt, done, login_brain, step
from .helpers import finished, start, start_agent, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_agent_logs_in_from_the_vault_and_answers_from_the_page(
    api, site, vault, canary, use_llm
):
    llm = use_llm(login_brain(site.url))
    session = start(api)["session_id"]
    agent = start_agent(
        api,
        session,
        task="Sign in to Harbour Light and tell me what the page says",
        url=f"{site.url}/login.html",
        vault_id=vault,
        max_steps=8,
    )
    assert agent["status"] == "active" and agent["session_id"] == session

    status = finished(api, agent["agent_id"])
    assert status["success"] is True, status
    assert "Welcome back" in status["answer"]
    assert status["stop_reason"] == "completed"
    assert (
        status["model"] == "served-model" and status["reasoning_model"] == "gemini/gemini-2.5-flash"
    )
    assert site.logins[-1] == {"email": canary["email"], "password": canary["password"]}

    kinds = [s["action"]["type"] for s in status["steps"]]
    assert kinds == ["goto", "fill", "fill", "click", "completion"]
    # The model typed placeholders; the vault filled the real values on the right origin.
    assert [s["action"]["value"] for s in status["steps"][1:3]] == [
        "user@example.org",
        "mycoolpassword",
    ]
    uses = VaultAuditEvent.objects.filter(session_id=session, outcome=AuditOutcome.OK)
    assert sorted(uses.values_list("field", flat=True)) == ["email", "password"]

    run = AgentRun.objects.get(pk=agent["agent_id"])
    steps = list(AgentStep.objects.filter(run=run).order_by("index"))
    assert run.prompt_tokens == sum(s.prompt_tokens for s in steps) > 0
    assert all(s.llm_ms > 0 and s.prompt_tokens > 0 for s in steps[1:])
    assert all(s.session_step_index for s in steps[:4])
    wait_until(lambda: Step.objects.filter(session_id=session).count() == 4)
    assert (
        Step.objects.get(session_id=session, index=steps[3].session_step_index).action["type"]
        == "click"
    )

    # What the model was told: the task, the placeholders, the page as untrusted content.
    first = Prompt.of(llm.requests[0]["body"]["messages"])
    assert "Sign in to Harbour Light" in first.text and 'password "mycoolpassword"' in first.text
    assert "<untrusted_page_content>" in first.text and "/login.html" in first.url
    assert llm.requests[0]["body"]["response_format"]["type"] == "json_schema"
    assert isinstance(llm.requests[0]["body"]["messages"][1]["content"], list), (
        "use_vision sends the screenshot"
    )
    # ... and never a secret, in any request, nor in what the API answers.
    everything = json.dumps([r["body"] for r in llm.requests])
    assert canary["password"] not in everything and canary["email"] not in everything
    assert canary["password"] not in api.get(f"/agents/{agent['agent_id']}").text


def test_a_structured_answer_through_tool_calls_with_a_mapped_model(
    api, site, vault, use_llm, settings
):
    settings.LLM_STRUCTURED_OUTPUT = "tools"
    settings.LLM_MODEL_MAP = {"openai/gpt-4o": "mapped-model"}
    brain = login_brain(site.url)
    wrong_once = []

    def answer(messages):
        p = Prompt.of(messages)
        if "/account.html" in p.url and not wrong_once:
            wrong_once.append(True)  # first an answer the schema refuses: it goes back to the model
            return done(json.dumps({"heading": 42, "signed_in": True}))
        return brain(messages)

    llm = use_llm(answer)
    schema = {
        "type": "object",
        "properties": {"heading": {"type": "string"}, "signed_in": {"type": "boolean"}},
        "required": ["heading", "signed_in"],
    }
    session = start(api)["session_id"]
    agent = start_agent(
        api,
        session,
        task="Sign in and report the greeting",
        url=f"{site.url}/login.html",
        vault_id=vault,
        response_format=schema,
        reasoning_model="openai/gpt-4o",
        use_vision=False,
    )
    status = finished(api, agent["agent_id"])
    assert status["success"] is True, status
    assert status["structured_answer"] == {"heading": "Welcome back", "signed_in": True}
    assert json.loads(status["answer"]) == status["structured_answer"]
    assert status["model"] == "mapped-model"
    refused = status["steps"][-2]
    assert refused["action"]["type"] == "completion"
    assert AgentStep.objects.get(run_id=agent["agent_id"], index=5).message.startswith(
        "the answer does not match response_format at heading"
    )
    bodies = [r["body"] for r in llm.requests]
    assert all(
        b["model"] == "mapped-model" and b["tools"][0]["function"]["name"] == "agent_step"
        for b in bodies
    )
    assert all(isinstance(b["messages"][1]["content"], str) for b in bodies), (
        "no screenshot without use_vision"
    )
    assert "matching this JSON schema" in Prompt.of(bodies[0]["messages"]).text
    assert "could not be used" not in Prompt.of(bodies[-1]["messages"]).text


def test_an_invalid_answer_is_sent_back_once_with_the_error(api, site, use_llm):
    def answer(messages):
        p = Prompt.of(messages)
        if p.calls == 2:
            return "Sure! I will click the first link."  # not JSON
        return done("the page is " + p.url)

    llm = use_llm(answer)
    persona = api.post(
        "/personas/create", json={"create_vault": False, "create_phone_number": False}
    ).json()
    session = start(api)["session_id"]
    agent = start_agent(
        api,
        session,
        task="Which page is open?",
        url=f"{site.url}/article.html",
        persona_id=persona["persona_id"],
    )
    status = finished(api, agent["agent_id"])
    assert status["success"] is True and status["answer"].endswith("/article.html")
    assert len(llm.requests) == 2
    assert f"email {persona['email']}" in Prompt.of(llm.requests[0]["body"]["messages"]).text
    assert api.get(f"/sessions/{session}").status_code == 200
    assert BrowserSession.objects.get(pk=session).persona_id == persona["persona_id"], (
        "its mail is the session's"
    )
    repair = llm.requests[1]["body"]["messages"]
    assert repair[2] == {"role": "assistant", "content": "Sure! I will click the first link."}
    assert "That answer is invalid: not JSON" in repair[3]["content"]
    completion = AgentStep.objects.get(run_id=agent["agent_id"], index=2)
    # The step counts the tokens of both calls.
    assert (
        completion.prompt_tokens
        > AgentStep.objects.get(run_id=agent["agent_id"], index=1).prompt_tokens
    )


def test_a_model_that_never_answers_in_time_ends_the_run(api, site, use_llm, settings):
    settings.LLM_TIMEOUT_SECONDS = 1
    settings.PERISCOPE_AGENT_MAX_FAILURES = 2
    use_llm(lambda messages: done("too late"), delay=lambda messages: 3)
    session = start(api)["session_id"]
    agent = start_agent(api, session, task="Anything")
    status = finished(api, agent["agent_id"])
    assert status["success"] is False and status["steps"] == []
    assert status["stop_reason"] == (
        "stopped after 2 failed steps in a row; the last: the model did not answer "
        "within 1 s (LLM_TIMEOUT_SECONDS)"
    )
    assert api.get(f"/sessions/{session}").json()["status"] == "active", (
        "the session outlives its agent"
    )


def test_stop_mid_run_then_max_steps_on_the_same_session(api, site, use_llm):
    slow = use_llm(lambda messages: done("never"), delay=lambda messages: 20)
    session = start(api)["session_id"]
    agent = start_agent(api, session, task="Wait for ever")["agent_id"]
    assert wait_until(lambda: slow.requests, timeout=20), "the model was asked"
    again = api.post("/agents/start", json={"session_id": session, "task": "A second one"})
    assert again.status_code == 409 and "already running agent" in again.json()["message"]

    stopped = api.delete(f"/agents/{agent}/stop", params={"session_id": session})
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "closed" and stopped.json()["stop_reason"].startswith(
        "stopped by key"
    )
    assert api.delete(f"/agents/{agent}/stop").json()["status"] == "closed", (
        "stopping twice is fine"
    )

    use_llm(lambda messages: step({"type": "scroll_down"}))
    second = start_agent(
        api, session, task="Scroll for ever", url=f"{site.url}/article.html", max_steps=2
    )
    status = finished(api, second["agent_id"])
    assert status["stop_reason"] == "max_steps reached (2) without an answer"
    assert [s["action"]["type"] for s in status["steps"]] == ["goto", "scroll_down", "scroll_down"]
    listed = api.get("/agents/", params={"only_active": False}).json()
    assert {a["agent_id"] for a in listed} == {agent, second["agent_id"]}
    assert api.get("/agents/", params={"only_active": True}).json() == []


def test_ending_the_session_ends_its_agent(api, use_llm):
    slow = use_llm(lambda messages: done("never"), delay=lambda messages: 20)
    session = start(api)["session_id"]
    agent = start_agent(api, session, task="Wait for ever")["agent_id"]
    assert wait_until(lambda: slow.requests, timeout=20)
    assert api.delete(f"/sessions/{session}/stop").json()["status"] == "closed"
    status = finished(api, agent, timeout=10)
    assert status["success"] is False
    assert status["stop_reason"].startswith("the session ended: stopped by key")
    refused = api.post("/agents/start", json={"session_id": session, "task": "More"})
    assert refused.status_code == 409 and "start a new session" in refused.json()["message"]


def test_values_a_page_echoes_are_masked_in_what_the_model_reads(api, site, vault, canary, use_llm):
    def answer(messages):
        p = Prompt.of(messages)
        filled = [a["value"] for a in p.done_ok() if a["type"] == "fill"]
        if not filled:
            return step(
                {"type": "fill", "id": p.element('name="email"'), "value": p.placeholder("email")}
            )
        if len(filled) == 1:
            return step(
                {
                    "type": "fill",
                    "id": p.element('name="cc-number"'),
                    "value": p.placeholder("card_number"),
                }
            )
        if "What your last action read" not in p.text:
            return step({"type": "scrape", "only_main_content": False})
        read = p.text.split("What your last action read:")[1]
        return done(next(line for line in read.splitlines() if line.startswith("cc-number")))

    llm = use_llm(answer)
    session = start(api)["session_id"]
    agent = start_agent(
        api, session, task="Fill the order form", url=f"{site.url}/forms.html", vault_id=vault
    )
    status = finished(api, agent["agent_id"])
    recorded = list(
        AgentStep.objects.filter(run_id=agent["agent_id"])
        .order_by("index")
        .values_list("success", "message")
    )
    assert [ok for ok, _ in recorded] == [True, True, True, True, True], recorded
    # The page wrote the typed card number into its status line; the model read it masked.
    assert status["answer"] == "cc-number: ********"
    everything = json.dumps([r["body"] for r in llm.requests])
    for secret in (canary["email"], "4111111111111111", "4111 1111 1111 1111"):
        assert secret not in everything
