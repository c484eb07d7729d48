from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Consent, LoginThrottle, Membership, PersonalDataAccess, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    fields = ("department", "role", "granted_at", "granted_by")
    readonly_fields = ("granted_at", "granted_by")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("email", "full_name", "curp", "level", "is_official", "is_active")
    list_filter = ("is_official", "level", "is_active")
    search_fields = ("email", "curp", "given_names", "first_surname")
    readonly_fields = ("public_id", "password", "date_joined", "last_login", "verified_at", "verified_by",
                       "verification_document", "email_confirmed_at")
    fieldsets = (
        (None, {"fields": ("public_id", "email", "curp", "given_names", "first_surname", "second_surname", "phone")}),
        (_("Cuenta"), {"fields": ("level", "email_confirmed_at", "verified_at", "verified_by",
                                   "verification_document", "date_joined", "last_login", "password")}),
        (_("Servidor público"), {"fields": ("is_official", "is_active", "is_staff", "is_superuser")}),
    )
    inlines = [MembershipInline]

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


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    list_display = ("accessed_at", "official", "resident", "department", "purpose")
    readonly_fields = [f.name for f in PersonalDataAccess._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("resident", "grantee_label", "scope", "granted_at", "revoked_at")
    readonly_fields = ("resident", "grantee_kind", "grantee_label", "department", "application", "scope",
                       "purpose", "granted_at", "revoked_at")


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("scope", "failures", "locked_until", "last_failure_at")
    readonly_fields = ("scope", "key", "failures", "locked_until", "last_failure_at")
