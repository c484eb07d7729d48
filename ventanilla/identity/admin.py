from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from ventanilla.audit.services import record

from .models import LoginThrottle, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("department", "role", "granted_at", "granted_by")
    readonly_fields = ("granted_at", "granted_by")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Officials' accounts only. Residents' personal data is read only through the counter's
    `open_resident_record`, which records who, when and why for the resident to see; their
    consents and access history are theirs ("Mis datos"), not the admin's."""

    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser")
    list_filter = ("is_active", "is_staff")
    search_fields = ("email", "given_names", "first_surname")
    readonly_fields = ("public_id", "password", "date_joined", "last_login", "verified_at", "verified_by",
                       "verification_document", "email_confirmed_at")
    fieldsets = (
        (None, {"fields": ("public_id", "email", "curp", "given_names", "first_surname", "second_surname", "phone")}),
        (_("Cuenta"), {"fields": ("level", "email_confirmed_at", "verified_at", "verified_by",
                                   "verification_document", "date_joined", "last_login", "password")}),
        (_("Servidor público"), {"fields": ("is_official", "is_active", "is_staff", "is_superuser")}),
    )
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_official=True)

    def has_add_permission(self, request):
        return False  # officials are created in the back office (/oficina/servidores/nuevo/)

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: the audit log and access records keep their actor

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            record("identity.admin_change", actor=request.user, subject=obj, request=request,
                   data={"fields": sorted(form.changed_data)})

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        official = form.instance
        before = services.grants_of(official)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if obj.pk is None:
                obj.granted_by = request.user
            obj.save()
        formset.save_m2m()
        after = services.grants_of(official)
        services.record_role_changes(request.user, official, after - before, before - after, request=request)


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("scope", "failures", "locked_until", "last_failure_at")
    readonly_fields = ("scope", "key", "failures", "locked_until", "last_failure_at")
