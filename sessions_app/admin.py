from django.contrib import admin

from .models import BrowserSession, BrowserWorker, SessionEvent


class SessionEventInline(admin.TabularInline):
    model = SessionEvent
    extra = 0
    readonly_fields = ["status", "reason", "created_at"]


@admin.register(BrowserSession)
class BrowserSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "team", "status", "created_at", "closed_at"]
    list_filter = ["status", "team"]
    inlines = [SessionEventInline]


@admin.register(BrowserWorker)
class BrowserWorkerAdmin(admin.ModelAdmin):
    list_display = ["hostname", "pid", "capacity", "sessions", "heartbeat_at", "stopped_at"]
