import copy
import os
import uuid

import pytest
import requests
from django.conf import settings
from django.db import connection

from tests.live import LiveServer

os.environ.setdefault("DISABLE_TELEMETRY", "true")  # notte-sdk: no posthog/scarf calls
# notte-sdk applies nest_asyncio to the whole process when imported, which deadlocks Django's
# test client on async views (asgiref's async_to_sync) in every later test.
os.environ.setdefault("NOTTE_ENABLE_NEST_ASYNCIO", "false")


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Hashing a password the production way takes about half a second on a 2-core machine, and
    the suite creates and signs in hundreds of users: what it tests is not the hasher."""
    from django.contrib.auth.hashers import get_hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def channel_prefix():
    """Each test run gets its own channel names, so no stale Redis message reaches it."""
    from channels.layers import channel_layers

    prefix = f"test{uuid.uuid4().hex[:10]}"
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    if "prefix" in layers["default"].get("CONFIG", {}):
        layers["default"]["CONFIG"]["prefix"] = prefix
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends = {}
    return prefix


@pytest.fixture(scope="session", autouse=True)
def release_database_connections(django_db_setup, django_db_blocker):
    """Live-server threads keep connections open; end them so the test database can be dropped."""
    yield
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def database_url_for_subprocess() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return f"sqlite://{db['NAME']}"


@pytest.fixture(scope="session")
def site():
    """The test site (tests/site/) on 127.0.0.1, reachable from sessions through the egress allow-list."""
    from tests.support.site import TestSite

    with TestSite() as server:
        yield server


@pytest.fixture
def live(transactional_db, site, settings):
    port = site.url.rsplit(":", 1)[1]
    settings.PERISCOPE_EGRESS_ALLOW = f"127.0.0.1:{port},localhost:{port}"
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture
def owner(transactional_db, django_user_model):
    return django_user_model.objects.create_user(username="alice", password="alice-pass-123")


@pytest.fixture
def team(owner):
    from teams_app.services import team_create

    return team_create(name="Acme", owner=owner)


@pytest.fixture
def api_key(team, owner):
    """A key the team's owner made, as keys made in the console are."""
    from teams_app.models import Membership
    from teams_app.services import api_key_create

    _, raw = api_key_create(
        team=team, name="tests", actor=Membership.objects.get(team=team, user=owner)
    )
    return raw


@pytest.fixture
def other_team_key(transactional_db, django_user_model):
    from teams_app.services import api_key_create, team_create

    charlie = django_user_model.objects.create_user(username="charlie", password="charlie-pass-123")
    other = team_create(name="Other", owner=charlie)
    _, raw = api_key_create(team=other, name="outsider")
    return raw


class Api(requests.Session):
    """requests with a base URL: api.get('/sessions/')."""

    def __init__(self, base: str, key: str | None):
        super().__init__()
        self.base = base
        if key:
            self.headers["Authorization"] = f"Bearer {key}"

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base + url, *args, **kwargs)


@pytest.fixture
def api(live, api_key):
    with Api(live.api_url, api_key) as client:
        yield client


@pytest.fixture
def outsider_api(live, other_team_key):
    with Api(live.api_url, other_team_key) as client:
        yield client


@pytest.fixture(autouse=True)
def vaults_sealed_unless_asked(tmp_path, settings):
    """Every test starts as a clean clone does: no keyring, whatever the developer's var/ holds."""
    settings.PERISCOPE_VAULT_KEYRING_FILE = tmp_path / "no-vault-keyring.json"


@pytest.fixture
def vault_keyring(vaults_sealed_unless_asked, tmp_path, settings):
    """A vault keyring file of the test's own (what `manage.py vault_keyring create` writes)."""
    from vaults_app import keyring

    path = tmp_path / "secrets" / "vault-keyring.json"
    settings.PERISCOPE_VAULT_KEYRING_FILE = path
    keyring.write(path, keyring.generate())
    return path
