from django import forms


class PersonaCreateForm(forms.Form):
    with_phone_number = forms.BooleanField(required=False, label="With a phone number")
