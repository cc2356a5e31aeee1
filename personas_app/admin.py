from django.contrib import admin

from .models import InboundEmail, InboundSms, Persona


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "first_name",
        "last_name",
        "team",
        "phone_number",
        "status",
        "created_at",
    ]
    list_filter = ["status", "team"]
    search_fields = ["email", "phone_number"]
    readonly_fields = ["email", "created_at", "closed_at", "created_by", "created_by_key"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "sender_email", "recipient", "created_at", "read_at"]
    search_fields = ["recipient", "sender_email", "subject"]
    # The HTML is shown escaped by the admin; it is sanitised anyway.
    readonly_fields = [f.name for f in InboundEmail._meta.fields]


@admin.register(InboundSms)
class InboundSmsAdmin(admin.ModelAdmin):
    list_display = ["sender", "to_number", "created_at", "read_at"]
    readonly_fields = [f.name for f in InboundSms._meta.fields]
