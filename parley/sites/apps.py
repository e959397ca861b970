from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "parley.sites"
    label = "parley_sites"
    verbose_name = "Sites"
