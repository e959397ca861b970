from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "parley.realtime"
    label = "realtime"
