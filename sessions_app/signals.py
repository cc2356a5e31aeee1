"""Signals other apps listen to without this app knowing them (agents end with their session).

`session_ended` is sent once the transaction that ended a session commits, with `session_id`,
`status` (closed, error or timed_out) and `reason`. Receivers run synchronously in the process
that ended the session, which may be a web process or any browser worker (one that reaps a dead
worker's sessions, say): they must not rely on the session's worker being this process.
"""

from django.dispatch import Signal

session_ended = Signal()
