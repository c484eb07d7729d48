"""The municipality's departments (dependencias) and the offices where residents are attended.

Every other module refers to these: procedures name a responsible department and its offices,
officials belong to departments, datasets are published by them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    slug = models.SlugField(_("clave"), max_length=64, unique=True)
    name = models.CharField(_("nombre"), max_length=200, unique=True)
    acronym = models.CharField(_("siglas"), max_length=20, blank=True)
    description = models.TextField(_("descripción"), blank=True)
    email = models.EmailField(_("correo"), blank=True)
    phone = models.CharField(_("teléfono"), max_length=40, blank=True)
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("dependencia")
        verbose_name_plural = _("dependencias")

    def __str__(self) -> str:
        return self.name


class Office(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="offices", verbose_name=_("dependencia"))
    name = models.CharField(_("nombre"), max_length=200)
    address = models.CharField(_("domicilio"), max_length=300)
    hours = models.CharField(_("horario de atención"), max_length=200)
    phone = models.CharField(_("teléfono"), max_length=40, blank=True)
    email = models.EmailField(_("correo"), blank=True)
    latitude = models.DecimalField(_("latitud"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitud"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["department__name", "name"]
        verbose_name = _("oficina")
        verbose_name_plural = _("oficinas")
        constraints = [models.UniqueConstraint(fields=["department", "name"], name="office_unique_name_per_department")]

    def __str__(self) -> str:
        return f"{self.name} ({self.department.acronym or self.department.name})"
