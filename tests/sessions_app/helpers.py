import time

from browser.pool import chromium_pids


def start(api, **body):
    response = api.post("/sessions/start", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def in_page(live, session_id: str, expression: str):
    """Evaluate JavaScript in the session's real page, on the worker's loop."""
    return live.call(lambda: live.worker.pool.get(session_id).page.evaluate(expression))


def open_contexts(live) -> int:
    """Contexts that belong to sessions: all of them but the warm pool's (once it has refilled)."""
    pool = live.worker.pool
    wait_until(lambda: pool.stats().warm >= live.worker.warm_contexts, timeout=5)
    stats = pool.stats()
    return stats.contexts - stats.warm


def session_ids_on_worker(live) -> set[str]:
    return set(live.worker.pool.session_ids())


def wait_until(predicate, timeout: float = 10, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


__all__ = [
    "chromium_pids",
    "in_page",
    "open_contexts",
    "session_ids_on_worker",
    "start",
    "wait_until",
]
