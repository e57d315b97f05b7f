from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "cwsw.web.children"
    label = "children"
    verbose_name = "Children"
