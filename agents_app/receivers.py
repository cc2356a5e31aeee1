"""What this app does when another app reports something: a session that ends ends its agent,
whichever process ended it (a stop in the web process, a timeout in its worker, another worker
reaping a dead one's sessions)."""

from sessions_app.signals import session_ended

from .services import agents_end_with_session


def _session_ended(sender, *, session_id: str, status: str, reason: str, **kwargs) -> None:
    agents_end_with_session(session_id=session_id, status=status, reason=reason)


def connect() -> None:
    session_ended.connect(_session_ended, dispatch_uid="agents_app.session_ended")
