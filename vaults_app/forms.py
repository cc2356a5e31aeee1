"""Console forms. Secret inputs are masked, never pre-filled, and kept out of browser autofill."""

from django import forms


def _masked(**attrs) -> forms.PasswordInput:
    return forms.PasswordInput(
        render_value=False,
        attrs={
            "autocomplete": "new-password",
            "spellcheck": "false",
            "autocapitalize": "off",
            **attrs,
        },
    )


class VaultNameForm(forms.Form):
    name = forms.CharField(max_length=100, label="Vault name")


class LoginForm(forms.Form):
    url = forms.CharField(
        max_length=2048, label="Site", widget=forms.TextInput(attrs={"placeholder": "example.com"})
    )
    login = forms.CharField(
        max_length=256,
        label="Username or email",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    password = forms.CharField(max_length=1024, widget=_masked(), strip=False)
    mfa_secret = forms.CharField(
        max_length=256, required=False, label="TOTP secret", widget=_masked()
    )

    # service field name -> form field name, to show a service's 422 on the right input
    SERVICE_FIELDS = {
        "url": "url",
        "email": "login",
        "username": "login",
        "password": "password",
        "mfa_secret": "mfa_secret",
    }

    def login_parts(self) -> tuple[str, str]:
        """(email, username): a value with an @ is taken as an email."""
        value = self.cleaned_data["login"].strip()
        return (value, "") if "@" in value else ("", value)


class EditLoginForm(LoginForm):
    password = forms.CharField(
        max_length=1024,
        required=False,
        widget=_masked(),
        strip=False,
        help_text="Leave empty to keep the stored password",
    )
    remove_mfa = forms.BooleanField(required=False, label="Remove the TOTP secret")


class CardForm(forms.Form):
    holder = forms.CharField(
        max_length=100, label="Name on card", widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    number = forms.CharField(
        max_length=40, label="Card number", widget=_masked(inputmode="numeric")
    )
    expiration = forms.CharField(
        max_length=10,
        label="Expiry (MM/YY)",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "MM/YY"}),
    )
    cvv = forms.CharField(
        max_length=4, required=False, label="CVV", widget=_masked(inputmode="numeric")
    )
    allowed_origins = forms.CharField(
        max_length=2000,
        required=False,
        label="Only on these sites",
        widget=forms.TextInput(attrs={"placeholder": "shop.example.com, https://pay.example.net"}),
    )

    SERVICE_FIELDS = {
        "card_holder_name": "holder",
        "card_number": "number",
        "card_full_expiration": "expiration",
        "card_cvv": "cvv",
        "allowed_origins": "allowed_origins",
    }


class RevealForm(forms.Form):
    password = forms.CharField(
        required=False,
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class VaultSettingsForm(forms.Form):
    store_cvv = forms.BooleanField(required=False, label="Store card CVVs")


class AuditFilterForm(forms.Form):
    vault = forms.CharField(required=False)
    item = forms.CharField(required=False)
    user = forms.CharField(required=False)
    session = forms.CharField(required=False, max_length=100)
