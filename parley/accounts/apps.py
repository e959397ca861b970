from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "parley.accounts"
    verbose_name = _("Reader accounts")

    def ready(self) -> None:
        from parley.core.readers import set_session_owner

        from .queries import session_owner

        set_session_owner(session_owner)
