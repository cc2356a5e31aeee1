def test_a_session_starts_and_stops_through_the_api(api):
    started = api.post("/sessions/start", json={"headless": True})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["status"] == "active"
    stopped = api.delete(f"/sessions/{body['session_id']}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"] == "closed"
