from django.contrib import admin

from .models import ApiKey, AuditEvent, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    # Keys are created (and shown once) on the Team page or with `createapikey`; the digest is
    # not something to read or edit here.
    list_display = ["name", "prefix", "team", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["team"]
    exclude = ["digest"]
    readonly_fields = ["prefix", "created_by", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "team", "action", "target"]
    list_filter = ["team", "action"]

    def has_change_permission(self, request, obj=None):
        return False  # an audit trail is read-only
