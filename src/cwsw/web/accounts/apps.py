from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cwsw.web.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from cwsw.web.accounts import rules, signals

        assert rules.VIEW_CHILD
        signals.connect()
