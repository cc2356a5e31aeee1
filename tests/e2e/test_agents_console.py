"""The agent pages in a real Chromium, against the live ASGI server, its worker, the test site and
a scripted model (the fake LLM server): a task given from the console logs in with a vault login
while its steps appear live on the run page, a person takes control (the agent pauses) and hands it
back, the script downloads, and a second agent is stopped from the page.

The scripted model answers one step per `gate.release()`, so the test decides when each step
happens and can look at the page in between."""

import json
import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.agents_app import conftest as agents_fixtures
from tests.agents_app.brain import login_brain

pytestmark = pytest.mark.e2e

# The agents tests' fixtures: the fake LLM server, and a vault with a login for the test site.
use_llm, vault, canary = agents_fixtures.use_llm, agents_fixtures.vault, agents_fixtures.canary

# A held answer waits this long at most (so a failing test cannot hang), and the test raises the
# LLM timeout above it: on a loaded machine the steps between two releases take a while, and an
# answer let through early would act while the test means the agent to wait.
GATE_SECONDS = 120


class Gate:
    """Holds each answer of the model until the test lets one through."""

    def __init__(self, brain):
        self.brain = brain
        self.tickets = threading.Semaphore(0)

    def answer(self, messages) -> str:
        self.tickets.acquire(timeout=GATE_SECONDS)
        return self.brain(messages)

    def release(self, steps: int = 1) -> None:
        self.tickets.release(steps)


def open_new_agent_form(page: Page, live) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    expect(page.get_by_role("heading", name="New agent")).to_be_visible()


def test_an_agent_started_from_the_console_logs_in_live_pauses_for_a_person_and_exports_its_script(
    page: Page,
    live,
    site,
    owner,
    team,
    api,
    login,
    use_llm,
    vault,
    canary,
    settings,
):
    settings.LLM_TIMEOUT_SECONDS = GATE_SECONDS + 30
    gate = Gate(login_brain(site.url))
    llm = use_llm(gate.answer)
    login(page)
    open_new_agent_form(page, live)
    page.get_by_label("Task").fill("Sign in to Harbour Light and tell me what the page says")
    page.get_by_label("Start URL").fill(f"{site.url}/login.html")
    page.get_by_label("Vault").select_option(label="Site")
    page.get_by_label("Max steps").fill("8")
    page.get_by_role("button", name="Start agent").click()
    page.wait_for_url(re.compile(r"/agents/[0-9a-f-]{36}/$"))
    agent_id = page.url.rstrip("/").rsplit("/", 1)[1]

    # The run page: the session's live view beside the steps; the start URL is step 1.
    view = page.locator(".live-card")
    expect(view.locator("[data-live=state]")).to_have_text("Live")
    expect(view).to_have_attribute("data-frames", re.compile(r"^[1-9]"))
    expect(page.locator(".run-title .badge")).to_have_text("Running")
    expect(page.locator("#agent-step-1")).to_contain_text("goto")
    page.evaluate("window.__noReload = true")

    # Each step the model takes shows up as it happens, with the model's reasoning.
    gate.release()
    step2 = page.locator("#agent-step-2")
    expect(step2).to_contain_text("fill")
    expect(step2).to_contain_text("user@example.org")  # the placeholder, never the login
    expect(step2).to_contain_text("Goal")
    expect(step2.locator(".step-time")).to_contain_text("tok")
    expect(page.locator("#run-steps-head .count")).to_have_text("2/8")

    # A person takes the page: the agent's next answer is set aside and it pauses...
    view.get_by_role("button", name="Take control").click()
    expect(view.get_by_role("button", name="Release control")).to_be_visible()
    gate.release()
    expect(page.locator(".run-title .badge")).to_have_text("Paused")
    expect(page.locator("#run-banner")).to_contain_text("alice has control of the page")
    expect(page.locator("#agent-step-3")).to_have_count(0)
    # ...and carries on once control is handed back.
    view.get_by_role("button", name="Release control").click()
    expect(page.locator(".run-title .badge")).to_have_text("Running")
    gate.release()
    expect(page.locator("#agent-step-3")).to_contain_text("mycoolpassword")

    gate.release(2)  # sign in, then answer
    expect(page.locator(".run-title .badge")).to_have_text("Succeeded")
    expect(page.locator("#result-heading")).to_have_text("Answer")
    expect(page.locator(".result-answer")).to_contain_text("Welcome back")
    expect(page.locator("#agent-step-5")).to_contain_text("completion")
    assert page.evaluate("window.__noReload === true"), "everything above arrived without a reload"
    assert site.logins[-1] == {"email": canary["email"], "password": canary["password"]}

    # The script: shown, copied, downloaded; secrets are read from the environment, never in it.
    expect(page.locator(".script-code")).to_contain_text(f"{site.url}/login.html")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download .py").click()
    download = download_info.value
    assert download.suggested_filename == f"agent-{agent_id[:8]}.py"
    script = Path(download.path()).read_text()
    compile(script, download.suggested_filename, "exec")
    assert f"{site.url}/login.html" in script
    for secret in (canary["password"], canary["email"]):
        assert secret not in script and secret not in page.content()
    everything = json.dumps([r["body"] for r in llm.requests])
    assert canary["password"] not in everything

    # A second agent on the same session, chosen in the form, is stopped from its page.
    open_new_agent_form(page, live)
    page.get_by_label("Task").fill("Find the newest article")
    page.get_by_label("Session").select_option(index=1)
    page.get_by_role("button", name="Start agent").click()
    page.wait_for_url(re.compile(r"/agents/[0-9a-f-]{36}/$"))
    second = page.url.rstrip("/").rsplit("/", 1)[1]
    from agents_app.models import AgentRun

    assert (
        AgentRun.objects.get(pk=second).session_id == AgentRun.objects.get(pk=agent_id).session_id
    )
    expect(page.locator(".run-working")).to_contain_text("Looking at the page")
    page.get_by_role("button", name="Stop agent").click()
    expect(page.locator(".run-title .badge")).to_have_text("Stopped")
    expect(page.locator("#result-heading")).to_have_text("Stopped before an answer")
    expect(page.locator(".result-reason")).to_contain_text("stopped by alice")
    expect(page.get_by_role("button", name="Stop agent")).to_have_count(0)
    gate.release(3)  # the answer it was waiting for goes nowhere

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Agents").click()
    expect(page.locator(f"#agent-{second} .badge")).to_have_text("Stopped")
    expect(page.locator(f"#agent-{agent_id} .badge")).to_have_text("Succeeded")
    page.get_by_role("link", name="Succeeded").click()
    expect(page.locator(f"#agent-{agent_id}")).to_be_visible()
    expect(page.locator(f"#agent-{second}")).to_have_count(0)
