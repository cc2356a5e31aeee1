from django import forms


class StartSessionForm(forms.Form):
    viewport_width = forms.IntegerField(min_value=200, max_value=3840, initial=1280)
    viewport_height = forms.IntegerField(min_value=200, max_value=2160, initial=1080)
    idle_timeout_minutes = forms.IntegerField(
        min_value=1, max_value=15, initial=3, label="Idle timeout (min)"
    )
    max_duration_minutes = forms.IntegerField(
        min_value=1, max_value=1440, initial=15, label="Max duration (min)"
    )
    user_agent = forms.CharField(max_length=512, required=False)
