from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    # "sessions" is taken by django.contrib.sessions.
    label = "sessions_app"
    verbose_name = "Browser sessions"
