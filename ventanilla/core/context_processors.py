from django.conf import settings
from django.http import HttpRequest


def city(request: HttpRequest) -> dict:
    return {"CITY": settings.CITY}
