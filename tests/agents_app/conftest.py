import uuid

import pytest

from tests.support.fake_llm import FakeLLM


@pytest.fixture
def use_llm(settings):
    """Start a fake OpenAI-compatible server answering with `answer(messages)` and point the
    server's settings at it. Several may be started in one test; each replaces the last."""
    servers = []

    def start(answer, **options) -> FakeLLM:
        server = FakeLLM(answer, **options).__enter__()
        servers.append(server)
        settings.LLM_BASE_URL = server.base_url
        settings.LLM_API_KEY = "test-key"
        settings.LLM_MODEL = "served-model"
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def canary():
    return {"email": "ada.canary@example.test", "password": f"Canary-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def vault(api, vault_keyring, canary):
    """A vault with a login for the test site (bound to 127.0.0.1) and a card."""
    vault_id = api.post("/vaults/create", json={"name": "Site"}).json()["vault_id"]
    login = {
        "url": "127.0.0.1",
        "credentials": {"email": canary["email"], "password": canary["password"]},
    }
    assert api.post(f"/vaults/{vault_id}/credentials", json=login).status_code == 200
    card = {
        "credit_card": {
            "card_holder_name": "Ada Canary",
            "card_number": "4111111111111111",
            "card_cvv": "123",
            "card_full_expiration": "12/39",
        }
    }
    assert api.post(f"/vaults/{vault_id}/card", json=card).status_code == 200
    return vault_id
