"""The inbox (/avisos/). Only ever request.user's notifications: anyone else's id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import selectors, services

PAGE_SIZE = 30


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.notifications_of(request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("pagina"))
    response = render(request, "notifications/inbox.html", {"page": page})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def detail(request: HttpRequest, public_id) -> HttpResponse:
    notification = selectors.notification_of(request.user, public_id)
    if notification is None:
        raise Http404
    services.mark_read(request.user, notification)
    response = render(request, "notifications/detail.html", {"notification": notification})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    n = services.mark_all_read(request.user)
    if n:
        messages.success(request, _("Marcaste todos tus avisos como leídos."))
    return redirect("notifications:inbox")
