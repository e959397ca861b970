from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "parley.articles"
    label = "articles"
