from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "parley.notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from . import events  # noqa: F401  (connects the receivers)
