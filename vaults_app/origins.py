"""Which sites a vault item is for, and whether a page may receive it.

An item is bound to a *domain* (`example.com`, what notte-sdk sends: the root domain of the
URL its user gave) or to an *origin* (`https://login.example.com`, `http://127.0.0.1:8001`):

- a domain covers itself and its subdomains, over https on any port (http too for loopback
  hosts, which browsers also treat as secure);
- an origin covers the same scheme and port, on its host and that host's subdomains.

Public suffixes (`com`, `co.uk`, `github.io`) are refused as bindings: they would cover every
site under them.
"""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

_extract = tldextract.TLDExtract(
    suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None
)


class BadSite(ValueError):
    """The text is neither a domain nor an http(s) URL (the message says why)."""


@dataclass(frozen=True, slots=True)
class Binding:
    host: str
    scheme: str | None = None  # None: a domain binding
    port: int | None = None

    @property
    def is_domain(self) -> bool:
        return self.scheme is None

    def __str__(self) -> str:
        if self.is_domain:
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port == DEFAULT_PORTS.get(self.scheme) else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _clean_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise BadSite("there is no host name")
    if _is_ip(host):
        return str(ipaddress.ip_address(host))
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadSite(f"{host!r} is not a valid host name") from None
    labels = host.split(".")
    if len(host) > 253 or any(
        not label
        or len(label) > 63
        or label.startswith("-")
        or label.endswith("-")
        or not all(c.isalnum() or c == "-" for c in label)
        for label in labels
    ):
        raise BadSite(f"{host!r} is not a valid host name")
    if not is_loopback(host) and not _extract(host).domain:
        raise BadSite(
            f"{host!r} is a public suffix: give the site's own domain, e.g. example.{host}"
        )
    return host


@lru_cache(maxsize=4096)
def parse_binding(text: str) -> Binding:
    """A domain (`example.com`) or an http(s) URL reduced to its origin."""
    text = (text or "").strip()
    if not text:
        raise BadSite("give a domain such as example.com, or an http(s) URL")
    if len(text) > MAX_URL_LENGTH:
        raise BadSite(f"at most {MAX_URL_LENGTH} characters")
    if "://" not in text:
        if any(c in text for c in "/?#@ :") and not text.startswith("["):
            raise BadSite(
                "give a domain such as example.com, or an http(s) URL such as https://example.com/login"
            )
        return Binding(host=_clean_host(text))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadSite(f"only http and https URLs are accepted, not {scheme or 'this'}:")
    if parts.username is not None or parts.password is not None:
        raise BadSite("the URL must not carry a user name or password")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise BadSite("the URL's port is not a number between 0 and 65535") from None
    return Binding(host=_clean_host(parts.hostname or ""), scheme=scheme, port=port)


def normalize_site(text: str) -> str:
    """The stored form of a site: a domain, or an origin without path."""
    return str(parse_binding(text))


def origin_of(url: str | None) -> Origin | None:
    """The origin of an http(s) page URL, or None (about:blank, file:, data:, garbage...)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        host = _clean_host_lenient(parts.hostname)
        return Origin(scheme=scheme, host=host, port=parts.port or DEFAULT_PORTS[scheme])
    except ValueError:
        return None


def _clean_host_lenient(host: str) -> str:
    host = host.rstrip(".").lower()
    if _is_ip(host):
        return str(ipaddress.ip_address(host))
    return host.encode("idna").decode("ascii")


def _host_covers(bound: str, host: str) -> bool:
    if bound == host:
        return True
    return not _is_ip(bound) and host.endswith("." + bound)


def binding_allows(binding: Binding, origin: Origin | None) -> bool:
    if origin is None or not _host_covers(binding.host, origin.host):
        return False
    if binding.is_domain:
        return origin.scheme == "https" or (origin.scheme == "http" and is_loopback(origin.host))
    return origin.scheme == binding.scheme and origin.port == binding.port


def site_allows(site: str, url: str | None) -> bool:
    """Does the stored site (domain or origin) cover the page at `url`?"""
    try:
        binding = parse_binding(site)
    except BadSite:
        return False
    return binding_allows(binding, origin_of(url))
