"""`/healthz` (liveness) and `/readyz` (readiness) for load balancers and Kubernetes.

Both are answered here, in front of Django's middleware: no login, no host-name check (a
Kubernetes probe sends the pod's IP as its Host) and no redirect to https (probes speak plain
http to the process). Nothing in their answers is secret: no host name, address, version or
error text; the server log says what failed.

- `/healthz` answers 200 as long as the process serves requests; it looks at nothing else, so a
  database outage never gets every web process restarted.
- `/readyz` answers 200 when the database and the channel layer (Redis, when configured)
  answer, else 503. It also reports whether the vaults are sealed and how many browser workers
  heartbeat, without either changing the status: a sealed vault leaves the rest of the app
  working, and a web process behind a load balancer with no live worker still serves the
  console, the API's reads and vault management (session starts answer 503 saying no worker
  took them). Alert on `workers == 0` from the body if that matters to you.
"""

import json
import logging

from channels.layers import get_channel_layer
from django.db import connection, connections

from core.readiness import DOWN, OK, Readiness
from sessions_app.selectors import worker_count_alive
from vaults_app.unseal import vault_state

log = logging.getLogger(__name__)

UNKNOWN = "unknown"


def database_checks() -> dict:
    """The database, then what needs it. Runs in a readiness thread of its own, which closes
    its connection when done."""
    try:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            log.debug("readiness: database check failed: %s", exc)
            return {"database": DOWN, "vault": UNKNOWN, "workers": None}
        checks = {"database": OK, "vault": UNKNOWN, "workers": None}
        try:
            checks["vault"] = vault_state()
        except Exception as exc:
            log.warning("readiness: the vault state could not be read: %s", exc)
        try:
            checks["workers"] = worker_count_alive()
        except Exception as exc:
            log.warning("readiness: live workers could not be counted: %s", exc)
        return checks
    finally:
        connections.close_all()  # this thread's only


async def channel_layer_check(layer=None) -> str:
    layer = layer or get_channel_layer()
    if layer is None:
        return DOWN
    if not hasattr(layer, "connection"):
        return OK  # the in-memory layer lives in this process
    for index in range(layer.ring_size):  # every Redis host of the layer
        await layer.connection(index).ping()
    return OK


readiness = Readiness(
    blocking=database_checks,
    blocking_timeout={"database": "timeout", "vault": UNKNOWN, "workers": None},
    probes={"channel_layer": channel_layer_check},
    required=("database", "channel_layer"),
)

PATHS = ("/healthz", "/healthz/", "/readyz", "/readyz/")


def is_probe_path(path: str) -> bool:
    return path in PATHS


async def probe_app(scope, receive, send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        body = {"status": 405, "message": f"{scope['method']} is not allowed here; use GET"}
        return await _answer(send, scope, 405, body, extra=[(b"allow", b"GET, HEAD")])
    if scope["path"].startswith("/healthz"):
        return await _answer(send, scope, 200, {"status": "ok"})
    report = await readiness.report()
    await _answer(send, scope, 200 if report.ready else 503, report.as_json())


async def _answer(send, scope, status: int, body: dict, extra: list | None = None) -> None:
    content = json.dumps(body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"no-store"),
        (b"x-content-type-options", b"nosniff"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else content}
    )
