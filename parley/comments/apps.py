from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "parley.comments"
    label = "comments"
