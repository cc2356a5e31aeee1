"""The exported scripts replay a real run: a session logs into the test site with vault
placeholders through the API's execute, its steps are exported, and each script, run in a fresh
process, logs in again the same way. The Playwright one needs nothing but Playwright and the
secrets in its environment; the notte-sdk one drives a new session on the server."""

import os
import subprocess
import sys
import uuid

import pytest

from agents_app.export import ExportStep, workflow_code
from sessions_app.models import Step
from tests.sessions_app.helpers import start, wait_until
from tests.support.chromium import chromium_executable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def login():
    return {"email": "ada.replay@example.test", "password": f"Canary-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def login_vault(api, vault_keyring, login):
    vault_id = api.post("/vaults/create", json={"name": "Site"}).json()["vault_id"]
    body = {"url": "127.0.0.1", "credentials": login}
    assert api.post(f"/vaults/{vault_id}/credentials", json=body).status_code == 200
    return vault_id


def act(live, session: str, action: dict) -> dict:
    """The action as the agent loop carries it out (a worker program: its steps record targets)."""
    result = live.call(lambda: live.worker.program_execute(session, dict(action)))
    assert result["success"], result
    return action


def by_name(observation, text):
    return next(a for a in observation["space"]["interaction_actions"] if text in a["description"])


def recorded_run(api, live, site, vault_id: str) -> list[ExportStep]:
    """Log in by observed ids with the vault's placeholders; the steps as the export reads them:
    the actions as given (the stored ones mask what was typed), the targets as recorded."""
    session = start(api, vault_id=vault_id)["session_id"]
    given = [act(live, session, {"type": "goto", "url": f"{site.url}/login.html"})]
    observation = api.post(f"/sessions/{session}/page/observe", json={}).json()
    for text, value in (("Email", "user@example.org"), ("Password", "mycoolpassword")):
        given.append(
            act(
                live,
                session,
                {"type": "fill", "id": by_name(observation, text)["id"], "value": value},
            )
        )
    given.append(act(live, session, {"type": "click", "id": by_name(observation, "Sign in")["id"]}))
    wait_until(lambda: Step.objects.filter(session_id=session).count() == len(given))
    api.delete(f"/sessions/{session}/stop")
    rows = Step.objects.filter(session_id=session).order_by("index")
    return [
        ExportStep(
            action=action,
            target=row.target,
            url_before=row.url_before,
            url_after=row.url_after,
            success=row.success,
        )
        for action, row in zip(given, rows, strict=True)
    ]


def run_script(tmp_path, script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    path = tmp_path / "replay.py"
    path.write_text(script)
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DISABLE_TELEMETRY": "true",
    }
    return subprocess.run(
        [sys.executable, str(path)],
        env=base | env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_playwright_script_logs_in_again_in_a_fresh_process(
    api, live, site, login_vault, login, tmp_path
):
    steps = recorded_run(api, live, site, login_vault)
    assert site.logins[-1] == login
    assert steps[-1].url_after == f"{site.url}/account.html"
    code = workflow_code(steps, start_url=f"{site.url}/login.html", as_workflow=False)
    script = code["python_script"]
    assert login["password"] not in script and login["email"] not in script
    assert [a.get("selector") for a in code["json_actions"]] == [
        None,
        "#email",
        "#password",
        "#sign-in",
    ]

    missing = run_script(tmp_path, script, {"PERISCOPE_CHROMIUM": chromium_executable()})
    assert missing.returncode != 0 and "PERISCOPE_VAULT_PASSWORD" in missing.stderr

    before = len(site.logins)
    replay = run_script(
        tmp_path,
        script,
        {
            "PERISCOPE_CHROMIUM": chromium_executable(),
            "PERISCOPE_VAULT_EMAIL": login["email"],
            "PERISCOPE_VAULT_PASSWORD": login["password"],
        },
    )
    assert replay.returncode == 0, replay.stderr
    assert site.logins[before:] == [login]  # the site saw the same sign-in, from the script
    assert f"now on {site.url}/account.html" in replay.stdout


def test_the_notte_sdk_script_logs_in_again_through_the_server(
    live, api, api_key, site, login_vault, login, tmp_path
):
    steps = recorded_run(api, live, site, login_vault)
    script = workflow_code(steps, start_url=f"{site.url}/login.html", as_workflow=True)[
        "python_script"
    ]
    assert login["password"] not in script

    before = len(site.logins)
    replay = run_script(
        tmp_path,
        script,
        {
            "NOTTE_API_KEY": api_key,
            "NOTTE_API_URL": live.api_url,
            "PERISCOPE_VAULT_ID": login_vault,
        },
    )
    assert replay.returncode == 0, replay.stderr
    assert site.logins[before:] == [login]  # the server typed the vault's secrets


def test_an_agents_exported_script_replays_its_login(api, site, vault, canary, use_llm, tmp_path):
    """The agent logs in with the vault; GET /agents/{id}/workflow/code builds its script from
    the run's steps, and the script, alone, signs in the same way."""
    from .brain import login_brain
    from .helpers import finished, start_agent

    use_llm(login_brain(site.url))
    session = start(api)["session_id"]
    agent = start_agent(
        api,
        session,
        task="Sign in to Harbour Light",
        url=f"{site.url}/login.html",
        vault_id=vault,
        max_steps=6,
    )
    assert finished(api, agent["agent_id"])["success"] is True
    credentials = {"email": canary["email"], "password": canary["password"]}
    assert site.logins[-1] == credentials

    response = api.get(
        f"/agents/{agent['agent_id']}/workflow/code", params={"as_workflow": "false"}
    )
    assert response.status_code == 200, response.text
    code = response.json()
    assert canary["password"] not in response.text and canary["email"] not in response.text
    assert [(a["type"], a.get("selector")) for a in code["json_actions"]] == [
        ("goto", None),
        ("fill", "#email"),
        ("fill", "#password"),
        ("click", "#sign-in"),
    ]
    assert code["json_actions"][1]["value"] == "user@example.org"  # the placeholder, kept

    before = len(site.logins)
    replay = run_script(
        tmp_path,
        code["python_script"],
        {
            "PERISCOPE_CHROMIUM": chromium_executable(),
            "PERISCOPE_VAULT_EMAIL": canary["email"],
            "PERISCOPE_VAULT_PASSWORD": canary["password"],
        },
    )
    assert replay.returncode == 0, replay.stderr
    assert site.logins[before:] == [credentials]
    assert f"now on {site.url}/account.html" in replay.stdout

    workflow = api.get(
        f"/agents/{agent['agent_id']}/workflow/code", params={"as_workflow": "true"}
    ).json()
    compile(workflow["python_script"], "workflow.py", "exec")
    assert "from notte_sdk import NotteClient" in workflow["python_script"]
    assert canary["password"] not in workflow["python_script"]
