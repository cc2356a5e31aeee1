"""One-time codes and verification links in realistic messages from several senders."""

import pytest

from personas_app.extract import find_codes, find_links, html_to_text
from personas_app.mail_parse import parse_email

from .helpers import message

CODE_CASES = [
    # SMS styles
    ("G-482913 is your Google verification code.", ["482913"]),
    ("Your Acme code is 482913. Don't share it. Help: +1 555 123 4567", ["482913"]),
    ("<#> 905114 is your WhatsApp code. Don't share it.\nabCdEf12345", ["905114"]),
    ("Use 3345 to verify your Lyft account.", ["3345"]),
    # Email styles
    ("Slack confirmation code: XKP-4QZ", ["XKP-4QZ"]),
    (
        "Microsoft account\nSecurity code: 8844771\nIf you didn't request this code, ignore this email.",
        ["8844771"],
    ),
    (
        "Hi Maya,\n\nYour verification code is:\n\n    731 204\n\nIt expires in 10 minutes.",
        ["731204"],
    ),
    ("Welcome!\n\n556677\n\nEnter the number above to finish signing up.", ["556677"]),
    ("Sign in to GitHub\nVerification code: 123456\nThis code expires at 10:45.", ["123456"]),
    ("Your one-time passcode is A7K9Q2 (valid 5 minutes)", ["A7K9Q2"]),
]
NOT_CODES = [
    "Your order #12345678 has shipped. Order confirmation attached.",
    "Use promo code 55555 for 10% off your next ride!",
    "Invoice 2024-0001: total 4999 EUR, due 2025-01-31.",
    "Our office: 1600 Main St, Springfield 94043. © 2025 Acme Inc.",
    "Meeting at 10:30 on 12/05, dial 555-1234 ext. 4321.",
    "Thanks for signing up! Price: $1299.00 per year.",
]


@pytest.mark.parametrize(("text", "codes"), CODE_CASES)
def test_codes_are_found(text, codes):
    assert find_codes(text) == codes


@pytest.mark.parametrize("text", NOT_CODES)
def test_numbers_that_are_not_codes_are_left_alone(text):
    assert find_codes(text) == []


def test_the_code_next_to_its_keyword_comes_first():
    text = (
        "Your sign-in code: 482913\n\nReference 771234 for support.\n"
        "Account security team, 2 Main St, code of conduct applies."
    )
    assert find_codes(text)[0] == "482913"


def test_the_subject_counts_too():
    assert find_codes("381044 is your Instagram code", "Someone tried to log in.") == ["381044"]


def test_links_verification_first_then_others_without_duplicates():
    text = (
        "Welcome! Visit https://acme.test/home, then confirm: https://acme.test/confirm/ab12.\n"
        "Unsubscribe: https://acme.test/unsubscribe?u=1 (or https://acme.test/home)"
    )
    links = find_links(text)
    assert [(link.url, link.verification) for link in links] == [
        ("https://acme.test/confirm/ab12", True),
        ("https://acme.test/home", False),
        ("https://acme.test/unsubscribe?u=1", False),
    ]


def test_anchor_text_marks_a_verification_link_and_other_schemes_are_ignored():
    html = (
        '<p>Hi</p><a href="https://t.acme.test/c/XYZ">Verify email address</a>'
        '<a href="mailto:help@acme.test">help</a><a href="https://acme.test/privacy">Privacy</a>'
        '<a href="https://t.acme.test/c/ABC">Reset your password</a>'
    )
    text, anchors = html_to_text(html)
    links = find_links(text, anchors)
    assert [(link.url, link.text, link.verification) for link in links] == [
        ("https://t.acme.test/c/XYZ", "Verify email address", True),
        ("https://t.acme.test/c/ABC", "Reset your password", True),
        ("https://acme.test/privacy", "Privacy", False),
    ]


def test_realistic_messages_end_to_end():
    github = message(
        to="a@b",
        subject="[GitHub] Please verify your device",
        sender="GitHub <noreply@github.com>",
        text="Hey maya!\n\nVerification code: 904571\n\nIf you did not attempt to sign in, change your password.",
    )
    notion = message(
        to="a@b",
        subject="Your Notion signup code is 7XQ2-PL9",
        sender="Notion Team <notify@makenotion.com>",
        text=None,
        html=(
            "<div><h1>Sign up</h1><p>Copy and paste this temporary sign-up code:</p>"
            "<code>7XQ2-PL9</code><p>Or <a href='https://www.notion.so/loginwithemail?token=abc'>"
            "click here to sign up with this magic link</a></p><footer>Notion Labs, 2300 Harrison St, "
            "San Francisco, CA 94110</footer></div>"
        ),
    )
    shop = message(
        to="a@b",
        subject="Confirm your subscription",
        sender="Shop <news@shop.test>",
        text=(
            "Please confirm your subscription: https://shop.test/newsletter/confirm?id=77\n"
            "Use code SPRING25 for 25% off. Order 123456789 ships Monday."
        ),
    )
    parsed = [parse_email(m.as_bytes()) for m in (github, notion, shop)]
    assert [p.codes for p in parsed] == [["904571"], ["7XQ2-PL9"], []]
    assert parsed[0].sender_email == "noreply@github.com" and parsed[0].sender_name == "GitHub"
    assert [link.url for link in parsed[1].links if link.verification] == [
        "https://www.notion.so/loginwithemail?token=abc"
    ]
    assert [link.url for link in parsed[2].links if link.verification] == [
        "https://shop.test/newsletter/confirm?id=77"
    ]
