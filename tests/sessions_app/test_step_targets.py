"""A program's actions (an agent run's) record, for each element acted on, its resolved target on
the session's step (how to find the element again without observe ids); no vault secret reaches a
target. The API's execute does not pay for describing targets and its reply keeps Notte's shape."""

import json
import uuid

import pytest
from notte_sdk import NotteClient

from sessions_app.models import Step
from tests.sessions_app.helpers import start, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REPLY_KEYS = {"started_at", "ended_at", "action", "success", "message", "data", "exception"}


def act(api, session: str, **action) -> dict:
    response = api.post(f"/sessions/{session}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


def program_act(live, session: str, **action) -> dict:
    """The action as a program in the worker (the agent loop) carries it out."""
    return live.call(lambda: live.worker.program_execute(session, action))


def by_name(observation, text):
    return next(a for a in observation["space"]["interaction_actions"] if text in a["description"])


def targets(session: str, count: int) -> list:
    wait_until(lambda: Step.objects.filter(session_id=session).count() == count)
    return list(
        Step.objects.filter(session_id=session).order_by("index").values_list("target", flat=True)
    )


@pytest.fixture
def canary():
    return f"Canary-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def vault(api, vault_keyring, canary):
    vault_id = api.post("/vaults/create", json={"name": "Site"}).json()["vault_id"]
    login = {"url": "127.0.0.1", "credentials": {"email": "ada@example.test", "password": canary}}
    assert api.post(f"/vaults/{vault_id}/credentials", json=login).status_code == 200
    return vault_id


def test_a_vault_login_by_observed_ids_records_targets_without_the_secret(
    api, live, site, vault, canary
):
    session = start(api, vault_id=vault)["session_id"]
    goto = program_act(live, session, type="goto", url=f"{site.url}/login.html")
    observation = api.post(f"/sessions/{session}/page/observe", json={}).json()
    email, password, sign_in = (
        by_name(observation, "Email"),
        by_name(observation, "Password"),
        by_name(observation, "Sign in"),
    )
    replies = [
        goto,
        program_act(live, session, type="fill", id=email["id"], value="user@example.org"),
        program_act(live, session, type="fill", id=password["id"], value="mycoolpassword"),
        program_act(live, session, type="click", id=sign_in["id"]),
    ]
    assert site.logins[-1] == {"email": "ada@example.test", "password": canary}
    assert all(reply["success"] for reply in replies)
    assert [r["target"] and r["target"]["selector"] for r in replies] == [
        None,
        "#email",
        "#password",
        "#sign-in",
    ]

    recorded = targets(session, 4)
    assert recorded[0] is None  # a goto acts on no element
    assert [t["selector"] for t in recorded[1:]] == ["#email", "#password", "#sign-in"]
    assert recorded[1] == {
        "selector": "#email",
        "role": "textbox",
        "name": "Email",
        "frame_url": None,
        "frame_selectors": [],
    }
    assert (recorded[3]["role"], recorded[3]["name"]) == ("button", "Sign in")
    dump = json.dumps(
        list(Step.objects.filter(session_id=session).values("action", "target", "message"))
    )
    assert canary not in dump and "ada@example.test" not in dump


def test_selects_checks_and_form_fills_record_what_a_replay_needs(api, live, site):
    session = start(api)["session_id"]
    program_act(live, session, type="goto", url=f"{site.url}/forms.html")
    observation = api.post(f"/sessions/{session}/page/observe", json={"max_nb_actions": 500}).json()
    japan = next(
        a
        for a in observation["space"]["interaction_actions"]
        if a["type"] == "select_dropdown_option" and a.get("value") == "Japan"
    )
    assert japan["id"].startswith("O")
    assert program_act(live, session, type="select_dropdown_option", id=japan["id"], value="Japan")[
        "success"
    ]
    assert program_act(
        live, session, type="select_dropdown_option", selector="#country", value="Kenya"
    )["success"]
    assert program_act(
        live, session, type="check", id=by_name(observation, ">Pro<")["id"], value=True
    )["success"]
    filled = program_act(
        live, session, type="form_fill", value={"email": "ada@example.test", "postal_code": "69001"}
    )
    assert filled["success"], filled
    recorded = targets(session, 5)
    assert recorded[1]["selector"] == "#country" and recorded[1]["option"] == "Japan"
    assert recorded[2]["selector"] == "#country" and recorded[2]["option"] == "Kenya"
    assert recorded[3]["selector"] == "#plan-pro" and recorded[3]["role"] == "radio"
    fields = recorded[4]["fields"]
    assert recorded[4]["selector"] is None and set(fields) == {"email", "postal_code"}
    assert all(field["selector"] for field in fields.values())


def test_api_executes_keep_notte_s_reply_and_describe_no_target(api, site):
    session = start(api)["session_id"]
    replies = [
        act(api, session, type="goto", url=f"{site.url}/login.html"),
        act(api, session, type="fill", selector="#email", value="ada@example.test"),
        act(api, session, type="click", selector="#sign-in"),
    ]
    for reply in replies:
        assert reply["success"] and set(reply) == REPLY_KEYS
    assert targets(session, 3) == [None, None, None]


def test_the_sdk_still_reads_execute_replies_of_selector_actions(live, api_key, site):
    client = NotteClient(api_key=api_key, server_url=live.api_url)
    with client.Session() as session:
        session.execute(type="goto", url=f"{site.url}/login.html")
        result = session.execute(type="fill", selector="#email", value="ada@example.test")
        assert result.success
        result = session.execute(type="click", selector='internal:role=button[name="Sign in"s]')
        assert result.success
