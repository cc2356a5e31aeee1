"""`manage.py purge_session_data`: what ended sessions recorded goes after the retention period;
the sessions, their timelines and the audit log stay, and nothing of a live session is touched."""

import io
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from sessions_app import replays, retention, services
from sessions_app.models import BrowserSession, ReplayStatus, SessionEvent, SessionStatus, Step
from teams_app.models import AuditEvent
from teams_app.services import audit_record, team_create

from .helpers import start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PERISCOPE_SESSION_RETENTION_DAYS = 30
    return settings.MEDIA_ROOT


def jpeg(shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_session(team, *, status, ended_days_ago=None, created_days_ago=40, steps=2, replay=False):
    now = timezone.now()
    session = BrowserSession.objects.create(
        team=team, status=status, viewport_width=64, viewport_height=48
    )
    BrowserSession.objects.filter(pk=session.pk).update(
        created_at=now - timedelta(days=created_days_ago),
        closed_at=now - timedelta(days=ended_days_ago) if ended_days_ago is not None else None,
    )
    SessionEvent.objects.create(session=session, status=status, reason="test")
    for index in range(1, steps + 1):
        services.step_record(
            session_id=str(session.id),
            index=index,
            action={"type": "wait"},
            success=True,
            message="ok",
            url_before="https://a.test/",
            url_after="https://a.test/",
            duration_ms=1.0,
            screenshot=jpeg(index * 40),
        )
    session.refresh_from_db()
    if replay:
        frames = replays.replay_build(session=session)
        BrowserSession.objects.filter(pk=session.pk).update(
            replay_status=ReplayStatus.READY, replay_frames=frames
        )
        session.refresh_from_db()
    return session


def files_of(media: Path, session) -> list[str]:
    return sorted(
        str(path.relative_to(media))
        for folder in ("steps", "replays")
        if (media / folder / str(session.id)).exists()
        for path in (media / folder / str(session.id)).iterdir()
    )


@pytest.fixture
def sessions(team, django_user_model):
    charlie = django_user_model.objects.create_user(username="charlie", password="charlie-pass-123")
    other_team = team_create(name="Other", owner=charlie)
    audit_record(team=team, action="session.started", target="a session", data={})
    return {
        "old_closed": make_session(
            team, status=SessionStatus.CLOSED, ended_days_ago=40, replay=True
        ),
        "old_error": make_session(team, status=SessionStatus.ERROR, ended_days_ago=31, steps=1),
        "old_timed_out_other_team": make_session(
            other_team, status=SessionStatus.TIMED_OUT, ended_days_ago=90
        ),
        "recent_closed": make_session(
            team, status=SessionStatus.CLOSED, ended_days_ago=29, replay=True
        ),
        # Started long ago and still running (or stuck starting): never touched.
        "old_active": make_session(team, status=SessionStatus.ACTIVE),
        "old_starting": make_session(team, status=SessionStatus.STARTING, steps=1),
    }


DUE = ("old_closed", "old_error", "old_timed_out_other_team")
KEPT = ("recent_closed", "old_active", "old_starting")


def purge(*args) -> str:
    out = StringIO()
    call_command("purge_session_data", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_what_is_due_and_deletes_nothing(sessions, media):
    files = {name: files_of(media, s) for name, s in sessions.items()}
    mp4 = 1 if replays.shutil.which("ffmpeg") else 0
    assert len(files["old_closed"]) == 2 + 1 + mp4  # two screenshots and the replay
    out = purge("--dry-run")
    for name in DUE:
        assert f"Would delete from session {sessions[name].id}" in out
    for name in KEPT:
        assert str(sessions[name].id) not in out
    assert "(team Other, ended" in out and "as timed_out): 2 step(s), 2 file(s)" in out
    assert "Dry run: would delete 5 step(s)" in out and "of 3 session(s)" in out
    assert "Nothing was deleted" in out
    assert {name: files_of(media, s) for name, s in sessions.items()} == files
    assert Step.objects.count() == 10


def test_the_purge_deletes_steps_files_and_replays_of_sessions_ended_long_ago_only(sessions, media):
    kept_files = {name: files_of(media, sessions[name]) for name in KEPT}
    events, audit = SessionEvent.objects.count(), AuditEvent.objects.count()
    out = purge()
    assert "Deleted 5 step(s)" in out and "of 3 session(s)" in out
    for name in DUE:
        session = BrowserSession.objects.get(pk=sessions[name].pk)  # the row stays
        assert session.status == sessions[name].status
        assert Step.objects.filter(session=session).count() == 0
        assert files_of(media, session) == []
        assert not (media / "steps" / str(session.id)).exists()
        assert (session.replay_status, session.replay_frames) == (ReplayStatus.NONE, 0)
    for name in KEPT:
        assert files_of(media, sessions[name]) == kept_files[name]
    assert Step.objects.filter(session=sessions["recent_closed"]).count() == 2
    assert Step.objects.filter(session=sessions["old_active"]).count() == 2
    assert (
        BrowserSession.objects.get(pk=sessions["recent_closed"].pk).replay_status
        == ReplayStatus.READY
    )
    assert SessionEvent.objects.count() == events and AuditEvent.objects.count() == audit


def test_an_interrupted_purge_is_finished_by_the_next_run_and_a_third_does_nothing(sessions, media):
    # One batch of one session, then the process dies.
    first = next(retention.sessions_to_purge(batch_size=1))
    retention.session_data_purge(data=first[0])
    # Another dies after deleting a session's files but before its rows.
    second = retention.session_data(session=sessions["old_error"])
    for name in second.files:
        (media / name).unlink()
    out = purge("--batch-size", "1")
    assert "of 2 session(s)" in out
    assert Step.objects.filter(session__in=[sessions[n] for n in DUE]).count() == 0
    assert all(files_of(media, sessions[n]) == [] for n in DUE)
    assert "Deleted 0 step(s) and 0 file(s) (0 B) of 0 session(s)" in purge()


def test_a_replay_being_built_is_left_for_the_next_run(team, media):
    session = make_session(team, status=SessionStatus.CLOSED, ended_days_ago=40)
    BrowserSession.objects.filter(pk=session.pk).update(
        replay_status=ReplayStatus.BUILDING, replay_claimed_at=timezone.now()
    )
    assert "of 0 session(s)" in purge()
    assert Step.objects.filter(session=session).count() == 2
    BrowserSession.objects.filter(pk=session.pk).update(
        replay_claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert "of 1 session(s)" in purge()  # a build claimed an hour ago died with its process


def test_zero_days_keeps_everything(sessions, media, settings):
    settings.PERISCOPE_SESSION_RETENTION_DAYS = 0
    assert "kept forever" in purge()
    assert Step.objects.count() == 10
    assert files_of(media, sessions["old_closed"])


def test_data_of_a_live_session_is_never_purged(sessions, media):
    data = retention.session_data(session=sessions["old_active"])
    with pytest.raises(ValueError, match="active"):
        retention.session_data_purge(data=data)
    assert (
        files_of(media, sessions["old_active"])
        and Step.objects.filter(session=sessions["old_active"]).count() == 2
    )


def test_a_purged_session_still_answers_the_api_and_says_why_its_replay_is_gone(api, site, media):
    session_id = start(api)["session_id"]
    for page in ("login.html", "article.html"):
        api.post(
            f"/sessions/{session_id}/page/execute",
            json={"type": "goto", "url": f"{site.url}/{page}"},
        )
    assert api.delete(f"/sessions/{session_id}/stop").json()["status"] == "closed"
    assert api.get(f"/sessions/{session_id}/replay").status_code == 200
    assert len(api.get(f"/sessions/{session_id}").json()["steps"]) == 2

    BrowserSession.objects.filter(pk=session_id).update(
        closed_at=timezone.now() - timedelta(days=31)
    )
    assert "of 1 session(s)" in purge()

    status = api.get(f"/sessions/{session_id}")
    assert status.status_code == 200
    assert status.json()["status"] == "closed" and status.json()["steps"] == []
    replay = api.get(f"/sessions/{session_id}/replay")
    assert replay.status_code == 404
    assert "more than 30 days ago" in replay.json()["message"]
    assert not any((media / folder / session_id).exists() for folder in ("steps", "replays"))
