"""The leak scanner finds a secret in each disguise, inside larger text, and nothing else."""

import base64
import html
import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from tests.support.leaks import assert_no_leak, find_leaks

SECRET = 'CANARY-p@ss w0rd/+&<"é>'


@pytest.mark.parametrize(
    "disguise",
    [
        lambda s: s,
        lambda s: quote(s, safe=""),
        lambda s: quote(s, safe="").lower(),
        quote_plus,
        lambda s: urlencode({"password": s}),
        lambda s: json.dumps({"v": s}),
        lambda s: json.dumps({"v": s}, ensure_ascii=False),
        lambda s: html.escape(s),
        lambda s: base64.b64encode(s.encode()).decode(),
        lambda s: base64.b64encode(b"x" + s.encode()).decode(),
        lambda s: base64.b64encode(b"xy" + s.encode() + b"tail").decode(),
        lambda s: base64.urlsafe_b64encode(b"xyz" + s.encode()).decode(),
        lambda s: s.encode().hex(),
        lambda s: s.encode().hex().upper(),
    ],
)
def test_each_disguise_is_found_inside_larger_text(disguise):
    haystack = f"before {disguise(SECRET)} after"
    assert find_leaks(SECRET, haystack), haystack
    assert find_leaks(SECRET, haystack.encode()), "bytes too"


def test_clean_text_has_no_leak_and_the_report_names_form_and_place():
    assert find_leaks(SECRET, "nothing here", b"nor here") == []
    assert_no_leak(SECRET, "nothing here")
    leaks = find_leaks(SECRET, "ok", f"x{quote_plus(SECRET)}", where="logs")
    assert [str(leak) for leak in leaks] == ["quote_plus form found in logs[1]"]
    with pytest.raises(AssertionError, match="quote_plus form found in logs"):
        assert_no_leak(SECRET, f"x{quote_plus(SECRET)}", where="logs")


def test_another_secret_is_not_reported():
    other = "CANARY-something else entirely"
    disguised = [
        quote_plus(other),
        json.dumps(other),
        base64.b64encode(other.encode()).decode(),
        other.encode().hex(),
    ]
    assert find_leaks(SECRET, *disguised) == []


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError):
        find_leaks("", "x")
