"""The console's agent pages as the server renders them: the runs list and its filters, the
"New agent" form and its validation, the run page (steps, approval, outcome, script), and who may
do what: another team's run is a 404 like an unknown one, viewers see but change nothing, every
POST needs its CSRF token, and no secret is anywhere in a page. (The pages at work in a real
browser, with a real agent: tests/e2e/test_agents_console.py.)"""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from agents_app.models import AgentRun, AgentState, AgentStep
from personas_app.models import Persona
from sessions_app.models import BrowserSession, SessionStatus, Step
from teams_app.models import Membership, Role
from teams_app.services import team_create
from vaults_app.models import Vault

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SCHEMA_OK = (
    '{"type": "object", "properties": {"balance": {"type": "string"}}, "required": ["balance"]}'
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="alice-pass-123")


@pytest.fixture
def team(alice):
    return team_create(name="Acme", owner=alice)


@pytest.fixture
def browser(client, alice, team):
    client.force_login(alice)
    return client


@pytest.fixture
def elsewhere(django_user_model):
    carol = django_user_model.objects.create_user(username="carol", password="carol-pass-123")
    return team_create(name="Elsewhere", owner=carol)


@pytest.fixture
def victor(team, django_user_model):
    """A viewer of Acme."""
    user = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return user


def new_session(team, status=SessionStatus.ACTIVE, **fields) -> BrowserSession:
    return BrowserSession.objects.create(
        team=team, status=status, viewport_width=1280, viewport_height=720, **fields
    )


def new_run(team, *, session=None, user=None, **fields) -> AgentRun:
    fields.setdefault("task", "Log in and read the balance")
    if fields.get("state") == AgentState.CLOSED:
        fields.setdefault("closed_at", timezone.now())
        session = session or new_session(
            team, status=SessionStatus.CLOSED, closed_at=timezone.now()
        )
    return AgentRun.objects.create(
        team=team, session=session or new_session(team), started_by_user=user, **fields
    )


def add_step(
    run: AgentRun, index: int, *, action=None, success=True, shot=True, **fields
) -> AgentStep:
    session_step = Step(
        session=run.session,
        index=index,
        action=action or {"type": "click", "id": "B1"},
        success=success,
        url_after="http://site.test/account",
    )
    if shot:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 36), (20, 90, 160)).save(buffer, format="JPEG")
        session_step.screenshot.save(
            f"{run.session_id}/{index:05d}.jpg", ContentFile(buffer.getvalue()), save=False
        )
    session_step.save()
    now = timezone.now()
    return AgentStep.objects.create(
        run=run,
        index=index,
        session_step_index=index,
        success=success,
        action=action or {"type": "click", "id": "B1"},
        state={
            "previous_goal_status": "success",
            "previous_goal_eval": f"eval {index}",
            "page_summary": "a login page",
            "relevant_interactions": [],
            "memory": f"memory {index}",
            "next_goal": f"goal {index}",
        },
        url_before="http://site.test/login",
        url_after="http://site.test/account",
        prompt_tokens=900,
        completion_tokens=100,
        llm_ms=420.0,
        loop_ms=35.0,
        started_at=now,
        ended_at=now,
        **fields,
    )


def start_form(**overrides) -> dict:
    data = {
        "task": "Log in and read the balance",
        "url": "http://site.test/login",
        "session": "",
        "vault": "",
        "persona": "",
        "max_steps": "12",
        "use_vision": "on",
        "response_format": "",
    }
    data.update(overrides)
    return data


# -- the list ------------------------------------------------------------------------------------


