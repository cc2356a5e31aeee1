"""Screenshots of the agent pages for a design review, not a test (the suite does not collect it):

    .venv/bin/pytest tests/e2e/screenshots_agents.py    # PNGs go to $PERISCOPE_SCREENSHOTS or /tmp/shots

The runs are written straight into the database beside a real live session (so the run page's
live view has pixels): the agents list with its "New agent" form, the form refusing a bad schema,
a run page while the agent works, one waiting for approval and one that answered; at 1280x800 and
390x844, light and dark.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.sessions_app.helpers import start

pytestmark = pytest.mark.e2e

SHOTS = os.environ.get("PERISCOPE_SCREENSHOTS", "/tmp/shots")
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

STEPS = [
    (
        {"type": "goto", "url": "{site}/login.html"},
        "success",
        "Nothing done yet.",
        "Open the sign-in page.",
        "Task: log in and read the balance.",
    ),
    (
        {"type": "fill", "id": "I1", "value": "user@example.org"},
        "success",
        "The sign-in page is open.",
        "Fill the email field with the vault's email.",
        "On the sign-in page of Harbour Light.",
    ),
    (
        {"type": "fill", "id": "I2", "value": "mycoolpassword"},
        "success",
        "The email is filled in.",
        "Fill the password from the vault.",
        "Email filled; password next.",
    ),
    (
        {"type": "click", "id": "B2"},
        "success",
        "Both fields are filled in.",
        "Press Sign in.",
        "Email and password filled.",
    ),
]


def execute(api, session: str, **action) -> dict:
    return api.post(f"/sessions/{session}/page/execute", json=action).json()


def record_steps(api, run, site_url: str, upto: int) -> None:
    from agents_app.models import AgentStep

    api.post(f"/sessions/{run.session_id}/page/observe", json={})
    for index, (action, status, evaluation, goal, memory) in enumerate(STEPS[:upto], start=1):
        action = {
            k: (v.format(site=site_url) if isinstance(v, str) else v) for k, v in action.items()
        }
        result = execute(api, str(run.session_id), **action)
        if action["type"] == "goto":
            api.post(f"/sessions/{run.session_id}/page/observe", json={})
        now = timezone.now()
        AgentStep.objects.create(
            run=run,
            index=index,
            action=action,
            success=result.get("success", False),
            message=result.get("message", ""),
            url_before=f"{site_url}/login.html",
            url_after=f"{site_url}/login.html",
            session_step_index=None,
            state={
                "previous_goal_status": status,
                "previous_goal_eval": evaluation,
                "page_summary": "",
                "relevant_interactions": [],
                "memory": memory,
                "next_goal": goal,
            },
            prompt_tokens=1800 + 40 * index,
            completion_tokens=90 + index,
            llm_ms=640 + 35 * index,
            loop_ms=28,
            started_at=now,
            ended_at=now,
        )
    # The session's own steps carry the screenshots; link each agent step to its session step.
    from sessions_app.models import Step

    session_steps = [
        s.index
        for s in Step.objects.filter(
            session_id=run.session_id, action__type__in=["goto", "fill", "click"]
        ).order_by("index")
    ]
    for agent_step, session_index in zip(run.steps.order_by("index"), session_steps, strict=False):
        agent_step.session_step_index = session_index
        agent_step.save(update_fields=["session_step_index"])
    run.prompt_tokens = sum(s.prompt_tokens for s in run.steps.all())
    run.completion_tokens = sum(s.completion_tokens for s in run.steps.all())
    run.save(update_fields=["prompt_tokens", "completion_tokens"])


def test_agent_screenshots(browser, live, site, owner, team, api):
    from agents_app.models import AgentRun, AgentState
    from sessions_app.models import BrowserSession, SessionStatus
    from vaults_app.models import Vault

    Vault.objects.create(team=team, name="Harbour Light logins")
    task = "Log in to Harbour Light with the vault's login and tell me the account balance"

    working_session = start(api)["session_id"]
    working = AgentRun.objects.create(
        team=team,
        session_id=working_session,
        started_by_user=owner,
        task=task,
        url=f"{site.url}/login.html",
        max_steps=15,
        model="qwen2.5-7b-instruct",
        reasoning_model="",
    )
    record_steps(api, working, site.url, 3)

    waiting_session = start(api)["session_id"]
    waiting = AgentRun.objects.create(
        team=team,
        session_id=waiting_session,
        started_by_user=owner,
        state=AgentState.NEEDS_APPROVAL,
        task="Buy the annual plan with the team card",
        url=f"{site.url}/checkout.html",
        max_steps=20,
        model="qwen2.5-7b-instruct",
        pending_approval={
            "action": {"type": "fill", "id": "I3", "value": "4242 4242 4242 4242"},
            "reason": "The agent wants to fill the vault's payment card into the checkout form.",
        },
    )
    execute(api, waiting_session, type="goto", url=f"{site.url}/checkout.html")

    done_session = start(api)["session_id"]
    done = AgentRun.objects.create(
        team=team,
        session_id=done_session,
        started_by_user=owner,
        task=task,
        url=f"{site.url}/login.html",
        max_steps=15,
        model="qwen2.5-7b-instruct",
        response_format={
            "type": "object",
            "properties": {"balance": {"type": "string"}},
            "required": ["balance"],
        },
    )
    record_steps(api, done, site.url, 4)
    api.delete(f"/sessions/{done_session}/stop")
    AgentRun.objects.filter(pk=done.pk).update(
        state=AgentState.CLOSED,
        success=True,
        answer='{"balance": "$1,024.00"}',
        structured_answer={"balance": "$1,024.00"},
        stop_reason="The agent completed the task.",
        created_at=timezone.now() - timedelta(seconds=48),
        closed_at=timezone.now(),
    )
    failed_session = BrowserSession.objects.create(
        team=team,
        status=SessionStatus.CLOSED,
        closed_at=timezone.now(),
        viewport_width=1280,
        viewport_height=720,
    )
    AgentRun.objects.create(
        team=team,
        session=failed_session,
        started_by_user=owner,
        state=AgentState.CLOSED,
        success=False,
        task="Find last month's invoice and download it",
        max_steps=10,
        model="qwen2.5-7b-instruct",
        stop_reason="Stopped after 10 steps (max_steps) without an answer.",
        prompt_tokens=21000,
        completion_tokens=900,
        closed_at=timezone.now(),
    )

    out = Path(SHOTS)
    out.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for size_name, size in SIZES.items():
            context = browser.new_context(viewport=size, color_scheme=scheme)
            page = context.new_page()
            prefix = f"{size_name}-{scheme}"
            page.goto(f"{live.url}/login/")
            page.get_by_label("Username").fill("alice")
            page.get_by_label("Password").fill("alice-pass-123")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/sessions/")
            page.goto(f"{live.url}/agents/")
            page.screenshot(path=out / f"{prefix}-agents-list.png", full_page=True)
            page.get_by_label("Task").fill("Read the balance")
            page.locator(".agent-more > summary").click()
            page.get_by_label("Response schema (JSON Schema, optional)").fill('{"type": "obj"}')
            page.get_by_role("button", name="Start agent").click()
            expect(page.get_by_text("This is not a valid JSON Schema")).to_be_visible()
            page.locator("#new-heading").scroll_into_view_if_needed()
            page.screenshot(path=out / f"{prefix}-agents-form-error.png")
            page.goto(f"{live.url}/agents/{working.id}/")
            expect(page.locator(".live-card")).to_have_attribute(
                "data-frames", re.compile(r"^[1-9]")
            )
            page.screenshot(
                path=out / f"{prefix}-agent-running.png", full_page=size_name == "phone"
            )
            page.screenshot(path=out / f"{prefix}-agent-running-full.png", full_page=True)
            AgentRun.objects.filter(pk=working.pk).update(state=AgentState.NEEDS_PERSON)
            page.reload()
            expect(page.locator("#run-banner")).to_contain_text("asks for a person")
            page.screenshot(path=out / f"{prefix}-agent-needs-person.png")
            AgentRun.objects.filter(pk=working.pk).update(state=AgentState.RUNNING)
            page.goto(f"{live.url}/agents/{waiting.id}/")
            expect(page.locator(".live-card")).to_have_attribute(
                "data-frames", re.compile(r"^[1-9]")
            )
            page.screenshot(path=out / f"{prefix}-agent-approval.png")
            page.goto(f"{live.url}/agents/{done.id}/")
            page.screenshot(path=out / f"{prefix}-agent-done.png", full_page=True)
            context.close()
