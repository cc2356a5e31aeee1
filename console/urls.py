from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from sessions_app.views import replay_file, viewer, viewer_control

from .api import api, api_v1

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sessions_app:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sessions/", include("sessions_app.urls")),
    path("agents/", include("agents_app.urls")),
    path("team/", include("teams_app.urls")),
    path("personas/", include("personas_app.urls")),
    path("vaults/", include("vaults_app.urls")),
    path("admin/", admin.site.urls),
    path("replays/<str:token>/", replay_file, name="replay_file"),
    path("viewer/<str:token>/", viewer, name="viewer"),
    path("viewer/<str:token>/control/<str:action>/", viewer_control, name="viewer_control"),
    # v1 first: /api/ would otherwise claim /api/v1/...
    path("api/v1/", api_v1.urls),
    path("api/", api.urls),
]
