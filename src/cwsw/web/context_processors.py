"""Values every page template needs."""

from __future__ import annotations

from django.http import HttpRequest

SERVICE_NAME = "Children with a social worker"


def service(request: HttpRequest) -> dict[str, str]:
    return {"service_name": SERVICE_NAME}
