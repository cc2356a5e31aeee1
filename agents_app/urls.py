from django.urls import path

from . import views

app_name = "agents_app"
urlpatterns = [
    path("", views.agent_list, name="list"),
    path("start/", views.agent_start, name="start"),
    path("<uuid:agent_id>/", views.agent_detail, name="detail"),
    path("<uuid:agent_id>/stop/", views.agent_stop, name="stop"),
    path("<uuid:agent_id>/decide/", views.agent_decide, name="decide"),
    path("<uuid:agent_id>/script.py", views.agent_script, name="script"),
]
