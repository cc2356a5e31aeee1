"""Which sites a stored login or card covers (no database)."""

import pytest

from vaults_app.origins import BadSite, normalize_site, site_allows


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("example.com", "example.com"),
        ("EXAMPLE.com.", "example.com"),
        ("https://Login.Example.com/signin?next=/", "https://login.example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("http://127.0.0.1:8001/login.html", "http://127.0.0.1:8001"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("alice.github.io", "alice.github.io"),
    ],
)
def test_sites_are_stored_as_a_domain_or_an_origin(given, stored):
    assert normalize_site(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "",
        "   ",
        "com",
        "co.uk",
        "github.io",
        "ftp://example.com",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "example.com/login",
        "user@example.com",
        "example.com:8080",
        "https://user:pw@example.com/",
        "https://example.com:99999/",
        "exa mple.com",
        "-bad-.example.com",
        "a" * 64 + ".com",
        "https://",
        "x" * 3000,
    ],
)
def test_anything_else_is_refused_with_a_reason(given):
    with pytest.raises(BadSite) as info:
        normalize_site(given)
    assert str(info.value)


@pytest.mark.parametrize(
    ("site", "page", "covered"),
    [
        ("example.com", "https://example.com/", True),
        ("example.com", "https://a.b.example.com:8443/x", True),
        ("example.com", "http://example.com/", False),
        ("example.com", "https://badexample.com/", False),
        ("example.com", "https://example.com.evil.test/", False),
        ("example.com", "https://EXAMPLE.COM./", True),
        ("https://login.example.com", "https://login.example.com/a", True),
        ("https://login.example.com", "https://sso.login.example.com/", True),
        ("https://login.example.com", "https://example.com/", False),
        ("https://login.example.com", "https://login.example.com:444/", False),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001/x", True),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8002/x", False),
        (
            "127.0.0.1",
            "http://127.0.0.1:5555/",
            True,
        ),  # loopback domains allow http (a secure context)
        ("127.0.0.1", "http://127.0.0.2/", False),
        ("localhost", "http://app.localhost:3000/", True),
        ("example.com", "about:blank", False),
        ("example.com", "data:text/html,<p>", False),
        ("example.com", None, False),
    ],
)
def test_what_a_site_covers(site, page, covered):
    assert site_allows(site, page) is covered
