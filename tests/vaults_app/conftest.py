import pytest

from tests.vaults_app.helpers import make_actor


@pytest.fixture(autouse=True)
def keyring_file(vault_keyring):
    """Every vault test gets its own keyring file."""
    return vault_keyring


@pytest.fixture
def owner_actor(team, owner):
    return make_actor(team, owner, reauthenticated=True)
