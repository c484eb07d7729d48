"""The payments ledger.

* `PaymentOrder`: what a resident owes (one línea de captura each).
* `Payment`: money a provider reported for an order. At most one payment per order is *credited*
  (a partial unique index); a payment that cannot be credited (wrong amount, cancelled or already
  paid order) is kept with its `anomaly` so a refund can follow.
* `ProviderEvent`: the webhook inbox, one row per provider event (unique per provider).
* `Refund`, `Receipt` (with the data of a CFDI 4.0), `CashVoucher` (a store/bank reference a
  provider issued for an order) and `SandboxTransaction` (the sandbox processor's own ledger).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .money import format_pesos


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pendiente de pago")
    PAID = "paid", _("Pagada")
    CANCELLED = "cancelled", _("Cancelada")
    REFUNDED = "refunded", _("Reembolsada")
    EXPIRED = "expired", _("Vencida")


class PaymentOrder(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Set right after the insert (its folio is the primary key); unique, 20 digits.
    reference = models.CharField(_("línea de captura"), max_length=20, unique=True, null=True, editable=False)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payment_orders",
        verbose_name=_("quien paga"),
    )
    concept = models.CharField(_("concepto"), max_length=300)
    amount_centavos = models.BigIntegerField(_("importe (centavos)"))
    due_date = models.DateField(_("fecha límite de pago"))
    status = models.CharField(
        _("estado"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True
    )
    source_ref = models.CharField(_("origen"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("creada"), default=timezone.now)
    paid_at = models.DateTimeField(_("pagada el"), null=True, blank=True)
    paid_late = models.BooleanField(_("pagada después de la fecha límite"), default=False)
    cancelled_at = models.DateTimeField(_("cancelada el"), null=True, blank=True)
    cancel_reason = models.CharField(_("motivo de cancelación"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Attempts sent to the provider; makes each provider order id unique (Openpay's order_id).
    provider_attempts = models.PositiveIntegerField(default=0)
    # Invoice (CFDI) data the payer may give; empty = público en general.
    receptor_rfc = models.CharField(_("RFC"), max_length=13, blank=True)
    receptor_name = models.CharField(_("nombre o razón social"), max_length=254, blank=True)
    receptor_postal_code = models.CharField(_("código postal fiscal"), max_length=5, blank=True)
    receptor_regimen = models.CharField(_("régimen fiscal"), max_length=3, blank=True)
    receptor_uso_cfdi = models.CharField(_("uso del CFDI"), max_length=4, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("orden de pago")
        verbose_name_plural = _("órdenes de pago")
        constraints = [
            models.CheckConstraint(condition=Q(amount_centavos__gt=0), name="paymentorder_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="paymentorder_paid_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference or '—'} · {format_pesos(self.amount_centavos)} · {self.concept}"

    @property
    def amount_display(self) -> str:
        return format_pesos(self.amount_centavos)

    @property
    def status_text(self) -> str:
        """The status as a resident reads it; says when the money arrived after the due date."""
        if self.status == OrderStatus.PAID and self.paid_late:
            return str(_("Pagada después de la fecha límite"))
        return str(self.get_status_display())

    @property
    def reference_grouped(self) -> str:
        """'35 0000000001 0123 45 67' is easier to copy by hand."""
        ref = self.reference or ""
        return " ".join([ref[:2], ref[2:12], ref[12:16], ref[16:18], ref[18:20]]) if len(ref) == 20 else ref


class Method(models.TextChoices):
    CARD = "card", _("Tarjeta")
    CASH = "cash", _("Efectivo")
    BANK = "bank", _("Banco (transferencia o ventanilla)")


class Anomaly(models.TextChoices):
    NONE = "", _("Ninguna")
    AMOUNT_MISMATCH = "amount_mismatch", _("El importe no coincide con la orden")
    ORDER_CANCELLED = "order_cancelled", _("La orden estaba cancelada: hay que reembolsar")
    ALREADY_PAID = "already_paid", _("La orden ya estaba pagada: hay que reembolsar")


class Payment(models.Model):
    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(_("proveedor"), max_length=32)
    provider_payment_id = models.CharField(_("identificador del proveedor"), max_length=100)
    method = models.CharField(_("forma"), max_length=8, choices=Method.choices)
    funding = models.CharField(_("tipo de tarjeta"), max_length=8, blank=True)  # "credit" | "debit" | ""
    amount_centavos = models.BigIntegerField(_("importe (centavos)"))
    paid_at = models.DateTimeField(_("pagado el"))
    received_at = models.DateTimeField(_("recibido"), default=timezone.now)
    credited_at = models.DateTimeField(_("acreditado el"), null=True, blank=True)
    late = models.BooleanField(_("después de la fecha límite"), default=False)
    anomaly = models.CharField(_("anomalía"), max_length=20, choices=Anomaly.choices, blank=True, default="")

    class Meta:
        ordering = ["-paid_at", "-pk"]
        verbose_name = _("pago")
        verbose_name_plural = _("pagos")
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_payment_id"], name="payment_unique_provider_id"),
            # The last line of defence against crediting an order twice.
            models.UniqueConstraint(
                fields=["order"], condition=Q(credited_at__isnull=False), name="payment_one_credited_per_order"
            ),
            models.CheckConstraint(condition=Q(amount_centavos__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(credited_at__isnull=True) | Q(anomaly=""), name="payment_credited_has_no_anomaly"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_payment_id} {format_pesos(self.amount_centavos)}"

    @property
    def credited(self) -> bool:
        return self.credited_at is not None

    @property
    def amount_display(self) -> str:
        return format_pesos(self.amount_centavos)


class ProviderEvent(models.Model):
    """The webhook inbox. Verified events are unique per (provider, event_id); rejected ones are
    kept too, with an empty event id, so a forgery can never occupy a real event's id."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    signature_valid = models.BooleanField(default=False)
    payload = models.JSONField(default=dict)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("aviso del proveedor")
        verbose_name_plural = _("avisos de proveedores")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], condition=Q(signature_valid=True) & ~Q(event_id=""),
                name="providerevent_unique_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id or '(rechazado)'}"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Solicitado")
    COMPLETED = "completed", _("Reembolsado")
    FAILED = "failed", _("Falló")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_centavos = models.BigIntegerField(_("importe (centavos)"))
    reason = models.CharField(_("motivo"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    provider_refund_id = models.CharField(max_length=100, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("reembolso")
        verbose_name_plural = _("reembolsos")
        constraints = [
            models.CheckConstraint(condition=Q(amount_centavos__gt=0), name="refund_amount_positive"),
        ]


class Receipt(models.Model):
    """The official receipt of a credited payment, with the data of a CFDI 4.0 (Anexo 20 of the
    Resolución Miscelánea Fiscal). The PDF is a signed `documents` "receipt", issued lazily."""

    folio = models.CharField(_("folio"), max_length=32, unique=True)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    issued_at = models.DateTimeField(_("fecha"), default=timezone.now)
    emisor_rfc = models.CharField(max_length=13)
    emisor_nombre = models.CharField(max_length=254)
    emisor_regimen = models.CharField(max_length=3)
    lugar_expedicion = models.CharField(max_length=5)
    receptor_rfc = models.CharField(max_length=13)
    receptor_nombre = models.CharField(max_length=254)
    receptor_regimen = models.CharField(max_length=3)
    receptor_domicilio_fiscal = models.CharField(max_length=5)
    uso_cfdi = models.CharField(max_length=4)
    forma_pago = models.CharField(max_length=2)
    metodo_pago = models.CharField(max_length=3, default="PUE")
    clave_prod_serv = models.CharField(max_length=8)
    clave_unidad = models.CharField(max_length=3)
    cantidad = models.PositiveIntegerField(default=1)
    descripcion = models.CharField(max_length=300)
    importe_centavos = models.BigIntegerField()
    moneda = models.CharField(max_length=3, default="MXN")
    objeto_imp = models.CharField(max_length=2, default="01")
    tipo_de_comprobante = models.CharField(max_length=1, default="I")  # c_TipoDeComprobante: Ingreso
    exportacion = models.CharField(max_length=2, default="01")  # c_Exportacion: No aplica
    # InformacionGlobal (público en general only; empty / null otherwise): see payments/cfdi.py.
    informacion_global_periodicidad = models.CharField(max_length=2, blank=True)
    informacion_global_meses = models.CharField(max_length=2, blank=True)
    informacion_global_anio = models.PositiveSmallIntegerField(null=True, blank=True)
    document_id = models.UUIDField(null=True, blank=True)  # documents.IssuedDocument.public_id

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("recibo")
        verbose_name_plural = _("recibos")

    def __str__(self) -> str:
        return self.folio

    @property
    def importe_display(self) -> str:
        return format_pesos(self.importe_centavos)


class CashVoucher(models.Model):
    """A reference a provider issued so the order can be paid in cash at a store or bank."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="cash_vouchers")
    provider = models.CharField(max_length=32)
    provider_payment_id = models.CharField(max_length=100)
    reference = models.CharField(max_length=64)
    barcode_value = models.CharField(max_length=64)
    instructions = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "provider"], name="cashvoucher_one_per_provider"),
        ]


class SandboxTransaction(models.Model):
    """The sandbox processor's own ledger: what `statement()` reads, as a real provider's would."""

    class Kind(models.TextChoices):
        CARD = "card", "card"
        CASH = "cash", "cash"
        REFUND = "refund", "refund"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "succeeded"  # card charge approved, refund done
        DECLINED = "declined", "declined"
        PENDING = "pending", "pending"  # cash reference issued, not paid yet
        PAID = "paid", "paid"  # cash reference paid at a store or bank

    transaction_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    order_reference = models.CharField(max_length=20, db_index=True)
    amount_centavos = models.BigIntegerField()
    card_brand = models.CharField(max_length=16, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    funding = models.CharField(max_length=8, blank=True)
    decline_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    refund_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    webhook_event_id = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
