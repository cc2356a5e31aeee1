"""Replays are built with bounded memory, whatever size and number of screenshots a session left."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from sessions_app import replays
from sessions_app.models import BrowserSession, SessionStatus, Step
from teams_app.services import team_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def session(django_user_model):
    owner = django_user_model.objects.create_user(username="alice", password="alice-pass-123")
    team = team_create(name="Acme", owner=owner)
    return BrowserSession.objects.create(
        team=team, status=SessionStatus.CLOSED, viewport_width=1280, viewport_height=1080
    )


def add_steps(session, count: int, size: tuple[int, int]) -> None:
    for index in range(1, count + 1):
        buffer = io.BytesIO()  # frames differ, as a session's do (the encoder merges equal ones)
        Image.new("RGB", size, ((index * 67) % 256, (index * 29) % 256, 200)).save(
            buffer, format="JPEG", quality=40
        )
        step = Step(session=session, index=index, action={"type": "wait"})
        step.screenshot.save(
            f"{session.id}/{index:05d}.jpg", ContentFile(buffer.getvalue()), save=False
        )
        step.save()


def built_animation(session) -> Image.Image:
    with default_storage.open(replays.replay_paths(session)["webp"], "rb") as handle:
        return Image.open(io.BytesIO(handle.read()))


def test_huge_screenshots_become_frames_no_larger_than_the_cap(session):
    add_steps(session, 3, (9999, 8000))
    assert replays.replay_build(session=session) == 3
    animation = built_animation(session)
    assert animation.n_frames == 3
    assert max(animation.size) <= replays.MAX_FRAME_SIDE


def test_many_frames_share_one_pixel_budget(session):
    add_steps(session, 120, (1280, 1080))
    replays.replay_build(session=session)
    width, height = built_animation(session).size
    assert 120 * width * height <= replays.WEBP_PIXEL_BUDGET
    assert width % 2 == 0 and height % 2 == 0  # H.264 needs even sides


def test_a_session_without_screenshots_has_nothing_to_build(session):
    assert replays.replay_request_build(session=session) is False