def test_the_list_shows_the_team_runs_with_their_state_steps_outcome_model_tokens_and_starter(
    browser, team, alice, elsewhere
):
    done = new_run(
        team,
        user=alice,
        task="Find the invoice",
        state=AgentState.CLOSED,
        success=True,
        model="local-model",
        prompt_tokens=1200,
        completion_tokens=34,
        answer="42",
    )
    add_step(done, 1)
    add_step(done, 2)
    waiting = new_run(team, task="Pay the bill", state=AgentState.NEEDS_APPROVAL)
    helpme = new_run(team, task="Solve the puzzle", state=AgentState.NEEDS_PERSON)
    theirs = new_run(elsewhere, task="Their secret task")

    html = browser.get("/agents/").content.decode()
    row = re.search(rf'<tr id="agent-{done.id}".*?</tr>', html, re.S).group(0)
    assert "Find the invoice" in row and "Succeeded" in row and "local-model" in row
    assert ">1,234<" in row  # tokens: prompt + completion
    assert re.search(r">\s*2<span class=\"muted\">/20</span>", row)  # steps of max steps
    assert "alice" in row
    assert "Waiting for approval" in html and "Waiting for a person" in html
    assert f'id="agent-{waiting.id}"' in html and f'id="agent-{helpme.id}"' in html
    assert "Their secret task" not in html and str(theirs.id) not in html
    assert 'hx-trigger="every 3s"' in html  # runs are active: the table keeps itself fresh
    # the table alone, for that refresh
    rows = browser.get("/agents/?fragment=rows", headers=HTMX)
    assert "HX-Request" in rows["Vary"]
    assert rows.content.decode().lstrip().startswith('<div id="agent-rows"')
    assert "New agent" not in rows.content.decode()


def test_the_list_filters_by_status_and_outcome_and_stops_refreshing_when_nothing_runs(
    browser, team
):
    running = new_run(team, task="still going")
    won = new_run(team, task="went well", state=AgentState.CLOSED, success=True)
    lost = new_run(
        team,
        task="went badly",
        state=AgentState.CLOSED,
        success=False,
        stop_reason="max steps reached",
    )

    def ids(query: str) -> set[str]:
        html = browser.get(f"/agents/{query}").content.decode()
        return set(re.findall(r'<tr id="agent-([0-9a-f-]{36})"', html))

    assert ids("") == {str(running.id), str(won.id), str(lost.id)}
    assert ids("?status=active") == {str(running.id)}
    assert ids("?status=closed") == {str(won.id), str(lost.id)}
    assert ids("?success=yes") == {str(won.id)}
    assert ids("?status=closed&success=no") == {str(lost.id)}
    assert ids("?status=bogus") == ids("")  # an unknown filter is no filter
    closed_page = browser.get("/agents/?status=closed").content.decode()
    assert 'hx-trigger="every 3s"' not in closed_page
    assert 'aria-current="true">Closed<' in closed_page
    assert (
        "No agent runs match these filters"
        in browser.get("/agents/?status=active&success=yes").content.decode()
    )


