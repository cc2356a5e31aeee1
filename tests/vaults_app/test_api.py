"""The Notte vaults API through Django's test client: shapes, scopes, reveal gating, 422s."""

import json

import pytest

from teams_app.models import Membership, Role
from teams_app.services import api_key_create
from tests.vaults_app.helpers import KeyClient, add_member, luhn_number, row_counts, totp_secret
from vaults_app.models import AuditOutcome, VaultAuditEvent, VaultCredential, VaultTeamSettings

pytestmark = pytest.mark.django_db

ALL_VAULT_SCOPES = ["vaults.use", "vaults.manage", "vaults.reveal"]


def key(team, scopes, creator=None) -> str:
    membership = Membership.objects.get(team=team, user=creator) if creator else None
    _, raw = api_key_create(team=team, name="k", scopes=scopes, actor=membership)
    return raw


@pytest.fixture
def manager(client, team, owner):
    return KeyClient(client, key(team, ["vaults.use", "vaults.manage"], owner))


@pytest.fixture
def revealer(client, team, owner):
    return KeyClient(client, key(team, ALL_VAULT_SCOPES, owner))


@pytest.fixture
def vault_id(manager):
    response = manager.post("/vaults/create", {"name": "Main"})
    assert response.status_code == 200, response.content
    return response.json()["vault_id"]


def add_login(api, vault_id, url="example.com", **credentials):
    body = {
        "url": url,
        "credentials": {"email": "me@example.com", "password": "pw-1", **credentials},
    }
    return api.post(f"/vaults/{vault_id}/credentials", body)


def test_create_list_and_get_answer_the_notte_shapes(manager, vault_id):
    listed = manager.get("/vaults/", only_active="True", page_size="10", page="1")
    assert listed.status_code == 200
    [vault] = listed.json()
    assert (
        vault["vault_id"] == vault_id and vault["name"] == "Main" and vault["for_persona"] is False
    )
    assert "created_at" in vault
    assert manager.get("/vaults").json() == listed.json()  # without the trailing slash too
    assert add_login(
        manager, vault_id, url="https://login.example.com/signin", email="a@example.com"
    ).json() == {"status": "success"}
    assert (
        add_login(manager, vault_id, url="example.org", email=None, username="bob").status_code
        == 200
    )
    assert manager.get(f"/vaults/{vault_id}").json() == {
        "credentials": [
            {"url": "example.org", "username": "bob", "email": None},
            {"url": "https://login.example.com", "username": None, "email": "a@example.com"},
        ]
    }


def test_the_list_shows_only_the_callers_team(client, other_team_key, manager, vault_id):
    from teams_app.models import ApiKey

    ApiKey.objects.filter(team__name="Other").update(scopes=["vaults.use"])
    assert KeyClient(client, other_team_key).get("/vaults/").json() == []
    assert [v["vault_id"] for v in manager.get("/vaults/").json()] == [vault_id]


def test_create_without_a_name_gets_notte_default(manager):
    response = manager.post("/vaults/create", {})
    assert response.status_code == 200 and response.json()["name"] == "default"


def test_add_replaces_the_login_for_the_same_site(manager, revealer, vault_id):
    add_login(manager, vault_id, mfa_secret=totp_secret())
    add_login(manager, vault_id, password="pw-2")
    assert VaultCredential.objects.count() == 1
    got = revealer.get(f"/vaults/{vault_id}/credentials", url="example.com").json()
    assert got == {"credentials": {"email": "me@example.com", "password": "pw-2"}}


