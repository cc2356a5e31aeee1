"""Twilio's webhook signature: HMAC-SHA1, keyed with the account's auth token, over the full
request URL followed by every form parameter as name+value, sorted by name; base64-encoded.

Twilio signs the URL it was configured with. Behind a proxy the server sees another one, so the
caller passes the public URL (PERISCOPE_PUBLIC_URL + path). Twilio's own libraries also accept
the URL with the default port added or removed; so does this check.
"""

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit


def twilio_signature(*, url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    payload = url + "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    )
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    *, url: str, params: Iterable[tuple[str, str]], auth_token: str, signature: str
) -> bool:
    if not auth_token or not signature:
        return False
    params = list(params)
    return any(
        hmac.compare_digest(
            twilio_signature(url=candidate, params=params, auth_token=auth_token), signature
        )
        for candidate in _with_and_without_default_port(url)
    )


def _with_and_without_default_port(url: str) -> list[str]:
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.username or default is None:
        return [url]
    bare = urlunsplit(parts._replace(netloc=host))
    if parts.port is None:
        return [url, urlunsplit(parts._replace(netloc=f"{host}:{default}"))]
    if parts.port == default:
        return [url, bare]
    return [url]
