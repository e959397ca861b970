from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "parley.funding"
    verbose_name = _("Reader funding")

    def ready(self) -> None:
        from parley.comments.reads import set_supporter_lookup

        from . import donors, receipts  # noqa: F401  (connects the receivers)

        set_supporter_lookup(donors.supporter_accounts)