def test_reveal_needs_the_reveal_scope_and_every_attempt_is_audited(
    client, team, owner, manager, revealer, vault_id
):
    secret = totp_secret()
    add_login(manager, vault_id, mfa_secret=secret)
    denied = manager.get(f"/vaults/{vault_id}/credentials", url="example.com")
    assert denied.status_code == 403
    assert "vaults.reveal" in denied.json()["message"] and "pw-1" not in denied.content.decode()
    row = VaultAuditEvent.objects.filter(action="credential.revealed").get()
    assert row.outcome == AuditOutcome.DENIED and row.item_label == "example.com"

    allowed = revealer.get(f"/vaults/{vault_id}/credentials", url="example.com")
    assert allowed.status_code == 200
    assert allowed.json() == {
        "credentials": {"email": "me@example.com", "password": "pw-1", "mfa_secret": secret}
    }
    assert list(
        VaultAuditEvent.objects.filter(action="credential.revealed")
        .order_by("seq")
        .values_list("outcome", flat=True)
    ) == ["denied", "ok"]


def test_a_reveal_key_whose_creator_is_no_longer_an_admin_is_refused(
    client, team, owner, django_user_model, manager, vault_id
):
    add_login(manager, vault_id)
    bob = add_member(team, django_user_model, Role.ADMIN)
    raw = key(team, ALL_VAULT_SCOPES, bob)
    Membership.objects.filter(user=bob).update(role=Role.MEMBER)
    response = KeyClient(client, raw).get(f"/vaults/{vault_id}/credentials", url="example.com")
    assert response.status_code == 403
    assert "no longer an owner or admin" in response.json()["message"]
    keyless = KeyClient(client, key(team, ALL_VAULT_SCOPES)).get(
        f"/vaults/{vault_id}/credentials", url="example.com"
    )
    assert (
        keyless.status_code == 403
    )  # a key made on the command line has no owner or admin behind it
    assert (
        VaultAuditEvent.objects.filter(action="credential.revealed", outcome="denied").count() == 2
    )


def test_card_set_get_delete_and_cvv_only_with_the_team_setting(manager, revealer, team, vault_id):
    number = luhn_number()
    card = {
        "card_holder_name": "Jo Doe",
        "card_number": number,
        "card_cvv": "321",
        "card_full_expiration": "12/39",
    }
    stored = manager.post(f"/vaults/{vault_id}/card", {"credit_card": card})
    assert stored.status_code == 200 and stored.json()["status"] == "success"
    assert (
        stored.json()["cvv_stored"] is False and "does not store CVVs" in stored.json()["message"]
    )
    assert manager.get(f"/vaults/{vault_id}/card").status_code == 403
    assert revealer.get(f"/vaults/{vault_id}/card").json() == {
        "credit_card": {**card, "card_cvv": ""}
    }

    VaultTeamSettings.objects.create(team=team, store_cvv=True)
    assert (
        manager.post(f"/vaults/{vault_id}/card", {"credit_card": card}).json()["cvv_stored"] is True
    )
    assert revealer.get(f"/vaults/{vault_id}/card").json() == {"credit_card": card}

    deleted = manager.delete(f"/vaults/{vault_id}/card")
    assert deleted.status_code == 200 and deleted.json()["status"] == "success"
    assert revealer.get(f"/vaults/{vault_id}/card").status_code == 404


def test_delete_credentials_and_vault(manager, vault_id):
    add_login(manager, vault_id)
    response = manager.delete(f"/vaults/{vault_id}/credentials", url="example.com")
    assert response.status_code == 200 and response.json()["status"] == "success"
    assert manager.get(f"/vaults/{vault_id}").json() == {"credentials": []}
    assert manager.delete(f"/vaults/{vault_id}/credentials", url="example.com").status_code == 404
    assert manager.delete(f"/vaults/{vault_id}").json()["status"] == "success"
    assert manager.get(f"/vaults/{vault_id}").status_code == 404


SCOPE_RULES = [
    # (method, path, body, scopes that may do it)
    ("get", "/vaults/", None, {"vaults.use", "vaults.manage"}),
    ("get", "/vaults/{id}", None, {"vaults.use", "vaults.manage"}),
    ("post", "/vaults/create", {"name": "x"}, {"vaults.manage"}),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "example.net", "credentials": {"username": "u", "password": "p"}},
        {"vaults.manage"},
    ),
    ("delete", "/vaults/{id}/credentials?url=example.com", None, {"vaults.manage"}),
    ("get", "/vaults/{id}/credentials?url=example.com", None, {"vaults.reveal"}),
    ("get", "/vaults/{id}/card", None, {"vaults.reveal"}),
    ("delete", "/vaults/{id}/card", None, {"vaults.manage"}),
    ("delete", "/vaults/{id}", None, {"vaults.manage"}),
]


