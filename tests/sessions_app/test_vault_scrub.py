"""The worker's last guard on filled vault values: every text or JSON answer it sends is scrubbed
of them, in each form a page or a serializer can give them (sessions_app/worker/vault_fills.py).

Unit tests of the scrub alone; tests/sessions_app/test_vault_fills.py checks whole sessions."""

import json
from types import SimpleNamespace

import orjson
import pytest

from sessions_app.worker.vault_fills import MASK, VaultFills

SECRETS = [
    "Canary-4f1c9e2a",
    'pä"ss wörd\\1',  # non-ASCII, a quote and a backslash: JSON writes each differently
    "パスワード<&>",
]


@pytest.fixture
def vaults() -> VaultFills:
    vaults = VaultFills()
    vaults.open(SimpleNamespace(session_id="s1"), vault_id="v1")
    # What a fill leaves behind: the value the page was given, kept in the worker's memory only.
    vaults._sessions["s1"].secrets.update(SECRETS)
    return vaults


def page_echoes(secret: str) -> dict:
    return {"title": f"Welcome {secret}", "nested": [{"value": secret}], "html": f"<b>{secret}</b>"}


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(
    "dumps",
    [
        pytest.param(lambda d: orjson.dumps(d), id="orjson bytes (observe's answer)"),
        pytest.param(lambda d: orjson.dumps(d).decode(), id="orjson text"),
        pytest.param(lambda d: json.dumps(d), id="json, ASCII escapes"),
        pytest.param(lambda d: json.dumps(d, ensure_ascii=False), id="json, UTF-8"),
    ],
)
def test_a_filled_value_leaves_no_json_answer_in_any_encoding(vaults, secret, dumps):
    answer = dumps(page_echoes(secret))
    scrubbed = vaults.scrub("s1", answer)

    assert type(scrubbed) is type(answer)
    text = scrubbed.decode() if isinstance(scrubbed, bytes) else scrubbed
    data = json.loads(text)  # still valid JSON
    assert data["nested"][0]["value"] == MASK
    assert data["title"] == f"Welcome {MASK}"
    assert secret not in json.dumps(data, ensure_ascii=False)


def test_text_and_data_are_scrubbed_and_other_sessions_left_alone(vaults):
    assert vaults.scrub("s1", f"typed {SECRETS[0]}.") == f"typed {MASK}."
    assert vaults.scrub_data("s1", page_echoes(SECRETS[1]))["nested"][0]["value"] == MASK
    assert vaults.scrub("s2", f"typed {SECRETS[0]}.") == f"typed {SECRETS[0]}."
