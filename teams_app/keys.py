"""API key format and digest: `nk_<prefix>.<secret>`, stored as HMAC-SHA256(pepper, key)."""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "nk_"


def generate() -> tuple[str, str]:
    """A new raw key and its lookup prefix."""
    prefix = secrets.token_hex(5)
    return f"{KEY_PREFIX}{prefix}.{secrets.token_urlsafe(32)}", prefix


def prefix_of(raw: str) -> str | None:
    if not raw.startswith(KEY_PREFIX) or "." not in raw:
        return None
    prefix = raw[len(KEY_PREFIX) :].split(".", 1)[0]
    return prefix if 0 < len(prefix) <= 16 else None


def digest(raw: str) -> str:
    return hmac.new(settings.API_KEY_PEPPER.encode(), raw.encode(), hashlib.sha256).hexdigest()


def matches(raw: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(raw), stored_digest)