def _call(api, method, path, body):
    if "?" in path:
        path, query = path.split("?")
        params = dict(p.split("=") for p in query.split("&"))
    else:
        params = {}
    if method == "post":
        return api.post(path, body)
    return getattr(api, method)(path, **params)


@pytest.mark.parametrize("scope", ["sessions", "vaults.use", "vaults.manage", "vaults.reveal"])
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    SCOPE_RULES,
    ids=[f"{m} {p}" for m, p, _, _ in SCOPE_RULES],
)
def test_each_route_needs_its_scope(
    client, team, owner, manager, vault_id, scope, method, path, body, allowed
):
    add_login(manager, vault_id)
    manager.post(
        f"/vaults/{vault_id}/card",
        {
            "credit_card": {
                "card_holder_name": "A",
                "card_number": luhn_number(),
                "card_cvv": "",
                "card_full_expiration": "01/40",
            }
        },
    )
    api = KeyClient(client, key(team, [scope], owner))
    response = _call(api, method, path.replace("{id}", vault_id), body)
    if scope in allowed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403, response.content
        assert "scope" in response.json()["message"]


ID_RULES = [rule for rule in SCOPE_RULES if "{id}" in rule[1]]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ID_RULES, ids=[f"{m} {p}" for m, p, _, _ in ID_RULES]
)
def test_another_teams_vault_answers_exactly_like_an_unknown_one(
    client, other_team_key, team, owner, manager, vault_id, method, path, body, allowed
):
    from teams_app.models import ApiKey

    add_login(manager, vault_id)
    ApiKey.objects.filter(team__name="Other").update(scopes=ALL_VAULT_SCOPES)
    charlie = Membership.objects.get(team__name="Other").user
    ApiKey.objects.filter(team__name="Other").update(created_by=charlie)
    outsider = KeyClient(client, other_team_key)
    before = row_counts()
    unknown = "0f0f0f0f-0000-4000-8000-000000000000"
    theirs = _call(outsider, method, path.replace("{id}", vault_id), body)
    nothing = _call(outsider, method, path.replace("{id}", unknown), body)
    garbage = _call(outsider, method, path.replace("{id}", "not-a-uuid"), body)
    assert theirs.status_code == nothing.status_code == garbage.status_code == 404
    assert theirs.json()["message"].replace(vault_id, "ID") == nothing.json()["message"].replace(
        unknown, "ID"
    )
    assert row_counts() == before  # not even an audit row in either team


