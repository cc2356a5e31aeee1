import io

import pytest

from tests.vaults_app.helpers import make_actor


@pytest.fixture(autouse=True)
def keyring_file(tmp_path, settings):
    """Every vault test gets its own keyring file, created the way `make run` creates it."""
    from django.core.management import call_command

    path = tmp_path / "secrets" / "vault-keyring.json"
    settings.PERISCOPE_VAULT_KEYRING_FILE = path
    call_command("vault_keyring", "create", "--if-missing", stdout=io.StringIO())
    return path


@pytest.fixture
def owner_actor(team, owner):
    return make_actor(team, owner)
