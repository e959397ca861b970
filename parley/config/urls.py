from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from parley.articles import views as articles
from parley.comments import views as comments
from parley.core import views as core
from parley.embed import views as embed
from parley.funding.webhooks import stripe_webhook

from .api import api
from .metrics import metrics

admin.site.site_header = admin.site.site_title = "Parley administration"
admin.site.index_title = "Newsroom"

urlpatterns = [
    path("", articles.front_page, name="front"),
    path("articles/<slug:slug>/", articles.article_page, name="article"),
    path("feed.atom", articles.ArticleFeed(), name="feed"),
    path("api/v1/", api.urls),
    path("fragments/thread", comments.thread_fragment_view, name="thread-fragment"),
    path("comments/post", comments.post_comment_form, name="post-comment"),
    path("avatars/<str:digest>.svg", core.avatar, name="avatar"),
    path("healthz", core.healthz, name="healthz"),
    path("readyz", core.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("embed.js", embed.embed_js, name="embed-js"),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("admin/", admin.site.urls),
    path("moderation/", include("parley.moderation.urls")),
    path("notifications/", include("parley.notifications.urls")),
    path("accounts/", include("parley.accounts.urls")),
    path("support/", include("parley.funding.urls")),
    # Uploaded images: a small install has no separate file server in front of it.
    re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
