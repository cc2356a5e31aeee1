"""Filling pages from a vault through the API: Notte's placeholders become the real values in the
worker, on the right origin and field only, and the value reaches no output a person, a program
or a model can read (text, images, cookies)."""

import base64
import io
import random
import shutil
import subprocess
import uuid

import pytest
from PIL import Image

from sessions_app.models import BrowserSession, Step
from tests.sessions_app.helpers import start, wait_until
from tests.support.leaks import find_leaks
from vaults_app.models import AuditOutcome, VaultAuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def luhn_number(prefix: str = "4") -> str:
    digits = [int(d) for d in prefix] + [random.randrange(10) for _ in range(15 - len(prefix))]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@pytest.fixture
def canary():
    return {
        "password": f"Canary-{uuid.uuid4().hex[:12]}",
        "card": luhn_number(),
        "email": "ada.canary@example.test",
    }


@pytest.fixture
def vault(api, vault_keyring, canary):
    vault_id = api.post("/vaults/create", json={"name": "Shop"}).json()["vault_id"]
    login = {
        "url": "127.0.0.1",
        "credentials": {"email": canary["email"], "password": canary["password"]},
    }
    assert api.post(f"/vaults/{vault_id}/credentials", json=login).status_code == 200
    card = {
        "credit_card": {
            "card_holder_name": "Ada Canary",
            "card_number": canary["card"],
            "card_cvv": "123",
            "card_full_expiration": "12/39",
        }
    }
    assert api.post(f"/vaults/{vault_id}/card", json=card).status_code == 200
    return vault_id


def act(api, session: str, **action) -> dict:
    response = api.post(f"/sessions/{session}/page/execute", json=action)
    assert response.status_code == 200, response.text
    return response.json()


def ocr(jpeg: bytes) -> str:
    """The text tesseract reads in an image (digits included)."""
    assert shutil.which("tesseract"), (
        "tesseract (Debian's tesseract-ocr) is needed for these checks"
    )
    image = Image.open(io.BytesIO(jpeg)).convert("L")
    image = image.resize((image.width * 2, image.height * 2))
    png = io.BytesIO()
    image.save(png, format="PNG")
    return subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "11"],
        input=png.getvalue(),
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout.decode()


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def test_a_login_form_is_filled_from_the_vault_and_the_site_confirms(api, site, vault, canary):
    session = start(api, vault_id=vault)["session_id"]
    act(api, session, type="goto", url=f"{site.url}/login.html")
    assert act(api, session, type="fill", selector="#email", value="user@example.org")["success"]
    assert act(api, session, type="fill", selector="#password", value="mycoolpassword")["success"]
    act(api, session, type="click", selector="#sign-in")
    assert site.logins[-1] == {"email": canary["email"], "password": canary["password"]}
    observation = api.post(f"/sessions/{session}/page/observe", json={}).json()
    assert observation["metadata"]["url"].endswith("/account.html")
    steps = api.get(f"/sessions/{session}").json()["steps"]
    assert [s["action"].get("value") for s in steps[1:3]] == ["********", "********"]
    uses = VaultAuditEvent.objects.filter(session_id=session, outcome=AuditOutcome.OK)
    assert sorted(uses.values_list("field", flat=True)) == ["email", "password"]
    assert BrowserSession.objects.get(pk=session).vault_filled_at is not None


def test_the_canary_reaches_no_output(api, site, vault, canary, live, owner, caplog):
    import logging

    from django.core.management import call_command

    from tests.sessions_app.live_client import console_socket

    caplog.set_level(logging.DEBUG)
    session = start(api, vault_id=vault)["session_id"]
    watcher = console_socket(live, f"/ws/sessions/{session}/", owner)
    act(api, session, type="goto", url=f"{site.url}/login.html")
    act(api, session, type="fill", selector="#email", value="user@example.org")
    act(api, session, type="fill", selector="#password", value="mycoolpassword")
    act(api, session, type="goto", url=f"{site.url}/checkout.html")
    act(api, session, type="fill", selector="#cc-number", value="4242 4242 4242 4242")
    control = "5105 1051 0510 5100"  # typed as it is: the image check must be able to read it
    act(api, session, type="fill", selector="#gift-note", value=control)
    outputs = {
        "observe": api.post(f"/sessions/{session}/page/observe", json={}).content,
        "scrape": api.post(
            f"/sessions/{session}/page/scrape", json={"only_main_content": False}
        ).content,
        "status": api.get(f"/sessions/{session}").content,
        "debug": api.get(f"/sessions/{session}/debug").content,
    }
    wait_until(lambda: Step.objects.filter(session_id=session).count() == 6)
    outputs["steps"] = str(list(Step.objects.filter(session_id=session).values())).encode()
    watcher.pump(1.0)
    outputs["live events"] = str(watcher.events).encode()
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    outputs["database"] = dump.getvalue().encode()
    outputs["logs"] = "\n".join(r.getMessage() for r in caplog.records).encode()
    for secret in (canary["password"], canary["card"]):
        for where, data in outputs.items():
            assert find_leaks(secret, data) == [], (where, secret)

    screenshot = api.post(
        f"/sessions/{session}/page/screenshot", json={"type": "jpeg", "quality": 90}
    ).content
    observed = api.post(f"/sessions/{session}/page/observe", json={}).json()["screenshot"]["raw"]
    images = {"screenshot": screenshot, "observe": base64.b64decode(observed)}
    images |= {
        f"step {s.index}": s.screenshot.read()
        for s in Step.objects.filter(session_id=session)
        if s.screenshot
    }
    images["live frame"] = watcher.frames[-1].jpeg
    watcher.close()
    api.delete(f"/sessions/{session}/stop")
    replay = api.get(f"/sessions/{session}/replay").json()
    animation = Image.open(
        io.BytesIO(__import__("requests").get(replay["webp_url"], timeout=30).content)
    )
    for number in range(animation.n_frames):
        animation.seek(number)
        frame = io.BytesIO()
        animation.convert("RGB").save(frame, format="JPEG", quality=95)
        images[f"replay frame {number}"] = frame.getvalue()
    for where, image in images.items():
        read = digits(ocr(image))
        assert canary["card"] not in read, where
    assert digits(control) in digits(ocr(screenshot)), (
        "the check reads unmasked digits in the same image"
    )


