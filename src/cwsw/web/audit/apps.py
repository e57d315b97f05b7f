from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cwsw.web.audit"
    label = "audit"
    verbose_name = "Audit"
