"""The control lease: a person drives a session's page by hand from the live view.

One holder at a time, stored in the database (who, since, last input), shown to every watcher.
The holder releases it; a team owner or admin may take it over; the worker expires it after
PERISCOPE_CONTROL_LEASE_SECONDS without input; it ends with the session. It survives the holder's
reconnect or page reload, because it belongs to the person, not to a socket. Each change goes to
the team audit log and the session timeline. While someone holds control the worker answers API
calls that act on the page (execute) with 409 naming the holder.
"""

from datetime import datetime

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, Forbidden
from teams_app.models import AuditAction, Membership
from teams_app.services import audit_record

from . import events
from .models import BrowserSession, SessionControl, SessionEvent
from .worker import client


def _record(
    session: BrowserSession, action: str, user: AbstractBaseUser | None, reason: str
) -> None:
    SessionEvent.objects.create(session=session, status=session.status, reason=reason[:300])
    audit_record(
        team=session.team,
        action=action,
        actor_user=user,
        target=f"session {session.id}",
        data={"reason": reason},
    )


def _publish(session: BrowserSession, lease: SessionControl | None, reason: str) -> None:
    events.control_changed(
        session_id=str(session.id),
        holder=lease.holder_label if lease else None,
        holder_user_id=lease.holder_id if lease else None,
        since=lease.since.isoformat() if lease else None,
        reason=reason,
    )


@transaction.atomic
def control_take(*, session: BrowserSession, membership: Membership) -> SessionControl:
    if not membership.can_operate:
        raise Forbidden("Viewers can watch a session but not take control of it")
    if not session.is_live:
        raise Conflict(f"Session {session.id} is {session.status}: there is nothing to control")
    BrowserSession.objects.select_for_update().filter(pk=session.pk).first()
    lease = SessionControl.objects.filter(session=session).select_related("holder").first()
    if lease is not None:
        if lease.holder_id == membership.user_id:
            return lease
        raise Conflict(
            f"{lease.holder_label} has had control since {lease.since:%H:%M:%S} UTC; an owner or "
            "admin can take it over"
        )
    now = timezone.now()
    user = membership.user
    lease = SessionControl.objects.create(
        session=session, holder=user, holder_label=str(user), since=now, last_input_at=now
    )
    reason = f"control taken by {user}"
    _record(session, AuditAction.CONTROL_TAKEN, user, reason)
    _publish(session, lease, reason)
    return lease


@transaction.atomic
def control_takeover(*, session: BrowserSession, membership: Membership) -> SessionControl:
    if not membership.can_manage_team:
        raise Forbidden("Only team owners and admins can take control over from someone else")
    BrowserSession.objects.select_for_update().filter(pk=session.pk).first()
    previous = SessionControl.objects.filter(session=session).first()
    if previous is None or previous.holder_id == membership.user_id:
        return control_take(session=session, membership=membership)
    now = timezone.now()
    user = membership.user
    reason = f"control taken over by {user} from {previous.holder_label}"
    previous.holder, previous.holder_label, previous.since, previous.last_input_at = (
        user,
        str(user),
        now,
        now,
    )
    previous.save()
    _record(session, AuditAction.CONTROL_TAKEN_OVER, user, reason)
    _publish(session, previous, reason)
    return previous


LINK_HOLDER = "someone with the viewer link"


@transaction.atomic
def control_take_by_link(*, session: BrowserSession) -> SessionControl:
    """An interactive viewer link (handed to an API key that drives the session) takes control."""
    if not session.is_live:
        raise Conflict(f"Session {session.id} is {session.status}: there is nothing to control")
    BrowserSession.objects.select_for_update().filter(pk=session.pk).first()
    lease = SessionControl.objects.filter(session=session).first()
    if lease is not None:
        if lease.holder_id is None:
            return lease
        raise Conflict(f"{lease.holder_label} has had control since {lease.since:%H:%M:%S} UTC")
    now = timezone.now()
    lease = SessionControl.objects.create(
        session=session, holder=None, holder_label=LINK_HOLDER, since=now, last_input_at=now
    )
    reason = f"control taken by {LINK_HOLDER}"
    _record(session, AuditAction.CONTROL_TAKEN, None, reason)
    _publish(session, lease, reason)
    return lease


@transaction.atomic
def control_release_by_link(*, session: BrowserSession) -> None:
    lease = (
        SessionControl.objects.select_for_update()
        .filter(session=session, holder__isnull=True)
        .first()
    )
    if lease is None:
        return
    lease.delete()
    reason = f"control released by {LINK_HOLDER}"
    _record(session, AuditAction.CONTROL_RELEASED, None, reason)
    _publish(session, None, reason)


@transaction.atomic
def control_release(*, session: BrowserSession, user: AbstractBaseUser) -> None:
    lease = SessionControl.objects.select_for_update().filter(session=session).first()
    if lease is None:
        return
    if lease.holder_id != user.pk:
        raise Forbidden(f"{lease.holder_label} holds control, not you")
    lease.delete()
    reason = f"control released by {user}"
    _record(session, AuditAction.CONTROL_RELEASED, user, reason)
    _publish(session, None, reason)


@transaction.atomic
def control_end(*, session_id: str, reason: str) -> bool:
    """The lease ends without its holder: no input for too long, or the session ended."""
    lease = (
        SessionControl.objects.select_for_update()
        .filter(session_id=session_id)
        .select_related("session__team")
        .first()
    )
    if lease is None:
        return False
    session = lease.session
    lease.delete()
    text = f"control of {lease.holder_label} ended: {reason}"
    _record(session, AuditAction.CONTROL_EXPIRED, None, text)
    _publish(session, None, text)
    return True


def control_touch(*, inputs: dict[str, datetime]) -> None:
    """The worker's record of each lease's last input, saved every few seconds."""
    for session_id, at in inputs.items():
        SessionControl.objects.filter(session_id=session_id, last_input_at__lt=at).update(
            last_input_at=at
        )


async def control_tell_worker(*, session: BrowserSession, lease: SessionControl | None) -> None:
    """The owning worker enforces the lease (it refuses execute while someone holds control)."""
    if not session.is_live or not session.worker_channel:
        return
    command = {
        "type": "session.control",
        "holder": lease.holder_label if lease else None,
        "holder_user_id": lease.holder_id if lease else None,
    }
    await client.call(
        session.worker_channel,
        {**command, "session_id": str(session.id), "team_id": str(session.team_id)},
        wait_seconds=10,
    )


async def acontrol_take(*, session: BrowserSession, membership: Membership) -> SessionControl:
    lease = await sync_to_async(control_take)(session=session, membership=membership)
    await control_tell_worker(session=session, lease=lease)
    return lease


async def acontrol_takeover(*, session: BrowserSession, membership: Membership) -> SessionControl:
    lease = await sync_to_async(control_takeover)(session=session, membership=membership)
    await control_tell_worker(session=session, lease=lease)
    return lease


async def acontrol_release(*, session: BrowserSession, user: AbstractBaseUser) -> None:
    await sync_to_async(control_release)(session=session, user=user)
    await control_tell_worker(session=session, lease=None)


async def acontrol_take_by_link(*, session: BrowserSession) -> SessionControl:
    lease = await sync_to_async(control_take_by_link)(session=session)
    await control_tell_worker(session=session, lease=lease)
    return lease


async def acontrol_release_by_link(*, session: BrowserSession) -> None:
    await sync_to_async(control_release_by_link)(session=session)
    await control_tell_worker(session=session, lease=None)