def test_the_new_agent_form_offers_only_the_team_sessions_vaults_and_personas(
    browser, team, elsewhere
):
    free = new_session(team)
    busy = new_session(team)
    new_run(team, session=busy)
    new_session(team, status=SessionStatus.CLOSED)
    vault = Vault.objects.create(team=team, name="Shop logins")
    persona = Persona.objects.create(
        team=team, first_name="Ada", last_name="Byron", email="ada@mail.test"
    )
    their_session = new_session(elsewhere)
    their_vault = Vault.objects.create(team=elsewhere, name="Their vault")

    html = browser.get("/agents/").content.decode()
    form = re.search(r'<form method="post" action="/agents/start/".*?</form>', html, re.S).group(0)
    assert "csrfmiddlewaretoken" in form
    assert (
        f'value="{free.id}"' in form and f'value="{busy.id}"' not in form
    )  # one agent per session
    assert f'value="{their_session.id}"' not in form
    assert f'value="{vault.id}"' in form and "Shop logins" in form
    assert f'value="{their_vault.id}"' not in form and "Their vault" not in form
    assert f'value="{persona.id}"' in form and "ada@mail.test" in form
    for name in ("task", "url", "session", "vault", "persona", "max_steps", "response_format"):
        assert f'name="{name}"' in form


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("response_format", '{"type": "object", "properties": ', "This is not valid JSON"),
        ("response_format", '{"type": "nonsense"}', "This is not a valid JSON Schema"),
        (
            "response_format",
            '{"properties": {"n": {"minimum": "ten"}}}',
            "(at properties/n/minimum)",
        ),
        ("response_format", '["a", "list"]', "A JSON Schema is an object"),
        ("url", "file:///etc/passwd", "starts with http:// or https://"),
        ("task", "", "This field is required"),
        ("max_steps", "0", "greater than or equal to 1"),
        ("max_steps", "151", "less than or equal to 150"),
    ],
)
def test_the_new_agent_form_refuses_bad_input_with_a_clear_message_and_starts_nothing(
    browser, team, field, value, message
):
    response = browser.post("/agents/start/", start_form(**{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert re.search(r'class="field has-error', html)
    assert AgentRun.objects.count() == 0 and BrowserSession.objects.count() == 0


def test_the_new_agent_form_refuses_another_team_s_session_vault_or_persona(
    browser, team, elsewhere
):
    their_session = new_session(elsewhere)
    their_vault = Vault.objects.create(team=elsewhere, name="Their vault")
    their_persona = Persona.objects.create(
        team=elsewhere, first_name="Eve", last_name="X", email="eve@mail.test"
    )
    for field, value in (
        ("session", their_session.id),
        ("vault", their_vault.id),
        ("persona", their_persona.id),
        ("session", uuid.uuid4()),
    ):
        html = browser.post("/agents/start/", start_form(**{field: str(value)})).content.decode()
        assert "Select a valid choice" in html, field
    assert AgentRun.objects.count() == 0


def test_a_valid_schema_is_kept_in_the_form_when_another_field_is_wrong(browser, team):
    html = browser.post(
        "/agents/start/", start_form(task="", response_format=SCHEMA_OK)
    ).content.decode()
    assert "&quot;balance&quot;" in html  # the schema the person typed is still there
    assert re.search(r'<details class="disclosure agent-more" open', html)


# -- the run page --------------------------------------------------------------------------------


def test_the_run_page_shows_the_live_view_beside_the_steps_with_their_reasoning(
    browser, team, alice
):
    run = new_run(team, user=alice, model="local-model")
    add_step(run, 1, action={"type": "fill", "id": "I1", "value": "mycoolpassword"})
    add_step(run, 2, shot=False, success=False, message="element not found")
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert f'data-live-socket="/ws/sessions/{run.session_id}/"' in html
    assert 'data-control="take"' in html  # take control: the session's own lease machinery
    assert "/static/js/live.js" in html and "/static/js/agent-run.js" in html
    assert 'hx-trigger="live-changed from:body, live-ended from:body"' in html
    step1 = re.search(r'<li class="step agent-step" id="agent-step-1".*?</li>', html, re.S).group(0)
    for text in (
        "goal 1",
        "eval 1",
        "memory 1",
        "fill",
        "I1 ← mycoolpassword",
        "1000 tok",
        "420 ms",
    ):
        assert text in step1, text
    assert f"/sessions/{run.session_id}/steps/1/screenshot/" in step1
    assert 'id="agent-step-2"' in html and "element not found" in html
    assert f"/sessions/{run.session_id}/steps/2/screenshot/" not in html  # no screenshot recorded
    assert "Stop agent" in html and "Working on step 3" in html
    assert "Approve" not in html and "Download .py" not in html  # nothing waits; no script yet


def test_the_refresh_fragment_carries_the_steps_and_the_rest_out_of_band(browser, team):
    run = new_run(team)
    add_step(run, 1)
    response = browser.get(f"/agents/{run.id}/?fragment=refresh", headers=HTMX)
    html = response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert 'id="agent-step-1"' in html
    for part in ("run-head", "run-banner", "run-outcome", "run-steps-head"):
        assert re.search(rf'<div id="{part}"[^>]*hx-swap-oob="true"', html), part
    assert "data-live-socket" not in html and 'id="run-steps"' not in html


def test_a_run_waiting_for_approval_offers_approve_and_reject(browser, team):
    run = new_run(
        team,
        state=AgentState.NEEDS_APPROVAL,
        pending_approval={
            "action": {"type": "fill", "id": "I4", "value": "4242 4242 4242 4242"},
            "reason": "It fills a payment card",
        },
    )
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert "The agent waits for your approval" in html and "It fills a payment card" in html
    assert "4242 4242 4242 4242" in html  # the placeholder, never the card
    assert f'hx-post="/agents/{run.id}/decide/"' in html
    assert 'name="decision" value="approve"' in html and 'name="decision" value="reject"' in html
    assert browser.post(f"/agents/{run.id}/decide/", {"decision": "maybe"}).status_code == 400


def test_a_run_that_asks_for_a_person_says_so_and_how_to_help(browser, team):
    run = new_run(team, state=AgentState.NEEDS_PERSON)
    add_step(run, 1, action={"type": "help", "reason": "A captcha blocks the form"})
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert "The agent asks for a person" in html and "A captcha blocks the form" in html
    assert "Take control in the live view" in html


def test_a_closed_run_shows_its_answer_its_structured_output_and_its_script(browser, team):
    run = new_run(
        team,
        state=AgentState.CLOSED,
        success=True,
        answer='{"balance": "$1,024.00"}',
        structured_answer={"balance": "$1,024.00"},
        url="http://site.test/login",
        stop_reason="The agent completed the task",
        response_format={"type": "object"},
    )
    add_step(run, 1, action={"type": "fill", "id": "I1", "value": "user@example.org"})
    add_step(run, 2, action={"type": "completion", "success": True, "answer": "done"})
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert "Structured output" in html and "&quot;balance&quot;: &quot;$1,024.00&quot;" in html
    assert "The agent completed the task" in html and "Succeeded" in html
    assert "Stop agent" not in html and "Last screen" in html
    assert f'href="/agents/{run.id}/script.py"' in html and "Download .py" in html
    assert "read it before you run it" in html

    download = browser.get(f"/agents/{run.id}/script.py")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/x-python")
    assert download["Content-Disposition"] == f'attachment; filename="agent-{str(run.id)[:8]}.py"'
    script = download.content.decode()
    compile(script, "agent.py", "exec")  # a Python program
    assert "http://site.test/login" in script
    workflow = browser.get(f"/agents/{run.id}/script.py?as_workflow=1")
    assert workflow.status_code == 200 and "-workflow.py" in workflow["Content-Disposition"]


# -- access --------------------------------------------------------------------------------------


def test_another_team_s_run_is_a_404_like_an_unknown_one_for_every_page_and_action(
    browser, elsewhere
):
    theirs = new_run(elsewhere, task="Their secret task")
    unknown = uuid.uuid4()
    for agent_id in (theirs.id, unknown):
        for url in (
            f"/agents/{agent_id}/",
            f"/agents/{agent_id}/?fragment=refresh",
            f"/agents/{agent_id}/script.py",
        ):
            response = browser.get(url, headers=HTMX if "fragment" in url else {})
            assert response.status_code == 404, url
            assert "Their secret task" not in response.content.decode()
        assert browser.post(f"/agents/{agent_id}/stop/").status_code == 404
        assert (
            browser.post(f"/agents/{agent_id}/decide/", {"decision": "approve"}).status_code == 404
        )
    theirs.refresh_from_db()
    assert theirs.state == AgentState.RUNNING


def test_a_viewer_sees_runs_but_no_button_and_every_change_is_refused(client, team, victor):
    client.force_login(victor)
    run = new_run(
        team,
        state=AgentState.NEEDS_APPROVAL,
        pending_approval={
            "action": {"type": "click", "id": "B2"},
            "reason": "It submits a payment form",
        },
    )
    listing = client.get("/agents/").content.decode()
    assert f'id="agent-{run.id}"' in listing
    assert (
        "New agent" not in listing
        and 'action="/agents/start/"' not in listing
        and ">Stop<" not in listing
    )
    page = client.get(f"/agents/{run.id}/").content.decode()
    assert "The agent waits for your approval" in page and "A member of the team approves" in page
    assert (
        "Stop agent" not in page and 'value="approve"' not in page and "data-control=" not in page
    )
    assert client.post("/agents/start/", start_form()).status_code == 403
    assert client.post(f"/agents/{run.id}/stop/").status_code == 403
    assert client.post(f"/agents/{run.id}/decide/", {"decision": "approve"}).status_code == 403
    run.refresh_from_db()
    assert run.state == AgentState.NEEDS_APPROVAL and AgentRun.objects.count() == 1


def test_every_post_needs_its_csrf_token(team, alice):
    run = new_run(team)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post("/agents/start/", start_form()).status_code == 403
    assert strict.post(f"/agents/{run.id}/stop/").status_code == 403
    assert strict.post(f"/agents/{run.id}/decide/", {"decision": "reject"}).status_code == 403
    run.refresh_from_db()
    assert run.state == AgentState.RUNNING and AgentRun.objects.count() == 1


def test_signed_out_people_are_sent_to_the_login_page(client, team):
    run = new_run(team)
    for url in ("/agents/", f"/agents/{run.id}/", f"/agents/{run.id}/script.py"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_no_page_holds_a_vault_secret(browser, team, alice, vault_keyring):
    from tests.vaults_app.helpers import make_actor
    from vaults_app import services as vault_services

    secret = "S3cret-canary-" + uuid.uuid4().hex[:8]
    actor = make_actor(team, alice, reauthenticated=True)
    vault = vault_services.vault_create(actor=actor, name="Shop logins")
    vault_services.credential_put(
        actor=actor, vault_id=vault.id, url="site.test", email="ada@site.test", password=secret
    )
    run = new_run(
        team, vault_id=str(vault.id), state=AgentState.CLOSED, success=True, answer="done"
    )
    add_step(run, 1, action={"type": "fill", "id": "I1", "value": "user@example.org"})
    add_step(run, 2, action={"type": "fill", "id": "I2", "value": "mycoolpassword"})
    pages = [
        browser.get(url).content.decode()
        for url in (
            "/agents/",
            f"/agents/{run.id}/",
            f"/agents/{run.id}/script.py",
            f"/agents/{run.id}/script.py?as_workflow=1",
        )
    ]
    assert "Shop logins" in pages[1]  # the vault by name
    for page in pages:
        assert secret not in page


def test_the_run_page_shows_its_duration_tokens_and_llm_time(browser, team):
    run = new_run(
        team,
        state=AgentState.CLOSED,
        success=False,
        stop_reason="max_steps reached",
        prompt_tokens=1800,
        completion_tokens=200,
    )
    AgentRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=42))
    add_step(run, 1)
    add_step(run, 2)
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert "The agent did not succeed" in html and "max_steps reached" in html
    assert "2,000 tokens" in html and "LLM 0.8 s" in html
    assert "1,800 in · 200 out" in html


def test_approve_lets_the_agent_go_on_and_reject_ends_it_both_audited(browser, team):
    from teams_app.models import AuditAction, AuditEvent

    pending = {"action": {"type": "click", "id": "B3"}, "reason": "It submits a payment form"}
    approved = new_run(team, state=AgentState.NEEDS_APPROVAL, pending_approval=pending)
    response = browser.post(f"/agents/{approved.id}/decide/", {"decision": "approve"}, headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "live-changed"
    approved.refresh_from_db()
    assert approved.state == AgentState.RUNNING and approved.pending_approval is None

    rejected = new_run(team, state=AgentState.NEEDS_APPROVAL, pending_approval=pending)
    response = browser.post(f"/agents/{rejected.id}/decide/", {"decision": "reject"})
    assert response.status_code == 302 and response["Location"] == f"/agents/{rejected.id}/"
    rejected.refresh_from_db()
    assert rejected.state == AgentState.CLOSED and rejected.success is False
    assert "alice rejected" in rejected.stop_reason
    actions = set(AuditEvent.objects.filter(team=team).values_list("action", flat=True))
    assert {AuditAction.AGENT_APPROVED, AuditAction.AGENT_REJECTED} <= actions
    # Nothing waits any more: a second decision changes nothing and says why.
    page = browser.post(f"/agents/{rejected.id}/decide/", {"decision": "approve"}, follow=True)
    assert "is not waiting for an approval" in page.content.decode()


def test_stop_closes_the_run_from_its_page_and_from_the_list(browser, team):
    run = new_run(team)
    response = browser.post(f"/agents/{run.id}/stop/", headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "live-changed"
    run.refresh_from_db()
    assert run.state == AgentState.CLOSED and run.stop_reason == "stopped by alice"
    html = browser.get(f"/agents/{run.id}/").content.decode()
    assert "Stopped before an answer" in html and "Stop agent" not in html
    other = new_run(team)
    response = browser.post(f"/agents/{other.id}/stop/", {"next": "list"})
    assert response.status_code == 302 and response["Location"] == "/agents/"
    other.refresh_from_db()
    assert other.state == AgentState.CLOSED
