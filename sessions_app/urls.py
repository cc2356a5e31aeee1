from django.urls import path

from . import views

app_name = "sessions_app"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("start/", views.session_start, name="start"),
    path("<uuid:session_id>/", views.session_detail, name="detail"),
    path("of-persona/<uuid:persona_id>/", views.sessions_of_persona, name="of_persona"),
    path("<uuid:session_id>/stop/", views.session_stop, name="stop"),
    path("<uuid:session_id>/control/<str:action>/", views.session_control, name="control"),
    path(
        "<uuid:session_id>/steps/<int:index>/screenshot/",
        views.step_screenshot,
        name="step_screenshot",
    ),
]
