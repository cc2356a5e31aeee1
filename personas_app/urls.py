from django.urls import path

from . import views

app_name = "personas_app"
urlpatterns = [
    path("", views.persona_list, name="list"),
    path("create/", views.persona_create, name="create"),
    path("<uuid:persona_id>/", views.persona_detail, name="detail"),
    path("<uuid:persona_id>/delete/", views.persona_delete, name="delete"),
    path("<uuid:persona_id>/number/", views.persona_number, name="number"),
    path("<uuid:persona_id>/emails/<uuid:email_id>/", views.email_detail, name="email"),
]
