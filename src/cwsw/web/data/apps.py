from django.apps import AppConfig


class DataConfig(AppConfig):
    name = "cwsw.web.data"
    label = "data"
    verbose_name = "Data"