BAD_INPUTS = [
    ("post", "/vaults/create", {"name": "x", "colour": "red"}, "colour"),
    ("post", "/vaults/create", {"name": "   "}, "name"),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "example.com", "credentials": {"email": "a@b.co", "password": "p", "pin": "1"}},
        "pin",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "example.com", "extra": 1, "credentials": {"email": "a@b.co", "password": "p"}},
        "extra",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "ftp://example.com", "credentials": {"email": "a@b.co", "password": "p"}},
        "url",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "javascript:alert(1)", "credentials": {"email": "a@b.co", "password": "p"}},
        "url",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "not a domain!", "credentials": {"email": "a@b.co", "password": "p"}},
        "url",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "co.uk", "credentials": {"email": "a@b.co", "password": "p"}},
        "url",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "https://u:p@example.com/", "credentials": {"email": "a@b.co", "password": "p"}},
        "url",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {
            "url": "example.com",
            "credentials": {"email": "a@b.co", "username": "u", "password": "p"},
        },
        "email",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "example.com", "credentials": {"password": "p"}},
        "email",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {"url": "example.com", "credentials": {"email": "not-an-email", "password": "p"}},
        "email",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {
            "url": "example.com",
            "credentials": {
                "email": "a@b.co",
                "password": "",
            },
        },
        "password",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {
            "url": "example.com",
            "credentials": {"email": "a@b.co", "password": "p", "mfa_secret": "123456"},
        },
        "mfa_secret",
    ),
    (
        "post",
        "/vaults/{id}/credentials",
        {
            "url": "example.com",
            "credentials": {
                "email": "a@b.co",
                "password": "p",
                "mfa_secret": "not base32 at all!!",
            },
        },
        "mfa_secret",
    ),
    (
        "post",
        "/vaults/{id}/card",
        {
            "credit_card": {
                "card_holder_name": "A",
                "card_number": "4242424242424241",
                "card_cvv": "1",
                "card_full_expiration": "12/40",
            }
        },
        "card_number",
    ),
    (
        "post",
        "/vaults/{id}/card",
        {
            "credit_card": {
                "card_holder_name": "A",
                "card_number": "4242 4242 4242 4242",
                "card_cvv": "1",
                "card_full_expiration": "01/20",
            }
        },
        "card_full_expiration",
    ),
    (
        "post",
        "/vaults/{id}/card",
        {
            "credit_card": {
                "card_holder_name": "A",
                "card_number": "4242 4242 4242 4242",
                "card_cvv": "1",
                "card_full_expiration": "13/40",
            }
        },
        "card_full_expiration",
    ),
    (
        "post",
        "/vaults/{id}/card",
        {
            "credit_card": {
                "card_holder_name": "",
                "card_number": "4242 4242 4242 4242",
                "card_cvv": "1",
                "card_full_expiration": "12/40",
            }
        },
        "card_holder_name",
    ),
    (
        "post",
        "/vaults/{id}/card",
        {
            "credit_card": {
                "card_holder_name": "A",
                "card_number": "4242 4242 4242 4242",
                "card_full_expiration": "12/40",
            },
            "allowed_origins": ["com"],
        },
        "allowed_origins",
    ),
    ("get", "/vaults/{id}/credentials?url=file:///etc/passwd", None, "url"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    BAD_INPUTS,
    ids=[f"{b[3]}-{i}" for i, b in enumerate(BAD_INPUTS)],
)
def test_bad_input_answers_422_naming_the_field_and_writes_nothing(
    revealer, vault_id, method, path, body, field
):
    before = row_counts()
    response = _call(revealer, method, path.replace("{id}", vault_id), body)
    assert response.status_code == 422, response.content
    payload = response.json()
    assert payload["status"] == 422 and field in payload["message"]
    assert any(field in ".".join(map(str, d["loc"])) for d in payload["detail"]), payload
    assert row_counts() == before


def test_success_bodies_never_carry_a_detail_key(manager, revealer, vault_id):
    add_login(manager, vault_id)
    for response in (
        manager.get("/vaults/"),
        manager.get(f"/vaults/{vault_id}"),
        revealer.get(f"/vaults/{vault_id}/credentials", url="example.com"),
    ):
        body = response.json()
        assert response.status_code == 200
        assert not (isinstance(body, dict) and "detail" in body), json.dumps(body)


def test_the_openapi_schema_lists_the_vault_routes(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/vaults/create",
        "/api/vaults/",
        "/api/vaults/{vault_id}",
        "/api/vaults/{vault_id}/credentials",
        "/api/vaults/{vault_id}/card",
    ):
        assert path in paths


def test_the_docs_list_every_placeholder():
    from pathlib import Path

    from vaults_app.placeholders import FORM_FILL_KEYS, PLACEHOLDERS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "vaults.md").read_text()
    for placeholder in PLACEHOLDERS:
        assert f"| `{placeholder.value}` |" in docs, placeholder.value
    for key in FORM_FILL_KEYS:
        assert f"`{key}`" in docs, key
