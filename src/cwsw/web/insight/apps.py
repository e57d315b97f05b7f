from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "cwsw.web.insight"
    label = "insight"
    verbose_name = "Insight"
