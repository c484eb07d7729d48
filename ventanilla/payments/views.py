"""Payment pages (the payer only: any other account gets a 404) and the provider webhook."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from . import barcode, cfdi, selectors, services
from .cards import CardInputError
from .forms import CardForm, InvoiceForm
from .models import OrderStatus, PaymentOrder
from .providers.base import CardInput, ProviderError, get_provider


def _own_order(request: HttpRequest, public_id) -> PaymentOrder:
    order = selectors.order_of(request.user, public_id)
    if order is None:
        raise Http404
    return order


def _pay_context(order: PaymentOrder, *, card_form: CardForm | None = None,
                 invoice_form: InvoiceForm | None = None, problem: str = "") -> dict:
    provider = get_provider()
    voucher = order.cash_vouchers.filter(provider=provider.name).first()
    return {
        "order": order,
        "barcode_svg": barcode.svg(order.reference, label=_("Código de barras de la línea de captura")),
        "payable": services.payable(order),
        "overdue": services.is_overdue(order),
        "card_form": card_form or CardForm(),
        "invoice_form": invoice_form or InvoiceForm(initial={
            "rfc": order.receptor_rfc, "name": order.receptor_name, "postal_code": order.receptor_postal_code,
            "regimen": order.receptor_regimen, "uso_cfdi": order.receptor_uso_cfdi,
        }),
        "voucher": voucher,
        "receipt": selectors.receipt_of(order),
        "provider": provider,
        "problem": problem,
        "public_rfc": cfdi.PUBLIC_RFC,
    }


@login_required
@require_GET
def my_orders(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/my_orders.html", {"orders": selectors.orders_of(request.user)})


@login_required
@require_GET
@never_cache
def pay(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    return render(request, "payments/pay.html", _pay_context(order))


@sensitive_post_parameters("number", "cvv", "token")
@login_required
@require_POST
def pay_card(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    form = CardForm(request.POST)
    form.is_valid()  # every field is optional text: the rules are in cards.validate_card
    data = form.cleaned_data
    card = CardInput(
        number=data.get("number", ""), holder_name=data.get("holder_name", ""), exp_month=data.get("exp_month", ""),
        exp_year=data.get("exp_year", ""), cvv=data.get("cvv", ""), token=data.get("token", ""),
        device_session_id=data.get("device_session_id", ""),
    )
    try:
        outcome = services.pay_by_card(order, card)
    except CardInputError as exc:
        bound = CardForm(request.POST)
        bound.is_valid()
        for field, message in exc.errors.items():
            bound.add_error(field, message)
        return render(request, "payments/pay.html", _pay_context(order, card_form=bound), status=400)
    except services.PaymentError as exc:
        return render(request, "payments/pay.html", _pay_context(order, problem=exc.message), status=409)
    except ProviderError as exc:
        return render(request, "payments/pay.html", _pay_context(order, problem=exc.message), status=502)
    if outcome.paid:
        return redirect("payments:paid", public_id=order.public_id)
    if outcome.credit is not None:  # charged, but the order could not take it (paid meanwhile...)
        return render(request, "payments/not_credited.html", {"order": order, "outcome": outcome.credit})
    return render(request, "payments/declined.html", {"order": order, "message": outcome.charge.message})


@login_required
@require_GET
@never_cache
def paid(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.REFUNDED):
        return redirect("payments:pay", public_id=order.public_id)
    return render(request, "payments/paid.html", {"order": order, "receipt": selectors.receipt_of(order)})


@login_required
def cash(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    provider = get_provider()
    if request.method == "POST":
        try:
            services.cash_voucher(order, provider=provider)
        except services.PaymentError as exc:
            return render(request, "payments/pay.html", _pay_context(order, problem=exc.message), status=409)
        except ProviderError as exc:
            return render(request, "payments/pay.html", _pay_context(order, problem=exc.message), status=502)
        return redirect("payments:cash", public_id=order.public_id)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    voucher = order.cash_vouchers.filter(provider=provider.name).first()
    if voucher is None:
        return redirect("payments:pay", public_id=order.public_id)
    return render(request, "payments/cash.html", {
        "order": order, "voucher": voucher,
        "barcode_svg": barcode.svg(voucher.barcode_value, label=_("Código de barras para pagar en efectivo")),
    })


@login_required
@require_POST
def invoice(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    form = InvoiceForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        services.set_invoice_data(
            order, rfc=data.get("rfc", ""), name=data.get("name", ""), postal_code=data.get("postal_code", ""),
            regimen=request.POST.get("regimen", ""), uso_cfdi=request.POST.get("uso_cfdi", ""),
        )
    except cfdi.InvoiceDataError as exc:
        bound = InvoiceForm(request.POST)
        bound.is_valid()
        for field, message in exc.errors.items():
            bound.add_error(field, message)
        return render(request, "payments/pay.html", _pay_context(order, invoice_form=bound), status=400)
    except services.PaymentError as exc:
        return render(request, "payments/pay.html", _pay_context(order, problem=exc.message), status=409)
    return redirect("payments:pay", public_id=order.public_id)


@login_required
@require_GET
def receipt(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    found = selectors.receipt_of(order)
    if found is None:
        raise Http404
    return render(request, "payments/receipt.html", {
        "order": order, "receipt": found, "payment": found.payment,
        "forma_pago": cfdi.FORMAS_PAGO.get(found.forma_pago, ""),
        "regimen_emisor": cfdi.REGIMENES.get(found.emisor_regimen, ""),
        "regimen_receptor": cfdi.REGIMENES.get(found.receptor_regimen, ""),
        "tipo_de_comprobante": cfdi.TIPOS_DE_COMPROBANTE.get(found.tipo_de_comprobante, ""),
        "exportacion": cfdi.EXPORTACIONES.get(found.exportacion, ""),
        "informacion_global": services.informacion_global_text(found),
        "uso": cfdi.USOS.get(found.uso_cfdi, ""),
        "paid_local": timezone.localtime(found.payment.paid_at),
    })


@login_required
@require_GET
def receipt_pdf(request: HttpRequest, public_id) -> HttpResponse:
    order = _own_order(request, public_id)
    found = selectors.receipt_of(order)
    if found is None:
        raise Http404
    document = services.receipt_document(found)
    if document is None:
        raise Http404
    response = HttpResponse(bytes(document.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="recibo-{found.folio}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """Providers POST here. Verified, stored once, credited, answered at once."""
    if request.method != "POST":
        return JsonResponse({"detail": _("Use POST.")}, status=405, headers={"Allow": "POST"})
    result = services.receive_webhook(provider, request.headers, request.body)
    return JsonResponse(result.body, status=result.status)
