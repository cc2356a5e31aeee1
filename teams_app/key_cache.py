"""Authenticated API keys, remembered by this process for a few seconds, so that most API calls
need no database query (in async mode each query is also a hop to Django's sync thread).

Revoking a key drops it here at once (after the revoking transaction commits); another web
process drops it within `PERISCOPE_API_KEY_CACHE_SECONDS`. A key's own expiry is honoured on
every hit.
"""

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

if TYPE_CHECKING:
    from .models import ApiKey

MAX_ENTRIES = 10_000
_entries: dict[str, tuple["ApiKey", float]] = {}


def get(digest: str) -> "ApiKey | None":
    entry = _entries.get(digest)
    if entry is None:
        return None
    key, until = entry
    if time.monotonic() >= until or (
        key.expires_at is not None and key.expires_at <= timezone.now()
    ):
        _entries.pop(digest, None)
        return None
    return key


def put(digest: str, key: "ApiKey") -> None:
    ttl = settings.PERISCOPE_API_KEY_CACHE_SECONDS
    if ttl <= 0:
        return
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()  # a flood of distinct keys: start over rather than grow
    _entries[digest] = (key, time.monotonic() + ttl)


def forget(key_id) -> None:
    for digest, (key, _) in list(_entries.items()):
        if key.pk == key_id:
            _entries.pop(digest, None)


def clear() -> None:
    _entries.clear()
