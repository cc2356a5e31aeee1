from django.urls import path

from . import views

app_name = "vaults_app"
urlpatterns = [
    path("", views.vault_list, name="list"),
    path("create/", views.vault_create, name="create"),
    path("settings/", views.settings_update, name="settings"),
    path("audit/", views.audit_log, name="audit"),
    path("<uuid:vault_id>/", views.vault_detail, name="detail"),
    path("<uuid:vault_id>/rename/", views.vault_rename, name="rename"),
    path("<uuid:vault_id>/delete/", views.vault_delete, name="delete"),
    path("<uuid:vault_id>/logins/add/", views.login_add, name="login_add"),
    path("<uuid:vault_id>/logins/<uuid:item_id>/edit/", views.login_edit, name="login_edit"),
    path("<uuid:vault_id>/logins/<uuid:item_id>/delete/", views.login_delete, name="login_delete"),
    path(
        "<uuid:vault_id>/logins/<uuid:item_id>/reveal/<str:kind>/",
        views.reveal_view,
        name="login_reveal",
    ),
    path("<uuid:vault_id>/card/", views.card_set, name="card_set"),
    path("<uuid:vault_id>/card/delete/", views.card_delete, name="card_delete"),
    path("<uuid:vault_id>/card/reveal/", views.reveal_view, {"kind": "card"}, name="card_reveal"),
]
