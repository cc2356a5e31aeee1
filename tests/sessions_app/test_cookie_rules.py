"""The cookies a browser would refuse or misread, refused before any worker is asked (no server)."""

import pytest

from sessions_app.schemas import Cookie
from sessions_app.services import cookie_problem

GOOD = {"name": "flavour", "value": "oat", "domain": "example.com", "path": "/"}
LAST_SECOND_OF_9999 = 253402300799


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"domain": ".example.com"},
        {"domain": "localhost"},
        {"name": "__Host-id", "secure": True},
        {"value": ""},
        {"path": "/account/settings"},
        {"expires": -1},
        {"expires": 1_900_000_000.5},
        {"expirationDate": LAST_SECOND_OF_9999},
        {"sameSite": "None", "secure": True},
        {"sameSite": "Lax"},
    ],
)
def test_a_sane_cookie_passes(change):
    assert cookie_problem(Cookie(**GOOD | change)) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "fla\x00vour"}, "name"),
        ({"name": "two words"}, "name"),
        ({"name": "a=b"}, "name"),
        ({"value": "o;at"}, "value"),
        ({"value": "o\x00at"}, "value"),
        ({"value": 'say "oat"'}, "value"),
        ({"domain": ""}, "domain"),
        ({"domain": "exa mple.com"}, "domain"),
        ({"domain": "https://example.com"}, "domain"),
        ({"domain": "example.com."}, "domain"),
        ({"domain": "ex\x00ample.com"}, "domain"),
        ({"path": "account"}, "path"),
        ({"path": "/a;b"}, "path"),
        ({"path": "/a\nb"}, "path"),
        ({"expires": 1e18}, "expires"),
        ({"expires": LAST_SECOND_OF_9999 + 1}, "expires"),
        ({"expires": -2}, "expires"),
        ({"expires": float("inf")}, "expires"),
        ({"expires": float("nan")}, "expires"),
        ({"expirationDate": 1e18}, "expirationDate"),
        ({"sameSite": "None"}, "secure"),
        ({"sameSite": "None", "secure": False}, "secure"),
    ],
)
def test_a_cookie_a_browser_would_refuse_is_refused_naming_its_field(change, field):
    problem = cookie_problem(Cookie(**GOOD | change))
    assert problem is not None
    assert problem[0] == field
    assert problem[1]  # says what to change


def test_the_first_problem_is_the_one_named():
    assert cookie_problem(Cookie(**GOOD | {"name": "", "domain": ""}))[0] == "name"