def test_a_password_goes_only_into_a_password_field(api, site, vault, canary):
    session = start(api, vault_id=vault)["session_id"]
    act(api, session, type="goto", url=f"{site.url}/checkout.html")
    refused = act(api, session, type="fill", selector="#gift-note", value="mycoolpassword")
    assert refused["success"] is False and "password" in refused["message"]
    assert (
        api.post(f"/sessions/{session}/page/scrape", json={})
        .json()["markdown"]
        .count(canary["password"])
        == 0
    )
    denied = VaultAuditEvent.objects.get(session_id=session)
    assert denied.outcome == AuditOutcome.DENIED and "password input" in denied.detail


def test_a_login_is_filled_only_on_its_own_origin(api, site, vault_keyring, canary):
    vault_id = api.post("/vaults/create", json={"name": "Elsewhere"}).json()["vault_id"]
    api.post(
        f"/vaults/{vault_id}/credentials",
        json={
            "url": "example.com",
            "credentials": {"email": canary["email"], "password": canary["password"]},
        },
    )
    session = start(api, vault_id=vault_id)["session_id"]
    act(api, session, type="goto", url=f"{site.url}/login.html")
    refused = act(api, session, type="fill", selector="#password", value="mycoolpassword")
    assert refused["success"] is False and "no login for" in refused["message"]
    assert site.logins == [] or canary["password"] not in str(site.logins)


def test_a_session_without_a_vault_types_placeholders_as_they_are(api, live, site):
    from tests.sessions_app.helpers import in_page

    session = start(api)["session_id"]
    act(api, session, type="goto", url=f"{site.url}/login.html")
    assert act(api, session, type="fill", selector="#email", value="user@example.org")["success"]
    assert in_page(live, session, "document.querySelector('#email').value") == "user@example.org"


def test_cookies_of_a_vault_login_need_a_key_that_may_reveal(api, live, site, vault, owner, team):
    from teams_app.models import Membership, Role, Scope
    from teams_app.services import api_key_create
    from tests.conftest import Api

    session = start(api, vault_id=vault)["session_id"]
    act(api, session, type="goto", url=f"{site.url}/login.html")
    act(api, session, type="fill", selector="#email", value="user@example.org")
    act(api, session, type="fill", selector="#password", value="mycoolpassword")
    act(api, session, type="click", selector="#sign-in")
    refused = api.get(f"/sessions/{session}/cookies")
    assert refused.status_code == 403 and "vaults.reveal" in refused.json()["message"]
    _, raw = api_key_create(
        team=team,
        name="revealer",
        scopes=[Scope.SESSIONS, Scope.VAULTS_REVEAL],
        actor=Membership.objects.get(team=team, user=owner, role=Role.OWNER),
    )
    with Api(live.api_url, raw) as revealer:
        cookies = revealer.get(f"/sessions/{session}/cookies")
    assert cookies.status_code == 200 and [c["name"] for c in cookies.json()["cookies"]] == [
        "session"
    ]


def test_a_session_start_names_a_vault_of_the_team_that_is_unsealed(
    api, other_team_key, live, vault, settings, tmp_path
):
    from tests.conftest import Api

    missing = str(uuid.uuid4())
    unknown = api.post("/sessions/start", json={"vault_id": missing})
    assert unknown.status_code == 422 and "vault_id" in unknown.json()["message"]
    with Api(live.api_url, other_team_key) as outsider:
        theirs = outsider.post("/sessions/start", json={"vault_id": vault})
    assert theirs.status_code == 422  # another team's vault answers exactly like an unknown one
    assert theirs.json()["message"] == unknown.json()["message"].replace(missing, vault)
    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "missing.json"
    sealed = api.post("/sessions/start", json={"vault_id": vault})
    assert sealed.status_code == 503
    assert BrowserSession.objects.count() == 0
