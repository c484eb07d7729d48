"""Read-mostly admin: the catalogue editor (oficina/catalogo/) is the real tool, because only it
keeps versions, runs the legal check and writes the audit log."""

from django.contrib import admin

from ventanilla.core.admin import ReadOnlyAdmin

from .models import DocumentType, LifeEvent, Procedure, ProcedureVersion, Requirement, SearchSynonym


class RequirementInline(admin.TabularInline):
    model = Requirement
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Procedure)
class ProcedureAdmin(ReadOnlyAdmin):
    list_display = ("clave", "name", "department", "status", "published_at")
    list_filter = ("status", "kind", "department", "channel_online")
    search_fields = ("clave", "name")
    inlines = [RequirementInline]


@admin.register(ProcedureVersion)
class ProcedureVersionAdmin(ReadOnlyAdmin):
    list_display = ("procedure", "number", "author", "created_at", "note")
    readonly_fields = ("procedure", "number", "snapshot", "author", "created_at", "note")


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "held_by_city", "issuer")
    search_fields = ("code", "name")


@admin.register(LifeEvent)
class LifeEventAdmin(admin.ModelAdmin):
    list_display = ("order", "name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(SearchSynonym)
class SearchSynonymAdmin(admin.ModelAdmin):
    list_display = ("term", "expansion")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
