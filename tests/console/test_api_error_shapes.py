"""The pieces that turn a failure into the API's error shape, without a server."""

import pytest
from django.test import RequestFactory
from ninja.errors import ValidationError

from console.api import _validation_errors, _validation_message
from console.api_http import error_json
from console.api_rendering import MAX_DEPTH, FastJSONParser, InvalidJSON
from core.errors import UnsupportedMediaType


def parse(body: bytes, content_type: str = "application/json"):
    return FastJSONParser().parse_body(
        RequestFactory().post("/api/x", data=body, content_type=content_type)
    )


def test_the_parser_takes_json_objects_only():
    assert parse(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    with pytest.raises(InvalidJSON, match="not list"):
        parse(b"[1, 2]")
    with pytest.raises(InvalidJSON, match="invalid JSON"):
        parse(b"{nope")
    with pytest.raises(UnsupportedMediaType, match="application/json"):
        parse(b"{}", "text/plain")
    assert parse(b"{}", "application/merge-patch+json") == {}


def test_the_parser_refuses_deep_nesting_at_the_limit():
    def nested(depth: int) -> bytes:
        return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)

    assert parse(nested(MAX_DEPTH))
    with pytest.raises(InvalidJSON, match="nested more than"):
        parse(nested(MAX_DEPTH + 1))


def test_an_unknown_action_type_is_reported_on_the_type_field():
    errors = _validation_errors(
        ValidationError(
            [
                {
                    "loc": ("body", "action"),
                    "msg": "Input tag 'teleport' found using 'type' does not match",
                    "type": "union_tag_invalid",
                },
                {
                    "loc": ("body", "action", "fill", "value"),
                    "msg": "Field required",
                    "type": "missing",
                },
            ]
        )
    )
    assert [e["loc"] for e in errors] == [["body", "type"], ["body", "value"]]
    assert _validation_message(errors).startswith("Invalid request: type: Input tag")


def test_each_api_has_its_own_error_shape():
    assert (
        error_json("/api/sessions/x", 404, "gone")
        == b'{"status": 404, "message": "gone", "detail": "gone"}'
    )
    assert error_json("/api/v1/browser/sessions/x", 404, "gone") == b'{"detail": "gone"}'
