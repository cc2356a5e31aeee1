from tests.sessions_app.helpers import start, wait_until


def start_agent(api, session_id: str, **body) -> dict:
    response = api.post("/agents/start", json={"session_id": session_id, **body})
    assert response.status_code == 200, response.text
    return response.json()


def finished(api, agent_id: str, timeout: float = 45) -> dict:
    status = wait_until(
        lambda: (s := api.get(f"/agents/{agent_id}").json())["status"] == "closed" and s,
        timeout=timeout,
        interval=0.2,
    )
    assert status, api.get(f"/agents/{agent_id}").json()
    return status


def in_state(api, agent_id: str, state: str, timeout: float = 20) -> dict:
    status = wait_until(
        lambda: (s := api.get(f"/agents/{agent_id}").json())["state"] == state and s,
        timeout=timeout,
        interval=0.1,
    )
    assert status, f"agent never {state}: {api.get(f'/agents/{agent_id}').json()}"
    return status


__all__ = ["finished", "in_state", "start", "start_agent", "wait_until"]
