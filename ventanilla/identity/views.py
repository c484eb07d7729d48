from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/my_data.html", {"resident": request.user})


@login_required
def backoffice(request: HttpRequest) -> HttpResponse:
    if not request.user.is_official or not request.user.is_verified():
        raise PermissionDenied
    return render(request, "identity/backoffice.html")
