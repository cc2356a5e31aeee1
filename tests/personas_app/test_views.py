"""Console pages: members create and delete, viewers only read, and other teams see nothing."""

import pytest
from django.test import Client

from personas_app import services
from personas_app.models import Persona
from teams_app.models import Membership, Role
from teams_app.services import team_create

pytestmark = pytest.mark.django_db(transaction=True)

RAW = (
    b"From: Acme <no-reply@acme.test>\r\nSubject: Verify\r\nContent-Type: text/html\r\n\r\n"
    b"<p>Code 482913</p><script>alert(1)</script><img src=x onerror=alert(1)>"
    b"<a href='https://acme.test/verify?t=1'>Verify</a>\r\n"
)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice(owner, team):
    return _client(owner)


@pytest.fixture
def viewer(team, django_user_model):
    user = django_user_model.objects.create_user(username="victor", password="victor-pass-123")
    Membership.objects.create(team=team, user=user, role=Role.VIEWER)
    return _client(user)


@pytest.fixture
def outsider(django_user_model):
    user = django_user_model.objects.create_user(username="charlie", password="charlie-pass-123")
    team_create(name="Other", owner=user)
    return _client(user)


@pytest.fixture
def persona(team):
    persona = services.persona_create(team=team)
    [email] = services.email_receive(
        envelope_sender="no-reply@acme.test", recipients=[persona.email], raw=RAW
    )
    return persona, email


def test_alice_creates_reads_and_deletes(alice, team):
    response = alice.post("/personas/create/", {})
    persona = Persona.objects.get(team=team)
    assert response.status_code == 302 and response["Location"] == f"/personas/{persona.pk}/"
    page = alice.get(f"/personas/{persona.pk}/").content.decode()
    assert persona.email in page and f'data-copy="{persona.email}"' in page
    assert 'hx-trigger="every 3s"' in page
    listing = alice.get("/personas/").content.decode()
    assert persona.full_name in listing and "Create persona" in listing

    assert alice.post(f"/personas/{persona.pk}/delete/").status_code == 302
    persona.refresh_from_db()
    assert not persona.is_active
    assert f'id="persona-{persona.pk}"' not in alice.get("/personas/").content.decode()
    assert f'id="persona-{persona.pk}"' in alice.get("/personas/?status=closed").content.decode()


def test_the_message_page_shows_sanitised_html_in_a_sandbox(alice, persona):
    persona, email = persona
    page = alice.get(f"/personas/{persona.pk}/emails/{email.pk}/").content.decode()
    assert '<iframe class="mail-frame"' in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert "allow-scripts" not in page and "allow-same-origin" not in page
    srcdoc = page.split('srcdoc="', 1)[1].split('"', 1)[0]
    assert "&lt;p&gt;Code 482913&lt;/p&gt;" in srcdoc  # escaped into the attribute
    assert "script" not in srcdoc and "onerror" not in srcdoc
    assert '<mark class="hl-code code-big">482913</mark>' in page
    assert 'href="https://acme.test/verify?t=1"' in page
    text = alice.get(f"/personas/{persona.pk}/emails/{email.pk}/?view=text").content.decode()
    assert '<pre class="mail-text">' in text and '<mark class="hl-code">482913</mark>' in text


def test_the_inbox_fragment_is_what_htmx_polls(alice, persona):
    persona, email = persona
    assert f'id="email-{email.pk}"' in alice.get(f"/personas/{persona.pk}/").content.decode()
    fragment = alice.get(f"/personas/{persona.pk}/?fragment=inbox", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="inbox"')
    assert "Verify" in html and "482913" in html and "<html" not in html
    assert "HX-Request" in fragment["Vary"]


def test_a_viewer_reads_but_cannot_create_or_delete(viewer, persona, team):
    persona, email = persona
    listing = viewer.get("/personas/").content.decode()
    assert persona.full_name in listing
    assert "Create a persona" not in listing and "btn-ghost-danger" not in listing
    assert viewer.get(f"/personas/{persona.pk}/").status_code == 200
    assert viewer.get(f"/personas/{persona.pk}/emails/{email.pk}/").status_code == 200
    assert viewer.post("/personas/create/", {}).status_code == 403
    assert viewer.post(f"/personas/{persona.pk}/delete/").status_code == 403
    assert viewer.post(f"/personas/{persona.pk}/number/", {"action": "assign"}).status_code == 403
    assert Persona.objects.filter(team=team).count() == 1
    persona.refresh_from_db()
    assert persona.is_active


def test_another_team_sees_nothing(outsider, persona):
    persona, email = persona
    assert persona.full_name not in outsider.get("/personas/").content.decode()
    for url in (
        f"/personas/{persona.pk}/",
        f"/personas/{persona.pk}/emails/{email.pk}/",
        f"/personas/{persona.pk}/?fragment=inbox",
    ):
        response = outsider.get(url)
        assert response.status_code == 404
        assert (
            persona.email not in response.content.decode()
            and "482913" not in response.content.decode()
        )
    assert outsider.post(f"/personas/{persona.pk}/delete/").status_code == 404
    assert (
        outsider.post(f"/personas/{persona.pk}/number/", {"action": "release"}).status_code == 404
    )
    persona.refresh_from_db()
    assert persona.is_active


def test_a_message_of_another_persona_is_not_found_under_mine(alice, persona, team):
    persona, email = persona
    mine = services.persona_create(team=team)
    assert alice.get(f"/personas/{mine.pk}/emails/{email.pk}/").status_code == 404


def test_pages_need_a_login(persona):
    persona, _ = persona
    response = Client().get(f"/personas/{persona.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
