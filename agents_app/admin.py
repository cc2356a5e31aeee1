from django.contrib import admin

from .models import AgentRun, AgentStep


@admin.register(AgentRun)
class AgentRunAdmin(admin.ModelAdmin):
    list_display = ("id", "team", "state", "success", "model", "created_at", "closed_at")
    list_filter = ("state", "success")
    readonly_fields = [f.name for f in AgentRun._meta.fields]


@admin.register(AgentStep)
class AgentStepAdmin(admin.ModelAdmin):
    list_display = ("run", "index", "success", "llm_ms", "loop_ms")
    readonly_fields = [f.name for f in AgentStep._meta.fields]
