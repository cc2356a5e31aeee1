"""Read-only admin views: changes go through the console or the API, which audit them."""

from django.contrib import admin

from .models import Vault, VaultAuditEvent, VaultCard, VaultCredential, VaultKey, VaultTeamSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Vault)
class VaultAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "created_at"]
    list_filter = ["team"]


@admin.register(VaultCredential)
class VaultCredentialAdmin(ReadOnlyAdmin):
    list_display = ["url", "login", "vault", "kek_id", "use_count", "last_used_at"]
    fields = [
        "vault",
        "url",
        "username",
        "email",
        "kek_id",
        "schema_version",
        "use_count",
        "last_used_at",
    ]


@admin.register(VaultCard)
class VaultCardAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "vault", "exp_month", "exp_year", "kek_id", "use_count"]
    fields = [
        "vault",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "allowed_origins",
        "kek_id",
        "use_count",
    ]


@admin.register(VaultTeamSettings)
class VaultTeamSettingsAdmin(ReadOnlyAdmin):
    list_display = ["team", "store_cvv", "updated_at"]


@admin.register(VaultKey)
class VaultKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "purpose", "wrap_count", "created_at", "retired_at"]


@admin.register(VaultAuditEvent)
class VaultAuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "team",
        "action",
        "outcome",
        "actor_label",
        "vault_name",
        "item_label",
    ]
    list_filter = ["team", "action", "outcome"]
    exclude = ["prev_mac", "mac"]
