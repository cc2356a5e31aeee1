"""The console's "New agent" form. The choices (sessions, vaults, personas) are the team's own,
given by the view, so a value from another team is not a valid choice."""

import json

from django import forms
from jsonschema import SchemaError
from jsonschema.validators import validator_for

MAX_SCHEMA_CHARS = 20_000
MAX_TASK_CHARS = 4_000


class NewAgentForm(forms.Form):
    task = forms.CharField(
        max_length=MAX_TASK_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Log in and tell me the balance of the account"}
        ),
    )
    url = forms.CharField(
        max_length=2048,
        required=False,
        label="Start URL",
        widget=forms.TextInput(
            attrs={
                "placeholder": "https://example.com/login",
                "inputmode": "url",
                "spellcheck": "false",
                "autocomplete": "off",
            }
        ),
    )
    session = forms.ChoiceField(required=False, label="Session")
    vault = forms.ChoiceField(required=False, label="Vault")
    persona = forms.ChoiceField(required=False, label="Persona")
    max_steps = forms.IntegerField(min_value=1, max_value=150, initial=20, label="Max steps")
    use_vision = forms.BooleanField(
        required=False, initial=True, label="Show the model screenshots"
    )
    response_format = forms.CharField(
        required=False,
        max_length=MAX_SCHEMA_CHARS,
        label="Response schema (JSON Schema, optional)",
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "spellcheck": "false",
                "class": "mono",
                "placeholder": '{"type": "object", "properties": {"balance": {"type": "string"}}}',
            }
        ),
    )

    def __init__(self, *args, sessions=(), vaults=(), personas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", "A new session")] + [
            (str(s.id), f"{str(s.id)[:8]} · started {s.created_at:%b %-d, %H:%M}") for s in sessions
        ]
        self.fields["vault"].choices = [("", "No vault")] + [(str(v.id), v.name) for v in vaults]
        self.fields["persona"].choices = [("", "No persona")] + [
            (str(p.id), f"{p.full_name} · {p.email}") for p in personas
        ]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if url and not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(
                "Give an address that starts with http:// or https://, or leave it empty"
            )
        return url

    def clean_response_format(self) -> dict | None:
        text = self.cleaned_data["response_format"].strip()
        if not text:
            return None
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"This is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(schema, dict):
            raise forms.ValidationError(
                'A JSON Schema is an object, such as {"type": "object", "properties": {...}}'
            )
        try:
            validator_for(schema).check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(part) for part in exc.path)
            raise forms.ValidationError(
                f"This is not a valid JSON Schema: {exc.message}"
                + (f" (at {where})" if where else "")
            ) from None
        return schema
