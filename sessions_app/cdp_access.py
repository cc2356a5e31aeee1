"""Who may attach a CDP client (Playwright, Puppeteer) to a session, and the record of each attach.

A client authenticates at the websocket handshake with one of:
- the signed token in the `cdp_url` that start, status and debug hand out: bound to the session,
  its team and whoever asked for the URL (an API key, or a console user), it works for
  PERISCOPE_CDP_TOKEN_SECONDS and never past the latest end of its session;
- an API key of the session's team with the sessions scope, in `Authorization: Bearer <key>` (or
  `X-API-Key`), or as `?token=<key>` for clients that cannot send headers.

A session that has had vault secrets filled (`vault_filled_at`) accepts only keys of its team that
carry the vaults.reveal scope: an attached client can read any input's value.
"""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.db import transaction

from core.http import PublicUrls
from teams_app.models import ApiKey, AuditAction, Scope
from teams_app.selectors import api_key_authenticate, api_key_of_team, membership_in_team
from teams_app.services import api_key_touch, audit_record

from .models import BrowserSession, SessionEvent, SessionStatus
from .selectors import session_attach_state, session_of_team, session_stored_status

SALT = "periscope.cdp"


@dataclass(frozen=True, slots=True)
class CdpGrant:
    session: BrowserSession
    api_key: ApiKey | None
    user: AbstractBaseUser | None
    via: str  # "api key" or "signed link"

    @property
    def label(self) -> str:
        who = f"API key {self.api_key}" if self.api_key is not None else f"{self.user} (console)"
        return f"{who}, {self.via}"


# -- the URL handed out --------------------------------------------------------------------------


def cdp_token(
    session: BrowserSession, *, api_key: ApiKey | None = None, user: AbstractBaseUser | None = None
) -> str:
    latest_end = session.created_at.timestamp() + session.max_duration_minutes * 60
    payload: dict[str, Any] = {
        "s": str(session.id),
        "t": str(session.team_id),
        "e": int(min(time.time() + settings.PERISCOPE_CDP_TOKEN_SECONDS, latest_end)),
    }
    if api_key is not None:
        payload["k"] = str(api_key.pk)
    elif user is not None:
        payload["u"] = user.pk
    return signing.dumps(payload, salt=SALT, compress=True)


def cdp_url(
    session: BrowserSession,
    urls: PublicUrls,
    *,
    api_key: ApiKey | None = None,
    user: AbstractBaseUser | None = None,
) -> str:
    """`ws(s)://HOST/cdp/<id>`, with a token for whoever asked (none: send the API key instead)."""
    base = f"{urls.ws}/cdp/{session.id}"
    if api_key is None and (user is None or not user.is_authenticated):
        return base
    return f"{base}?token={cdp_token(session, api_key=api_key, user=user)}"


# -- the handshake -------------------------------------------------------------------------------


def _token_payload(token: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(data, dict)
        or not {"s", "t", "e"} <= set(data)
        or not isinstance(data["e"], int)
    ):
        return None
    return data if data["e"] > time.time() else None


def _key_usable(key: ApiKey | None) -> bool:
    from django.utils import timezone

    return (
        key is not None
        and key.revoked_at is None
        and (key.expires_at is None or key.expires_at > timezone.now())
        and key.has_scope(Scope.SESSIONS)
    )


def cdp_grant(*, session_id: str, token: str, header_key: str) -> CdpGrant | None:
    """Who is attaching, or None: unknown id, another team's session, a session that is not running,
    a missing, forged, expired or revoked credential, or the vault rule. All look the same."""
    try:
        pk = uuid.UUID(str(session_id))
    except ValueError:
        return None
    payload = _token_payload(token) if token and not header_key else None
    if payload is not None:
        if payload["s"] != str(pk):
            return None
        grant = _grant_for_token(pk, payload)
    else:
        raw = header_key or token
        key = api_key_authenticate(raw=raw) if raw else None
        if not _key_usable(key):
            return None
        api_key_touch(api_key=key)
        session = session_of_team(team_id=key.team_id, pk=pk)
        grant = (
            CdpGrant(session=session, api_key=key, user=None, via="api key") if session else None
        )
    if grant is None or cdp_refusal(grant) is not None:
        return None
    return grant


def _grant_for_token(pk: uuid.UUID, payload: dict[str, Any]) -> CdpGrant | None:
    session = session_of_team(team_id=payload["t"], pk=pk)
    if session is None:
        return None
    if "k" in payload:
        key = api_key_of_team(team_id=session.team_id, key_id=payload["k"])
        return (
            CdpGrant(session=session, api_key=key, user=None, via="signed link")
            if _key_usable(key)
            else None
        )
    membership = membership_in_team(team_id=session.team_id, user_id=payload.get("u"))
    if membership is None or not membership.can_operate:
        return None
    return CdpGrant(session=session, api_key=None, user=membership.user, via="signed link")


def cdp_refusal(grant: CdpGrant) -> str | None:
    """Why an attached client must go now (None: it may stay): read again from the database."""
    session = session_attach_state(session_id=grant.session.pk)
    if (
        session is None
        or session["status"] != SessionStatus.ACTIVE
        or not session["worker_channel"]
    ):
        return "the session ended"
    if grant.api_key is not None:
        key = api_key_of_team(team_id=grant.session.team_id, key_id=grant.api_key.pk)
        if not _key_usable(key):
            return "the API key was revoked or lost the sessions scope"
        if session["vault_filled_at"] is not None and not key.has_scope(Scope.VAULTS_REVEAL):
            return "vault secrets were filled in this session; only keys with the vaults.reveal scope may attach"
    else:
        membership = membership_in_team(team_id=grant.session.team_id, user_id=grant.user.pk)
        if membership is None or not membership.can_operate:
            return "you are no longer an operator of this team"
        if session["vault_filled_at"] is not None:
            return "vault secrets were filled in this session; only keys with the vaults.reveal scope may attach"
    return None


# -- the record ----------------------------------------------------------------------------------


def _record(grant: CdpGrant, action: str, reason: str, data: dict[str, Any]) -> None:
    session = grant.session
    status = session_stored_status(session_id=session.pk)
    if status is None:
        return  # deleted meanwhile
    SessionEvent.objects.create(session_id=session.pk, status=status, reason=reason[:300])
    audit_record(
        team=session.team,
        action=action,
        actor_user=grant.user,
        actor_key=grant.api_key,
        target=f"session {session.id}",
        data=data,
    )


@transaction.atomic
def cdp_attach_record(*, grant: CdpGrant) -> None:
    _record(
        grant, AuditAction.CDP_ATTACHED, f"CDP client attached ({grant.label})", {"via": grant.via}
    )


@transaction.atomic
def cdp_detach_record(*, grant: CdpGrant, reason: str, seconds: float) -> None:
    _record(
        grant,
        AuditAction.CDP_DETACHED,
        f"CDP client detached ({grant.label}): {reason}",
        {"via": grant.via, "reason": reason[:200], "seconds": round(seconds, 1)},
    )
