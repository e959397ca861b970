from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "parley.imports"
    verbose_name = "Imports and exports"
